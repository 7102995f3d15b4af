import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { pageOf, toolDetailSchema, toolSchema, toolVersionSchema } from "@raptscallions/core";
import { assignments, auditLog, type DbHandle, toolVersions } from "@raptscallions/db";
import { addClassMember, addGroupMember, makeClass, makeGroup, makeModel, makeSchoolScene, makeTool, makeUser, type SchoolScene } from "@raptscallions/db/testing";
import { and, eq } from "drizzle-orm";
import { createApp } from "../src/app.ts";
import { createTestDb, testDeps } from "./helpers/deps.ts";
import { call, errorCode, securityTests } from "./helpers/security.ts";

type Version = { toolId: string; version: number; name: string; definition: Record<string, unknown> | null };
type Tool = { id: string; name: string; latestVersion: number; archivedAt: string | null; latest: Version };
type Page<T> = { items: T[]; nextCursor: string | null };
type User = Awaited<ReturnType<typeof makeUser>>;

let db: DbHandle;
let app: ReturnType<typeof createApp>;
let s: SchoolScene;
let districtTool: Awaited<ReturnType<typeof makeTool>>;
let siblingTool: Awaited<ReturnType<typeof makeTool>>;
let siblingAdmin: User;
let otherTeacher: User;
let outsider: User;
let model: Awaited<ReturnType<typeof makeModel>>;
let inactiveModel: Awaited<ReturnType<typeof makeModel>>;

beforeAll(async () => {
  db = await createTestDb();
  app = createApp(await testDeps(db));
  s = await makeSchoolScene(db.db);
  districtTool = await makeTool(db.db, s.district.id);
  const sibling = await makeGroup(db.db, { kind: "school", parent: s.district });
  siblingTool = await makeTool(db.db, sibling.id);
  siblingAdmin = await makeUser(db.db);
  await addGroupMember(db.db, sibling.id, siblingAdmin.id, "admin");
  otherTeacher = await makeUser(db.db);
  await addGroupMember(db.db, s.department.id, otherTeacher.id, "teacher");
  const otherClass = await makeClass(db.db, s.department.id);
  await addClassMember(db.db, otherClass.id, otherTeacher.id, "teacher");
  outsider = await makeUser(db.db);
  model = await makeModel(db.db);
  inactiveModel = await makeModel(db.db, { active: false });
}, 120_000);
afterAll(async () => {
  await db.close();
});

const ids = (p: Page<{ id: string }>) => p.items.map((t) => t.id);
const definition = { systemPrompt: "Be Socratic.", temperature: 0.3 };

describe("GET /api/tools", () => {
  test("usable tools: those of groups on the caller's ancestor chain", async () => {
    const student = await call<Page<Tool>>(app, "GET", "/api/tools", { as: s.student });
    expect(student.status).toBe(200);
    pageOf(toolSchema).parse(student.body);
    expect(new Set(ids(student.body))).toEqual(new Set([s.tool.id, districtTool.id]));
    const admin = await call<Page<Tool>>(app, "GET", "/api/tools", { as: s.districtAdmin });
    expect(ids(admin.body)).toEqual(expect.arrayContaining([s.tool.id, districtTool.id, siblingTool.id]));
    const siblingView = await call<Page<Tool>>(app, "GET", "/api/tools", { as: siblingAdmin });
    expect(new Set(ids(siblingView.body))).toEqual(new Set([siblingTool.id, districtTool.id]));
    expect((await call<Page<Tool>>(app, "GET", "/api/tools", { as: outsider })).body.items).toEqual([]);
  });

  test("groupId filter, pagination and a bad cursor", async () => {
    const filtered = await call<Page<Tool>>(app, "GET", `/api/tools?groupId=${s.district.id}`, { as: s.student });
    expect(ids(filtered.body)).toEqual([districtTool.id]);
    const p1 = await call<Page<Tool>>(app, "GET", "/api/tools?limit=1", { as: s.student });
    const p2 = await call<Page<Tool>>(app, "GET", `/api/tools?limit=1&cursor=${p1.body.nextCursor}`, { as: s.student });
    expect(new Set([...ids(p1.body), ...ids(p2.body)]).size).toBe(2);
    expect(p2.body.nextCursor).toBeNull();
    const bad = await call(app, "GET", "/api/tools?cursor=eyJ4IjoxfQ", { as: s.student });
    expect(bad.status).toBe(400);
  });
});

describe("GET /api/tools/:id", () => {
  test("staff get the latest definition; students get the tool without it", async () => {
    const teacher = await call<Tool>(app, "GET", `/api/tools/${s.tool.id}`, { as: s.teacher });
    expect(teacher.status).toBe(200);
    expect(toolDetailSchema.parse(teacher.body).latest.definition).toMatchObject({ systemPrompt: "You are a helpful tutor." });
    const student = await call<Tool>(app, "GET", `/api/tools/${s.tool.id}`, { as: s.student });
    expect(student.status).toBe(200);
    expect(student.body.latest.definition).toBeNull();
    expect((await call(app, "GET", `/api/tools/${crypto.randomUUID()}`, { as: s.districtAdmin })).status).toBe(404);
  });
});

describe("POST /api/tools", () => {
  test("a teacher creates a tool with version 1; module shorthand is stored long-form", async () => {
    const res = await call<Tool>(app, "POST", "/api/tools", {
      as: s.teacher,
      body: { groupId: s.department.id, name: "Essay coach", definition: { ...definition, model: model.id, modules: { "pii-filter": true } } },
    });
    expect(res.status).toBe(201);
    const tool = toolDetailSchema.parse(res.body);
    expect(tool).toMatchObject({ latestVersion: 1, createdBy: s.teacher.id, latest: { version: 1, name: "Essay coach" } });
    expect(tool.latest.definition).toMatchObject({ model: model.id, modules: { "pii-filter": { enabled: true } } });
    const [entry] = await db.db.select().from(auditLog).where(and(eq(auditLog.action, "tool.create"), eq(auditLog.targetId, tool.id)));
    expect(entry?.groupId).toBe(s.department.id);
  });

  test("an unknown or inactive model → 422; unknown definition keys → 422", async () => {
    for (const m of ["no-such-model", inactiveModel.id]) {
      const res = await call(app, "POST", "/api/tools", { as: s.teacher, body: { groupId: s.department.id, name: "X", definition: { ...definition, model: m } } });
      expect(res.status).toBe(422);
      expect(errorCode(res.body)).toBe("VALIDATION_FAILED");
    }
    const extra = await call(app, "POST", "/api/tools", { as: s.teacher, body: { groupId: s.department.id, name: "X", definition: { ...definition, prompt: "typo" } } });
    expect(extra.status).toBe(422);
  });

  test("module settings are checked when saved: unknown modules or keys → 422", async () => {
    for (const modules of [{ "no-such-module": { enabled: true } }, { "pii-filter": { enabled: true, notAKey: 1 } }]) {
      const res = await call(app, "POST", "/api/tools", { as: s.teacher, body: { groupId: s.department.id, name: "X", definition: { ...definition, modules } } });
      expect(res.status).toBe(422);
      expect(errorCode(res.body)).toBe("VALIDATION_FAILED");
    }
    const ok = await call(app, "POST", "/api/tools", { as: s.teacher, body: { groupId: s.department.id, name: "X", definition: { ...definition, modules: { "pii-filter": { enabled: true } } } } });
    expect(ok.status).toBe(201);
  });
});

describe("versions", () => {
  test("a new version leaves assignments pinned to the old one; version rows never change", async () => {
    const created = await call<Tool>(app, "POST", "/api/tools", { as: s.teacher, body: { groupId: s.department.id, name: "Pinned", definition } });
    const toolId = created.body.id;
    const asg = await call<{ id: string; toolVersion: number }>(app, "POST", `/api/classes/${s.cls.id}/assignments`, { as: s.teacher, body: { title: "Week 1", toolId } });
    expect(asg.status).toBe(201);
    expect(asg.body.toolVersion).toBe(1);
    const [v1Before] = await db.db.select().from(toolVersions).where(and(eq(toolVersions.toolId, toolId), eq(toolVersions.version, 1)));

    const v2 = await call<Tool>(app, "POST", `/api/tools/${toolId}/versions`, { as: s.teacher, body: { name: "Pinned II", definition: { systemPrompt: "Be terse." } } });
    expect(v2.status).toBe(201);
    expect(toolDetailSchema.parse(v2.body)).toMatchObject({ latestVersion: 2, name: "Pinned II", latest: { version: 2, definition: { systemPrompt: "Be terse." } } });

    const [pinned] = await db.db.select().from(assignments).where(eq(assignments.id, asg.body.id));
    expect(pinned?.toolVersion).toBe(1);
    const fetched = await call<{ toolVersion: number }>(app, "GET", `/api/assignments/${asg.body.id}`, { as: s.student });
    expect(fetched.body.toolVersion).toBe(1);
    const [v1After] = await db.db.select().from(toolVersions).where(and(eq(toolVersions.toolId, toolId), eq(toolVersions.version, 1)));
    expect(v1After).toEqual(v1Before);
    const v1 = await call<Version>(app, "GET", `/api/tools/${toolId}/versions/1`, { as: s.teacher });
    expect(v1.body.definition).toMatchObject({ systemPrompt: "Be Socratic." });

    const next = await call<{ toolVersion: number }>(app, "POST", `/api/classes/${s.cls.id}/assignments`, { as: s.teacher, body: { title: "Week 2", toolId } });
    expect(next.body.toolVersion).toBe(2);
  });

  test("concurrent new versions get distinct numbers", async () => {
    const tool = await makeTool(db.db, s.department.id, { createdBy: s.teacher.id });
    const results = await Promise.all(
      [1, 2, 3].map((i) => call<Tool>(app, "POST", `/api/tools/${tool.id}/versions`, { as: s.teacher, body: { definition: { systemPrompt: `v${i}` } } })),
    );
    expect(results.map((r) => r.status)).toEqual([201, 201, 201]);
    expect(results.map((r) => r.body.latest.version).sort()).toEqual([2, 3, 4]);
  });

  test("list newest first with pagination; unknown and malformed versions → 404", async () => {
    const tool = await makeTool(db.db, s.department.id, { createdBy: s.teacher.id });
    await call(app, "POST", `/api/tools/${tool.id}/versions`, { as: s.teacher, body: { definition } });
    await call(app, "POST", `/api/tools/${tool.id}/versions`, { as: s.teacher, body: { definition } });
    const all = await call<Page<Version>>(app, "GET", `/api/tools/${tool.id}/versions`, { as: s.teacher });
    expect(all.status).toBe(200);
    pageOf(toolVersionSchema).parse(all.body);
    expect(all.body.items.map((v) => v.version)).toEqual([3, 2, 1]);
    const p1 = await call<Page<Version>>(app, "GET", `/api/tools/${tool.id}/versions?limit=2`, { as: s.teacher });
    const p2 = await call<Page<Version>>(app, "GET", `/api/tools/${tool.id}/versions?limit=2&cursor=${p1.body.nextCursor}`, { as: s.teacher });
    expect([...p1.body.items, ...p2.body.items].map((v) => v.version)).toEqual([3, 2, 1]);
    expect((await call(app, "GET", `/api/tools/${tool.id}/versions/99`, { as: s.teacher })).status).toBe(404);
    expect((await call(app, "GET", `/api/tools/${tool.id}/versions/abc`, { as: s.teacher })).status).toBe(404);
    expect((await call(app, "POST", `/api/tools/${tool.id}/versions`, { as: s.teacher, body: { definition: {} } })).status).toBe(422);
  });

  test("archive: idempotent, hidden from the list, no new versions", async () => {
    const tool = await makeTool(db.db, s.department.id, { createdBy: s.teacher.id });
    const res = await call<Tool>(app, "POST", `/api/tools/${tool.id}/archive`, { as: s.teacher });
    expect(res.status).toBe(200);
    expect(toolSchema.parse(res.body).archivedAt).not.toBeNull();
    expect((await call(app, "POST", `/api/tools/${tool.id}/archive`, { as: s.schoolAdmin })).status).toBe(200);
    expect(ids((await call<Page<Tool>>(app, "GET", "/api/tools?limit=200", { as: s.teacher })).body)).not.toContain(tool.id);
    expect(ids((await call<Page<Tool>>(app, "GET", "/api/tools?archived=true", { as: s.teacher })).body)).toContain(tool.id);
    const v = await call(app, "POST", `/api/tools/${tool.id}/versions`, { as: s.teacher, body: { definition } });
    expect(v.status).toBe(409);
  });
});

describe("authorship follows the author's current role", () => {
  test("an author demoted to member can no longer publish versions or read prompts; re-promoted, they can", async () => {
    const author = await makeUser(db.db);
    await addGroupMember(db.db, s.department.id, author.id, "teacher");
    const created = await call<Tool>(app, "POST", "/api/tools", { as: author, body: { groupId: s.department.id, name: "Author's tool", definition } });
    expect(created.status).toBe(201);
    const toolId = created.body.id;
    expect((await call(app, "POST", `/api/tools/${toolId}/versions`, { as: author, body: { definition } })).status).toBe(201);

    const demote = await call(app, "PATCH", `/api/groups/${s.department.id}/members/${author.id}`, { as: s.schoolAdmin, body: { role: "member" } });
    expect(demote.status).toBe(200);
    const publish = await call(app, "POST", `/api/tools/${toolId}/versions`, { as: author, body: { definition: { systemPrompt: "sneaky" } } });
    expect(publish.status).toBe(403);
    expect(errorCode(publish.body)).toBe("FORBIDDEN");
    expect((await call(app, "POST", `/api/tools/${toolId}/archive`, { as: author })).status).toBe(403);
    expect((await call(app, "GET", `/api/tools/${toolId}/versions`, { as: author })).status).toBe(403);
    expect((await call(app, "GET", `/api/tools/${toolId}/versions/1`, { as: author })).status).toBe(403);
    const detail = await call<Tool>(app, "GET", `/api/tools/${toolId}`, { as: author });
    expect(detail.status).toBe(200);
    expect(detail.body.latest.definition).toBeNull();

    await call(app, "PATCH", `/api/groups/${s.department.id}/members/${author.id}`, { as: s.schoolAdmin, body: { role: "teacher" } });
    expect((await call(app, "POST", `/api/tools/${toolId}/versions`, { as: author, body: { definition } })).status).toBe(201);
    // Removed from the group altogether: the tool is not even usable any more.
    await call(app, "DELETE", `/api/groups/${s.department.id}/members/${author.id}`, { as: s.schoolAdmin });
    expect((await call(app, "POST", `/api/tools/${toolId}/versions`, { as: author, body: { definition } })).status).toBe(404);
  });
});

securityTests("tools", () => app, [
  { method: "GET", route: "/api/tools", path: () => "/api/tools" },
  {
    method: "POST",
    route: "/api/tools",
    path: () => "/api/tools",
    body: () => ({ groupId: s.department.id, name: "Sec", definition }),
    denied: () => [{ who: siblingAdmin, status: 404 }, { who: s.student, status: 403 }],
  },
  { method: "GET", route: "/api/tools/:id", path: () => `/api/tools/${s.tool.id}`, denied: () => [{ who: siblingAdmin, status: 404 }, { who: outsider, status: 404 }] },
  {
    method: "POST",
    route: "/api/tools/:id/versions",
    path: () => `/api/tools/${s.tool.id}/versions`,
    body: () => ({ definition }),
    denied: () => [{ who: siblingAdmin, status: 404 }, { who: s.student, status: 403 }, { who: otherTeacher, status: 403 }],
  },
  { method: "GET", route: "/api/tools/:id/versions", path: () => `/api/tools/${s.tool.id}/versions`, denied: () => [{ who: siblingAdmin, status: 404 }, { who: s.student, status: 403 }] },
  { method: "GET", route: "/api/tools/:id/versions/:version", path: () => `/api/tools/${s.tool.id}/versions/1`, denied: () => [{ who: siblingAdmin, status: 404 }, { who: s.student, status: 403 }] },
  { method: "POST", route: "/api/tools/:id/archive", path: () => `/api/tools/${s.tool.id}/archive`, denied: () => [{ who: siblingAdmin, status: 404 }, { who: otherTeacher, status: 403 }] },
]);
