import type { DbHandle } from "@raptscallions/db";
import {
  addClassMember,
  addGroupMember,
  makeAssignment,
  makeExtraction,
  makeMessage,
  makeModel,
  makeSchoolScene,
  makeRun,
  makeSession,
  makeSubmission,
  makeTool,
  makeUser,
  unique,
} from "@raptscallions/db/testing";
import type { Hono } from "hono";
import { rosterConnections, rosterRuns } from "@raptscallions/db";
import { png, rawMultipart } from "../themes-fixtures.ts";
import { smallCsvBundle } from "./csv-bundle.ts";
import { pinDevModel } from "./ai.ts";
import { authHeader } from "./auth.ts";

export type Actor = "admin" | "teacher" | "student";

/** A valid call of one REST operation by a caller who may make it. */
export interface Fixture {
  as: Actor;
  params: Record<string, string>;
  /** Query parameters the operation reads, with valid values. */
  query?: Record<string, string>;
  body?: Record<string, unknown>;
  multipart?: boolean;
  /** A raw (non-JSON) body, e.g. a zip upload. */
  raw?: { bytes: Uint8Array; type: string };
  /** false: the fixture is not sent as is (it would change what other test files see). */
  baseline?: false;
}

/** A theme image upload as multipart/form-data, with the filename parameter given as is. */
export const upload = (fileName: string) =>
  rawMultipart([{ headers: `Content-Disposition: form-data; name="file"; filename${fileName}\r\nContent-Type: image/png`, body: png(4, 4) }]);

/**
 * One valid call for every REST operation, keyed `METHOD /openapi/{path}`, on a fresh school
 * scene: the table the hostile-input sweep perturbs and the OpenAPI test replays to check that
 * every success status an operation answers is documented.
 */
export async function makeRestFixtures(db: DbHandle, app: Pick<Hono, "request">) {
  const headersOf: Record<Actor, Record<string, string>> = { admin: {}, teacher: {}, student: {} };
  const s = await makeSchoolScene(db.db);
  const admin = await makeUser(db.db, { isSystemAdmin: true });
  headersOf.admin = await authHeader(admin);
  headersOf.teacher = await authHeader(s.teacher);
  headersOf.student = await authHeader(s.student);
  const model = await makeModel(db.db);
  // The department answers AI calls with a dev model of its own (nearest settings win over the
  // school's, which a fixture below points at a model no upstream serves), so calls that need an
  // answer in the request (a session summary) succeed.
  await pinDevModel(db.db, s.department.id);
  const assignment = await makeAssignment(db.db, s.cls.id, s.tool.id);
  const session = await makeSession(db.db, { toolId: s.tool.id, studentId: s.student.id, groupId: s.department.id, classId: s.cls.id, assignmentId: assignment.id });
  await makeMessage(db.db, { sessionId: session.id, seq: 1 });
  // Sessions of their own for chatting and for ending, so no operation's state blocks another's.
  const chat = await makeSession(db.db, { toolId: s.tool.id, studentId: s.student.id, groupId: s.department.id, classId: s.cls.id });
  const ending = await makeSession(db.db, { toolId: s.tool.id, studentId: s.student.id, groupId: s.department.id, classId: s.cls.id });
  const productTool = await makeTool(db.db, s.school.id, {
    kind: "product",
    createdBy: s.teacher.id,
    definition: { form: [{ type: "text", name: "topic", label: "Topic", required: true, maxLength: 200 }], promptTemplate: "Write a quiz about {{topic}}." },
  });
  const run = await makeRun(db.db, { toolId: productTool.id, userId: s.teacher.id, groupId: s.department.id, classId: s.cls.id, state: "complete", output: "done" });
  const submission = await makeSubmission(db.db, { assignmentId: assignment.id, studentId: s.student.id, sessionId: session.id });
  const alert = await makeExtraction(db.db, { sessionId: session.id, classId: s.cls.id, groupId: s.department.id });
  const form = upload('="logo.png"');
  const uploaded = await app.request(`/api/groups/${s.school.id}/theme/assets`, {
    method: "POST",
    headers: { ...headersOf.admin, "content-type": form.contentType },
    body: form.body as BodyInit,
  });
  const asset = ((await uploaded.json()) as { asset: { id: string } }).asset;
  const [patched, removed, classLeaver, newMember, newStudent] = [
    await makeUser(db.db),
    await makeUser(db.db),
    await makeUser(db.db),
    await makeUser(db.db),
    await makeUser(db.db),
  ];
  await addGroupMember(db.db, s.school.id, patched.id, "member");
  await addGroupMember(db.db, s.school.id, removed.id, "member");
  await addClassMember(db.db, s.cls.id, classLeaver.id, "student");
  // Enrolment needs someone already in the district.
  await addGroupMember(db.db, s.school.id, newStudent.id, "member");
  // A student of their own to erase, so no other operation loses its student.
  const erasable = await makeUser(db.db);
  await addClassMember(db.db, s.cls.id, erasable.id, "student");

  const [csvConnection, restConnection, doomedConnection] = await db.db
    .insert(rosterConnections)
    .values([
      { groupId: s.school.id, name: "Bundles", kind: "csv" as const },
      { groupId: s.school.id, name: "SIS", kind: "oneroster_rest" as const, baseUrl: "https://sis.invalid/", tokenUrl: "https://sis.invalid/token", clientId: "c" },
      { groupId: s.school.id, name: "Old", kind: "csv" as const },
    ])
    .returning();
  if (!csvConnection || !restConnection || !doomedConnection) throw new Error("no roster connections");
  const [rosterRun] = await db.db.insert(rosterRuns).values({ connectionId: csvConnection.id, trigger: "upload", status: "succeeded" }).returning();
  const rosterTag = unique("bundle").slice(-8);

  const page = { limit: "10" };
  const schedule = { availableAt: "2026-01-01T00:00:00Z", dueAt: "2026-06-01T00:00:00+02:00", closeAt: "2026-07-01T00:00:00Z" };
  const assignmentBody = {
    title: "Photosynthesis",
    instructions: "Explain it.",
    ...schedule,
    maxAttempts: 3,
    timeLimitMinutes: 60,
    settings: { rubric: { levels: ["good", "great"] }, note: "n" },
  };
  const definition = { systemPrompt: "Be kind.", model: model.id, temperature: 0.5, maxOutputTokens: 100, modules: { "pii-filter": true } };
  const aiSettings = { defaultModel: model.id, requestsPerMinute: 10, requestsPerHour: 100, tokensPerDay: 10_000, monthlyBudgetUsd: 50, alertThreshold: 0.5 };
  const g = { id: s.school.id };
  const fixtures: Record<string, Fixture> = {
    "GET /api/privacy/students": { as: "admin", params: {}, query: { ...page, q: "a" } },
    "GET /api/privacy/students/{id}": { as: "admin", params: { id: s.student.id } },
    "GET /api/privacy/students/{id}/export": { as: "admin", params: { id: s.student.id } },
    "POST /api/privacy/students/{id}/erase": { as: "admin", params: { id: erasable.id } },
    "GET /api/ai/models": { as: "admin", params: {}, query: { ...page, includeInactive: "true" } },
    "POST /api/ai/models": {
      as: "admin",
      params: {},
      body: {
        id: unique("sweep-model"),
        provider: "test",
        displayName: "Sweep",
        inputPricePer1k: 0.001,
        outputPricePer1k: 0.002,
        contextWindow: 8192,
        maxOutputTokens: 1024,
        active: true,
      },
    },
    "PATCH /api/ai/models/{id}": {
      as: "admin",
      params: { id: model.id },
      body: { provider: "test", displayName: "Renamed", inputPricePer1k: 0.001, outputPricePer1k: 0.002, contextWindow: 8192, maxOutputTokens: 1024, active: true },
    },
    "GET /api/ai/settings/system": { as: "admin", params: {} },
    // Postgres runs share one database: the system scope is left as other files expect it.
    "PUT /api/ai/settings/system": { as: "admin", params: {}, body: aiSettings, baseline: false },
    "GET /api/alerts": {
      as: "admin",
      params: {},
      query: { ...page, classId: s.cls.id, sessionId: session.id, groupId: s.department.id, status: "open", minSeverity: "low" },
    },
    "POST /api/alerts/{id}/acknowledge": { as: "teacher", params: { id: alert.id } },
    "POST /api/alerts/{id}/dismiss": { as: "teacher", params: { id: alert.id } },
    "GET /api/alerts/{id}/deliveries": { as: "admin", params: { id: alert.id } },
    "GET /api/notifications/outbox": { as: "admin", params: {} },
    "DELETE /api/assignments/{id}": { as: "teacher", params: { id: assignment.id } },
    "GET /api/assignments/{id}": { as: "teacher", params: { id: assignment.id } },
    "PATCH /api/assignments/{id}": { as: "teacher", params: { id: assignment.id }, body: { ...assignmentBody, toolVersion: 1 } },
    "GET /api/assignments/{id}/submissions": { as: "teacher", params: { id: assignment.id }, query: { ...page, studentId: s.student.id, state: "in_progress" } },
    "GET /api/audit": {
      as: "admin",
      params: {},
      query: { ...page, targetType: "group", targetId: s.school.id, groupId: s.school.id, actorId: admin.id, action: "group.create" },
    },
    "GET /api/classes": { as: "teacher", params: {}, query: { ...page, groupId: s.department.id, archived: "all" } },
    "POST /api/classes": { as: "teacher", params: {}, body: { groupId: s.department.id, name: "Biology", term: "2026 spring" } },
    "GET /api/classes/{id}": { as: "teacher", params: { id: s.cls.id } },
    "PATCH /api/classes/{id}": { as: "teacher", params: { id: s.cls.id }, body: { name: "Biology 2", term: "autumn" } },
    "POST /api/classes/{id}/archive": { as: "admin", params: { id: s.cls.id } },
    "GET /api/classes/{id}/assignments": { as: "teacher", params: { id: s.cls.id }, query: page },
    "POST /api/classes/{id}/assignments": { as: "teacher", params: { id: s.cls.id }, body: { ...assignmentBody, toolId: s.tool.id, toolVersion: 1 } },
    "GET /api/classes/{id}/presence": { as: "teacher", params: { id: s.cls.id } },
    "GET /api/classes/{id}/members": { as: "teacher", params: { id: s.cls.id }, query: page },
    "POST /api/classes/{id}/members": { as: "teacher", params: { id: s.cls.id }, body: { userId: newStudent.id, role: "student" } },
    "DELETE /api/classes/{id}/members/{userId}": { as: "teacher", params: { id: s.cls.id, userId: classLeaver.id } },
    // Dev auth's sign-in (mounted by testDeps as on a dev server): public, the caller's token is ignored.
    "GET /api/dev/users": { as: "student", params: {} },
    "POST /api/dev/token": { as: "student", params: {}, body: { user: "student1" } },
    "GET /api/groups": { as: "admin", params: {}, query: { ...page, kind: "school" } },
    "POST /api/groups": {
      as: "admin",
      params: {},
      body: { parentId: s.school.id, name: "Science", slug: unique("sweep"), kind: "department", settings: { grading: { scale: ["a", "b"] }, motto: "m" } },
    },
    "GET /api/groups/{id}": { as: "admin", params: g },
    "PATCH /api/groups/{id}": { as: "admin", params: g, body: { name: "School", slug: unique("sweep"), settings: { grading: { scale: ["a", "b"] }, motto: "m" } } },
    "DELETE /api/groups/{id}/ai-settings": { as: "admin", params: g },
    "GET /api/groups/{id}/ai-settings": { as: "admin", params: g },
    "PUT /api/groups/{id}/ai-settings": { as: "admin", params: g, body: aiSettings },
    "GET /api/groups/{id}/ancestors": { as: "admin", params: g },
    "GET /api/groups/{id}/children": { as: "admin", params: g, query: page },
    "GET /api/groups/{id}/members": { as: "admin", params: g, query: page },
    "POST /api/groups/{id}/members": { as: "admin", params: g, body: { userId: newMember.id, role: "teacher" } },
    "DELETE /api/groups/{id}/members/{userId}": { as: "admin", params: { id: s.school.id, userId: removed.id } },
    "PATCH /api/groups/{id}/members/{userId}": { as: "admin", params: { id: s.school.id, userId: patched.id }, body: { role: "teacher" } },
    "GET /api/groups/{id}/subtree": { as: "admin", params: { id: s.district.id }, query: page },
    "DELETE /api/groups/{id}/theme": { as: "admin", params: g },
    "GET /api/groups/{id}/theme": { as: "admin", params: g },
    "PATCH /api/groups/{id}/theme": {
      as: "admin",
      params: g,
      body: { colors: { primary: "#112233" }, font: "inter", layout: { density: "compact" }, assets: { logo: asset.id } },
    },
    "POST /api/groups/{id}/theme/apply-template": { as: "admin", params: g, body: { templateId: "classic" } },
    "GET /api/groups/{id}/theme/assets": { as: "admin", params: g, query: { inherited: "true" } },
    "POST /api/groups/{id}/theme/assets": { as: "admin", params: g, multipart: true },
    "DELETE /api/groups/{id}/theme/assets/{assetId}": { as: "admin", params: { id: s.school.id, assetId: asset.id }, query: { force: "true" } },
    "GET /api/me": { as: "student", params: {} },
    "POST /api/groups/{id}/roster-connections": { as: "admin", params: g, body: { kind: "csv", name: "District SIS" } },
    "GET /api/groups/{id}/roster-connections": { as: "admin", params: g },
    "GET /api/roster-connections/{id}": { as: "admin", params: { id: csvConnection.id } },
    "PATCH /api/roster-connections/{id}": { as: "admin", params: { id: csvConnection.id }, body: { name: "Bundles (renamed)" } },
    "DELETE /api/roster-connections/{id}": { as: "admin", params: { id: doomedConnection.id } },
    "POST /api/roster-connections/{id}/runs": { as: "admin", params: { id: restConnection.id }, body: { mode: "full" } },
    "POST /api/roster-connections/{id}/bundles": { as: "admin", params: { id: csvConnection.id }, raw: { bytes: smallCsvBundle(rosterTag), type: "application/zip" } },
    "GET /api/roster-connections/{id}/runs": { as: "admin", params: { id: csvConnection.id }, query: page },
    "GET /api/roster-connections/{id}/runs/{runId}": { as: "admin", params: { id: csvConnection.id, runId: rosterRun?.id ?? "" } },
    "POST /api/realtime/tickets": { as: "student", params: {} },
    "GET /api/sessions": { as: "teacher", params: {}, query: { ...page, classId: s.cls.id, assignmentId: assignment.id, state: "active" } },
    "POST /api/sessions": { as: "student", params: {}, body: { toolId: s.tool.id, classId: s.cls.id, title: "My chat" } },
    "GET /api/sessions/{id}": { as: "teacher", params: { id: session.id } },
    "GET /api/sessions/{id}/snapshot": { as: "teacher", params: { id: session.id } },
    "POST /api/sessions/{id}/end": { as: "teacher", params: { id: ending.id } },
    "GET /api/sessions/{id}/messages": { as: "teacher", params: { id: session.id }, query: page },
    "GET /api/sessions/{id}/summaries": { as: "teacher", params: { id: session.id } },
    "POST /api/sessions/{id}/summaries": { as: "teacher", params: { id: session.id } },
    "GET /api/classes/{id}/attention": { as: "teacher", params: { id: s.cls.id } },
    "GET /api/transcripts/sessions/{id}": { as: "teacher", params: { id: session.id }, query: { format: "json" } },
    "GET /api/transcripts/classes/{id}": { as: "teacher", params: { id: s.cls.id }, query: { format: "json" } },
    "GET /api/transcripts/assignments/{id}": { as: "teacher", params: { id: assignment.id }, query: { format: "json" } },
    "POST /api/runs": { as: "teacher", params: {}, body: { toolId: productTool.id, classId: s.cls.id, input: { topic: "fractions" } } },
    "GET /api/runs": { as: "teacher", params: {}, query: { classId: s.cls.id, limit: "10" } },
    "GET /api/runs/{id}": { as: "teacher", params: { id: run.id } },
    "POST /api/runs/{id}/stop": { as: "teacher", params: { id: run.id } },
    "POST /api/sessions/{id}/messages": { as: "student", params: { id: chat.id }, body: { clientMessageId: "c-1", content: "Why are leaves green?" } },
    "POST /api/sessions/{id}/pause": { as: "teacher", params: { id: chat.id } },
    "POST /api/sessions/{id}/resume": { as: "teacher", params: { id: chat.id } },
    "POST /api/sessions/{id}/stop": { as: "teacher", params: { id: chat.id } },
    "POST /api/sessions/{id}/submit": { as: "student", params: { id: session.id } },
    "POST /api/sessions/{id}/teacher-messages": { as: "teacher", params: { id: chat.id }, body: { clientMessageId: "t-1", content: "Look at figure 3." } },
    "GET /api/submissions/{id}": { as: "teacher", params: { id: submission.id } },
    "PATCH /api/submissions/{id}": { as: "teacher", params: { id: submission.id }, body: { grade: "A", feedback: "Well argued." } },
    "GET /api/theme-assets/{assetId}": { as: "admin", params: { assetId: asset.id } },
    "GET /api/themes/templates": { as: "admin", params: {} },
    "GET /api/tools": { as: "teacher", params: {}, query: { ...page, groupId: s.school.id, archived: "all" } },
    "POST /api/tools": { as: "teacher", params: {}, body: { groupId: s.department.id, name: "Essay coach", kind: "chat", definition } },
    "GET /api/tools/{id}": { as: "teacher", params: { id: s.tool.id } },
    "POST /api/tools/{id}/archive": { as: "admin", params: { id: s.tool.id } },
    "GET /api/tools/{id}/versions": { as: "teacher", params: { id: s.tool.id }, query: page },
    "POST /api/tools/{id}/versions": { as: "admin", params: { id: s.tool.id }, body: { name: "Tutor v2", definition } },
    "GET /api/tools/{id}/versions/{version}": { as: "teacher", params: { id: s.tool.id, version: "1" } },
    "GET /api/usage/summary": {
      as: "admin",
      params: {},
      query: { groupId: s.school.id, classId: s.cls.id, userId: s.student.id, from: "2026-01-01", to: "2026-02-01T00:00:00Z", groupBy: "model" },
    },
  };
  return { fixtures, headersOf };
}

/** `GET /api/groups/{id}` with `{ id }` → `/api/groups/<id>?<query>`. */
export function pathOf(op: string, params: Record<string, string>, query: Record<string, string> | string = {}): string {
  const path = (op.split(" ")[1] ?? "").replace(/\{(\w+)\}/g, (_, name: string) => params[name] ?? "missing");
  const search = typeof query === "string" ? query : new URLSearchParams(query).toString();
  return search ? `${path}?${search}` : path;
}

/** The fixture's body as sent: JSON, or a fresh multipart upload. */
export function fixtureBody(fx: Fixture): { text: string | Uint8Array; type: string } | undefined {
  if (fx.multipart) {
    const form = upload('="logo.png"');
    return { text: form.body, type: form.contentType };
  }
  if (fx.raw) return { text: fx.raw.bytes, type: fx.raw.type };
  return fx.body ? { text: JSON.stringify(fx.body), type: "application/json" } : undefined;
}
