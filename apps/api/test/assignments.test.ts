import { beforeAll, describe, expect, test } from "bun:test";
import { assignmentSchema, pageOf, type Page } from "@raptscallions/core";
import { auditLog, submissions } from "@raptscallions/db";
import { addClassMember, addGroupMember, makeAssignment, makeClass, makeGroup, makeSchoolScene, makeTool, makeUser, type SchoolScene } from "@raptscallions/db/testing";
import { and, eq } from "drizzle-orm";
import { useHarness } from "./helpers/harness.ts";
import { errorCode, securityTests } from "./helpers/security.ts";

type Asg = { id: string; toolVersion: number; dueAt: string | null; title: string };
type User = Awaited<ReturnType<typeof makeUser>>;

const h = useHarness();
let s: SchoolScene;
let teacherB: User;
let siblingAdmin: User;
let siblingTool: Awaited<ReturnType<typeof makeTool>>;
let open: Awaited<ReturnType<typeof makeAssignment>>;
let future: Awaited<ReturnType<typeof makeAssignment>>;

const hour = 3600_000;
const at = (offsetMs: number) => new Date(Date.now() + offsetMs).toISOString();

beforeAll(async () => {
  s = await makeSchoolScene(h.db.db);
  teacherB = await makeUser(h.db.db);
  const classB = await makeClass(h.db.db, s.department.id);
  await addClassMember(h.db.db, classB.id, teacherB.id, "teacher");
  const sibling = await makeGroup(h.db.db, { kind: "school", parent: s.district });
  siblingAdmin = await makeUser(h.db.db);
  await addGroupMember(h.db.db, sibling.id, siblingAdmin.id, "admin");
  siblingTool = await makeTool(h.db.db, sibling.id);
  open = await makeAssignment(h.db.db, s.cls.id, s.tool.id);
  future = await makeAssignment(h.db.db, s.cls.id, s.tool.id, { availableAt: new Date(Date.now() + 48 * hour) });
}, 120_000);

const ids = (p: Page<{ id: string }>) => p.items.map((a) => a.id);

describe("GET /api/classes/:id/assignments", () => {
  test("teachers see all; students only available ones", async () => {
    const teacher = await h.as(s.teacher).get<Page<Asg>>(`/api/classes/${s.cls.id}/assignments?limit=200`);
    expect(teacher.status).toBe(200);
    pageOf(assignmentSchema).parse(teacher.body);
    expect(ids(teacher.body)).toEqual(expect.arrayContaining([open.id, future.id]));
    const student = await h.as(s.student).get<Page<Asg>>(`/api/classes/${s.cls.id}/assignments?limit=200`);
    expect(ids(student.body)).toContain(open.id);
    expect(ids(student.body)).not.toContain(future.id);
  });

  test("pagination; malformed cursor → 400", async () => {
    const cls = await makeClass(h.db.db, s.department.id);
    const made = [await makeAssignment(h.db.db, cls.id, s.tool.id), await makeAssignment(h.db.db, cls.id, s.tool.id), await makeAssignment(h.db.db, cls.id, s.tool.id)];
    const p1 = await h.as(s.schoolAdmin).get<Page<Asg>>(`/api/classes/${cls.id}/assignments?limit=2`);
    const p2 = await h.as(s.schoolAdmin).get<Page<Asg>>(`/api/classes/${cls.id}/assignments?limit=2&cursor=${p1.body.nextCursor}`);
    expect([...ids(p1.body), ...ids(p2.body)].sort()).toEqual(made.map((a) => a.id).sort());
    expect(p2.body.nextCursor).toBeNull();
    const bad = await h.as(s.schoolAdmin).get(`/api/classes/${cls.id}/assignments?cursor=${btoa('["2020-01-01",1]')}`);
    expect(bad.status).toBe(400);
  });
});

describe("POST /api/classes/:id/assignments", () => {
  test("defaults to the latest version; an explicit version is kept; audited", async () => {
    const res = await h.as(s.teacher).post<Asg>(`/api/classes/${s.cls.id}/assignments`, {
      title: "Essay",
      toolId: s.tool.id,
      availableAt: at(0),
      dueAt: at(hour),
      closeAt: at(2 * hour),
      maxAttempts: 2,
      timeLimitMinutes: 30,
    });
    expect(res.status).toBe(201);
    expect(assignmentSchema.parse(res.body)).toMatchObject({ toolVersion: 1, maxAttempts: 2, timeLimitMinutes: 30, createdBy: s.teacher.id });
    const [entry] = await h.db.db
      .select()
      .from(auditLog)
      .where(and(eq(auditLog.action, "assignment.create"), eq(auditLog.targetId, res.body.id)));
    expect(entry).toMatchObject({ groupId: s.department.id, details: { toolVersion: 1 } });
    const explicit = await h.as(s.schoolAdmin).post<Asg>(`/api/classes/${s.cls.id}/assignments`, { title: "V1", toolId: s.tool.id, toolVersion: 1 });
    expect(explicit.status).toBe(201);
  });

  test("dates out of order → 422 with the offending field", async () => {
    const res = await h.as(s.teacher).post<{ error: { details: { path: string }[] } }>(`/api/classes/${s.cls.id}/assignments`, {
      title: "Bad",
      toolId: s.tool.id,
      dueAt: at(2 * hour),
      closeAt: at(hour),
    });
    expect(res.status).toBe(422);
    expect(res.body.error.details.map((d) => d.path)).toEqual(["closeAt"]);
    const bad = await h.as(s.teacher).post(`/api/classes/${s.cls.id}/assignments`, { title: "Bad", toolId: s.tool.id, dueAt: "tomorrow" });
    expect(bad.status).toBe(422);
  });

  test("the tool must be usable in the class's group, live, and have that version", async () => {
    const out = await h.as(s.districtAdmin).post(`/api/classes/${s.cls.id}/assignments`, { title: "X", toolId: siblingTool.id });
    expect(out.status).toBe(422);
    expect(errorCode(out.body)).toBe("VALIDATION_FAILED");
    const invisible = await h.as(s.teacher).post(`/api/classes/${s.cls.id}/assignments`, { title: "X", toolId: siblingTool.id });
    expect(invisible.status).toBe(404);
    const noVersion = await h.as(s.teacher).post(`/api/classes/${s.cls.id}/assignments`, { title: "X", toolId: s.tool.id, toolVersion: 99 });
    expect(noVersion.status).toBe(422);
    const archived = await makeTool(h.db.db, s.school.id, { archivedAt: new Date() });
    expect((await h.as(s.teacher).post(`/api/classes/${s.cls.id}/assignments`, { title: "X", toolId: archived.id })).status).toBe(422);
  });

  test("an archived class takes no new assignments (409)", async () => {
    const cls = await makeClass(h.db.db, s.department.id, { archivedAt: new Date() });
    const res = await h.as(s.schoolAdmin).post(`/api/classes/${cls.id}/assignments`, { title: "X", toolId: s.tool.id });
    expect(res.status).toBe(409);
  });
});

describe("GET/PATCH/DELETE /api/assignments/:id", () => {
  test("students see an assignment once available; staff always", async () => {
    expect((await h.as(s.student).get(`/api/assignments/${open.id}`)).status).toBe(200);
    expect((await h.as(s.student).get(`/api/assignments/${future.id}`)).status).toBe(404);
    const teacher = await h.as(s.teacher).get<Asg>(`/api/assignments/${future.id}`);
    expect(assignmentSchema.parse(teacher.body).id).toBe(future.id);
  });

  test("patch merges dates before checking order; re-pins explicitly", async () => {
    const a = await makeAssignment(h.db.db, s.cls.id, s.tool.id, { dueAt: new Date(Date.now() + hour) });
    const bad = await h.as(s.teacher).patch(`/api/assignments/${a.id}`, { closeAt: at(0) });
    expect(bad.status).toBe(422);
    const ok = await h.as(s.teacher).patch<Asg>(`/api/assignments/${a.id}`, { title: "Renamed", dueAt: null, closeAt: at(0) });
    expect(ok.status).toBe(200);
    expect(ok.body).toMatchObject({ title: "Renamed", dueAt: null });
    expect((await h.as(s.teacher).patch(`/api/assignments/${a.id}`, { toolVersion: 5 })).status).toBe(422);
    expect((await h.as(s.teacher).patch(`/api/assignments/${a.id}`, {})).status).toBe(422);
  });

  test("delete: only without submissions", async () => {
    const a = await makeAssignment(h.db.db, s.cls.id, s.tool.id);
    expect((await h.as(s.teacher).delete(`/api/assignments/${a.id}`)).status).toBe(204);
    expect((await h.as(s.teacher).get(`/api/assignments/${a.id}`)).status).toBe(404);
    const withWork = await makeAssignment(h.db.db, s.cls.id, s.tool.id);
    await h.db.db.insert(submissions).values({ assignmentId: withWork.id, studentId: s.student.id, attempt: 1 });
    const res = await h.as(s.teacher).delete(`/api/assignments/${withWork.id}`);
    expect(res.status).toBe(409);
    expect(errorCode(res.body)).toBe("CONFLICT");
  });
});

securityTests("assignments", () => h.app, [
  {
    method: "GET",
    route: "/api/classes/:id/assignments",
    path: () => `/api/classes/${s.cls.id}/assignments`,
    denied: () => [
      { who: teacherB, status: 404 },
      { who: siblingAdmin, status: 404 },
    ],
  },
  {
    method: "POST",
    route: "/api/classes/:id/assignments",
    path: () => `/api/classes/${s.cls.id}/assignments`,
    body: () => ({ title: "Sec", toolId: s.tool.id }),
    denied: () => [
      { who: teacherB, status: 404 },
      { who: s.student, status: 403 },
    ],
  },
  {
    method: "GET",
    route: "/api/assignments/:id",
    path: () => `/api/assignments/${open.id}`,
    denied: () => [
      { who: teacherB, status: 404 },
      { who: siblingAdmin, status: 404 },
    ],
  },
  {
    method: "PATCH",
    route: "/api/assignments/:id",
    path: () => `/api/assignments/${open.id}`,
    body: () => ({ title: "Hijacked" }),
    denied: () => [
      { who: teacherB, status: 404 },
      { who: s.student, status: 403 },
    ],
  },
  {
    method: "DELETE",
    route: "/api/assignments/:id",
    path: () => `/api/assignments/${open.id}`,
    denied: () => [
      { who: teacherB, status: 404 },
      { who: s.student, status: 403 },
    ],
  },
]);
