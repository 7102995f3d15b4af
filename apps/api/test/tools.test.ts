import { beforeAll, describe, expect, test } from "bun:test";
import { pageOf, toolDetailSchema, toolSchema, toolVersionSchema, type Page } from "@raptscallions/core";
import { assignments, auditLog, toolVersions } from "@raptscallions/db";
import { addClassMember, addGroupMember, makeClass, makeGroup, makeModel, makeSchoolScene, makeTool, makeUser, type SchoolScene } from "@raptscallions/db/testing";
import { and, eq } from "drizzle-orm";
import { useHarness } from "./helpers/harness.ts";
import { errorCode, securityTests } from "./helpers/security.ts";

type Version = { toolId: string; version: number; name: string; definition: Record<string, unknown> | null };
type Tool = { id: string; name: string; latestVersion: number; archivedAt: string | null; latest: Version };
type User = Awaited<ReturnType<typeof makeUser>>;

const h = useHarness();
let s: SchoolScene;
let districtTool: Awaited<ReturnType<typeof makeTool>>;
let siblingTool: Awaited<ReturnType<typeof makeTool>>;
let siblingAdmin: User;
let otherTeacher: User;
let outsider: User;
let model: Awaited<ReturnType<typeof makeModel>>;
let inactiveModel: Awaited<ReturnType<typeof makeModel>>;

beforeAll(async () => {
  s = await makeSchoolScene(h.db.db);
  districtTool = await makeTool(h.db.db, s.district.id);
  const sibling = await makeGroup(h.db.db, { kind: "school", parent: s.district });
  siblingTool = await makeTool(h.db.db, sibling.id);
  siblingAdmin = await makeUser(h.db.db);
  await addGroupMember(h.db.db, sibling.id, siblingAdmin.id, "admin");
  otherTeacher = await makeUser(h.db.db);
  await addGroupMember(h.db.db, s.department.id, otherTeacher.id, "teacher");
  const otherClass = await makeClass(h.db.db, s.department.id);
  await addClassMember(h.db.db, otherClass.id, otherTeacher.id, "teacher");
  outsider = await makeUser(h.db.db);
  model = await makeModel(h.db.db);
  inactiveModel = await makeModel(h.db.db, { active: false });
}, 120_000);

const ids = (p: Page<{ id: string }>) => p.items.map((t) => t.id);
const definition = { systemPrompt: "Be Socratic.", temperature: 0.3 };

describe("GET /api/tools", () => {
  test("usable tools: those of groups on the caller's ancestor chain", async () => {
    const student = await h.as(s.student).get<Page<Tool>>("/api/tools");
    expect(student.status).toBe(200);
    pageOf(toolSchema).parse(student.body);
    expect(new Set(ids(student.body))).toEqual(new Set([s.tool.id, districtTool.id]));
    const admin = await h.as(s.districtAdmin).get<Page<Tool>>("/api/tools");
    expect(ids(admin.body)).toEqual(expect.arrayContaining([s.tool.id, districtTool.id, siblingTool.id]));
    const siblingView = await h.as(siblingAdmin).get<Page<Tool>>("/api/tools");
    expect(new Set(ids(siblingView.body))).toEqual(new Set([siblingTool.id, districtTool.id]));
    expect((await h.as(outsider).get<Page<Tool>>("/api/tools")).body.items).toEqual([]);
  });

  test("groupId filter, pagination and a bad cursor", async () => {
    const filtered = await h.as(s.student).get<Page<Tool>>(`/api/tools?groupId=${s.district.id}`);
    expect(ids(filtered.body)).toEqual([districtTool.id]);
    const p1 = await h.as(s.student).get<Page<Tool>>("/api/tools?limit=1");
    const p2 = await h.as(s.student).get<Page<Tool>>(`/api/tools?limit=1&cursor=${p1.body.nextCursor}`);
    expect(new Set([...ids(p1.body), ...ids(p2.body)]).size).toBe(2);
    expect(p2.body.nextCursor).toBeNull();
    const bad = await h.as(s.student).get("/api/tools?cursor=eyJ4IjoxfQ");
    expect(bad.status).toBe(400);
  });
});

describe("GET /api/tools/:id", () => {
  test("staff get the latest definition; students get the tool without it", async () => {
    const teacher = await h.as(s.teacher).get<Tool>(`/api/tools/${s.tool.id}`);
    expect(teacher.status).toBe(200);
    expect(toolDetailSchema.parse(teacher.body).latest.definition).toMatchObject({ systemPrompt: "You are a helpful tutor." });
    const student = await h.as(s.student).get<Tool>(`/api/tools/${s.tool.id}`);
    expect(student.status).toBe(200);
    expect(student.body.latest.definition).toBeNull();
    expect((await h.as(s.districtAdmin).get(`/api/tools/${crypto.randomUUID()}`)).status).toBe(404);
  });
});

describe("POST /api/tools", () => {
  test("a teacher creates a tool with version 1; module shorthand is stored long-form", async () => {
    const res = await h
      .as(s.teacher)
      .post<Tool>("/api/tools", { groupId: s.department.id, name: "Essay coach", definition: { ...definition, model: model.id, modules: { "pii-filter": true } } });
    expect(res.status).toBe(201);
    const tool = toolDetailSchema.parse(res.body);
    expect(tool).toMatchObject({ latestVersion: 1, createdBy: s.teacher.id, latest: { version: 1, name: "Essay coach" } });
    expect(tool.latest.definition).toMatchObject({ model: model.id, modules: { "pii-filter": { enabled: true } } });
    const [entry] = await h.db.db
      .select()
      .from(auditLog)
      .where(and(eq(auditLog.action, "tool.create"), eq(auditLog.targetId, tool.id)));
    expect(entry?.groupId).toBe(s.department.id);
  });

  test("an unknown or inactive model → 422; unknown definition keys → 422", async () => {
    for (const m of ["no-such-model", inactiveModel.id]) {
      const res = await h.as(s.teacher).post("/api/tools", { groupId: s.department.id, name: "X", definition: { ...definition, model: m } });
      expect(res.status).toBe(422);
      expect(errorCode(res.body)).toBe("VALIDATION_FAILED");
    }
    const extra = await h.as(s.teacher).post("/api/tools", { groupId: s.department.id, name: "X", definition: { ...definition, prompt: "typo" } });
    expect(extra.status).toBe(422);
  });

  test("module settings are checked when saved: unknown modules or keys → 422", async () => {
    for (const modules of [{ "no-such-module": { enabled: true } }, { "pii-filter": { enabled: true, notAKey: 1 } }]) {
      const res = await h.as(s.teacher).post("/api/tools", { groupId: s.department.id, name: "X", definition: { ...definition, modules } });
      expect(res.status).toBe(422);
      expect(errorCode(res.body)).toBe("VALIDATION_FAILED");
    }
    const ok = await h
      .as(s.teacher)
      .post("/api/tools", { groupId: s.department.id, name: "X", definition: { ...definition, modules: { "pii-filter": { enabled: true } } } });
    expect(ok.status).toBe(201);
  });
});

describe("versions", () => {
  test("a new version leaves assignments pinned to the old one; version rows never change", async () => {
    const created = await h.as(s.teacher).post<Tool>("/api/tools", { groupId: s.department.id, name: "Pinned", definition });
    const toolId = created.body.id;
    const asg = await h.as(s.teacher).post<{ id: string; toolVersion: number }>(`/api/classes/${s.cls.id}/assignments`, { title: "Week 1", toolId });
    expect(asg.status).toBe(201);
    expect(asg.body.toolVersion).toBe(1);
    const [v1Before] = await h.db.db
      .select()
      .from(toolVersions)
      .where(and(eq(toolVersions.toolId, toolId), eq(toolVersions.version, 1)));

    const v2 = await h.as(s.teacher).post<Tool>(`/api/tools/${toolId}/versions`, { name: "Pinned II", definition: { systemPrompt: "Be terse." } });
    expect(v2.status).toBe(201);
    expect(toolDetailSchema.parse(v2.body)).toMatchObject({ latestVersion: 2, name: "Pinned II", latest: { version: 2, definition: { systemPrompt: "Be terse." } } });

    const [pinned] = await h.db.db.select().from(assignments).where(eq(assignments.id, asg.body.id));
    expect(pinned?.toolVersion).toBe(1);
    const fetched = await h.as(s.student).get<{ toolVersion: number }>(`/api/assignments/${asg.body.id}`);
    expect(fetched.body.toolVersion).toBe(1);
    const [v1After] = await h.db.db
      .select()
      .from(toolVersions)
      .where(and(eq(toolVersions.toolId, toolId), eq(toolVersions.version, 1)));
    expect(v1After).toEqual(v1Before);
    const v1 = await h.as(s.teacher).get<Version>(`/api/tools/${toolId}/versions/1`);
    expect(v1.body.definition).toMatchObject({ systemPrompt: "Be Socratic." });

    const next = await h.as(s.teacher).post<{ toolVersion: number }>(`/api/classes/${s.cls.id}/assignments`, { title: "Week 2", toolId });
    expect(next.body.toolVersion).toBe(2);
  });

  test("concurrent new versions get distinct numbers", async () => {
    const tool = await makeTool(h.db.db, s.department.id, { createdBy: s.teacher.id });
    const results = await Promise.all([1, 2, 3].map((i) => h.as(s.teacher).post<Tool>(`/api/tools/${tool.id}/versions`, { definition: { systemPrompt: `v${i}` } })));
    expect(results.map((r) => r.status)).toEqual([201, 201, 201]);
    expect(results.map((r) => r.body.latest.version).sort()).toEqual([2, 3, 4]);
  });

  test("list newest first with pagination; unknown and malformed versions → 404", async () => {
    const tool = await makeTool(h.db.db, s.department.id, { createdBy: s.teacher.id });
    await h.as(s.teacher).post(`/api/tools/${tool.id}/versions`, { definition });
    await h.as(s.teacher).post(`/api/tools/${tool.id}/versions`, { definition });
    const all = await h.as(s.teacher).get<Page<Version>>(`/api/tools/${tool.id}/versions`);
    expect(all.status).toBe(200);
    pageOf(toolVersionSchema).parse(all.body);
    expect(all.body.items.map((v) => v.version)).toEqual([3, 2, 1]);
    const p1 = await h.as(s.teacher).get<Page<Version>>(`/api/tools/${tool.id}/versions?limit=2`);
    const p2 = await h.as(s.teacher).get<Page<Version>>(`/api/tools/${tool.id}/versions?limit=2&cursor=${p1.body.nextCursor}`);
    expect([...p1.body.items, ...p2.body.items].map((v) => v.version)).toEqual([3, 2, 1]);
    expect((await h.as(s.teacher).get(`/api/tools/${tool.id}/versions/99`)).status).toBe(404);
    expect((await h.as(s.teacher).get(`/api/tools/${tool.id}/versions/abc`)).status).toBe(404);
    expect((await h.as(s.teacher).post(`/api/tools/${tool.id}/versions`, { definition: {} })).status).toBe(422);
  });

  test("archive: idempotent, hidden from the list, no new versions", async () => {
    const tool = await makeTool(h.db.db, s.department.id, { createdBy: s.teacher.id });
    const res = await h.as(s.teacher).post<Tool>(`/api/tools/${tool.id}/archive`);
    expect(res.status).toBe(200);
    expect(toolSchema.parse(res.body).archivedAt).not.toBeNull();
    expect((await h.as(s.schoolAdmin).post(`/api/tools/${tool.id}/archive`)).status).toBe(200);
    expect(ids((await h.as(s.teacher).get<Page<Tool>>("/api/tools?limit=200")).body)).not.toContain(tool.id);
    expect(ids((await h.as(s.teacher).get<Page<Tool>>("/api/tools?archived=true")).body)).toContain(tool.id);
    const v = await h.as(s.teacher).post(`/api/tools/${tool.id}/versions`, { definition });
    expect(v.status).toBe(409);
  });
});

describe("authorship follows the author's current role", () => {
  test("an author demoted to member can no longer publish versions or read prompts; re-promoted, they can", async () => {
    const author = await makeUser(h.db.db);
    await addGroupMember(h.db.db, s.department.id, author.id, "teacher");
    const created = await h.as(author).post<Tool>("/api/tools", { groupId: s.department.id, name: "Author's tool", definition });
    expect(created.status).toBe(201);
    const toolId = created.body.id;
    expect((await h.as(author).post(`/api/tools/${toolId}/versions`, { definition })).status).toBe(201);

    const demote = await h.as(s.schoolAdmin).patch(`/api/groups/${s.department.id}/members/${author.id}`, { role: "member" });
    expect(demote.status).toBe(200);
    const publish = await h.as(author).post(`/api/tools/${toolId}/versions`, { definition: { systemPrompt: "sneaky" } });
    expect(publish.status).toBe(403);
    expect(errorCode(publish.body)).toBe("FORBIDDEN");
    expect((await h.as(author).post(`/api/tools/${toolId}/archive`)).status).toBe(403);
    expect((await h.as(author).get(`/api/tools/${toolId}/versions`)).status).toBe(403);
    expect((await h.as(author).get(`/api/tools/${toolId}/versions/1`)).status).toBe(403);
    const detail = await h.as(author).get<Tool>(`/api/tools/${toolId}`);
    expect(detail.status).toBe(200);
    expect(detail.body.latest.definition).toBeNull();

    await h.as(s.schoolAdmin).patch(`/api/groups/${s.department.id}/members/${author.id}`, { role: "teacher" });
    expect((await h.as(author).post(`/api/tools/${toolId}/versions`, { definition })).status).toBe(201);
    // Removed from the group altogether: the tool is not even usable any more.
    await h.as(s.schoolAdmin).delete(`/api/groups/${s.department.id}/members/${author.id}`);
    expect((await h.as(author).post(`/api/tools/${toolId}/versions`, { definition })).status).toBe(404);
  });
});

securityTests("tools", () => h.app, [
  { method: "GET", route: "/api/tools", path: () => "/api/tools" },
  {
    method: "POST",
    route: "/api/tools",
    path: () => "/api/tools",
    body: () => ({ groupId: s.department.id, name: "Sec", definition }),
    denied: () => [
      { who: siblingAdmin, status: 404 },
      { who: s.student, status: 403 },
    ],
  },
  {
    method: "GET",
    route: "/api/tools/:id",
    path: () => `/api/tools/${s.tool.id}`,
    denied: () => [
      { who: siblingAdmin, status: 404 },
      { who: outsider, status: 404 },
    ],
  },
  {
    method: "POST",
    route: "/api/tools/:id/versions",
    path: () => `/api/tools/${s.tool.id}/versions`,
    body: () => ({ definition }),
    denied: () => [
      { who: siblingAdmin, status: 404 },
      { who: s.student, status: 403 },
      { who: otherTeacher, status: 403 },
    ],
  },
  {
    method: "GET",
    route: "/api/tools/:id/versions",
    path: () => `/api/tools/${s.tool.id}/versions`,
    denied: () => [
      { who: siblingAdmin, status: 404 },
      { who: s.student, status: 403 },
    ],
  },
  {
    method: "GET",
    route: "/api/tools/:id/versions/:version",
    path: () => `/api/tools/${s.tool.id}/versions/1`,
    denied: () => [
      { who: siblingAdmin, status: 404 },
      { who: s.student, status: 403 },
    ],
  },
  {
    method: "POST",
    route: "/api/tools/:id/archive",
    path: () => `/api/tools/${s.tool.id}/archive`,
    denied: () => [
      { who: siblingAdmin, status: 404 },
      { who: otherTeacher, status: 403 },
    ],
  },
]);
