import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { assignmentSchema, pageOf } from "@raptscallions/core";
import { auditLog, type DbHandle, submissions } from "@raptscallions/db";
import { addClassMember, addGroupMember, makeAssignment, makeClass, makeGroup, makeSchoolScene, makeTool, makeUser, type SchoolScene } from "@raptscallions/db/testing";
import { and, eq } from "drizzle-orm";
import { createApp } from "../src/app.ts";
import { createTestDb, testDeps } from "./helpers/deps.ts";
import { call, errorCode, securityTests } from "./helpers/security.ts";

type Asg = { id: string; toolVersion: number; dueAt: string | null; title: string };
type Page<T> = { items: T[]; nextCursor: string | null };
type User = Awaited<ReturnType<typeof makeUser>>;

let db: DbHandle;
let app: ReturnType<typeof createApp>;
let s: SchoolScene;
let teacherB: User;
let siblingAdmin: User;
let siblingTool: Awaited<ReturnType<typeof makeTool>>;
let open: Awaited<ReturnType<typeof makeAssignment>>;
let future: Awaited<ReturnType<typeof makeAssignment>>;

const hour = 3600_000;
const at = (offsetMs: number) => new Date(Date.now() + offsetMs).toISOString();

beforeAll(async () => {
  db = await createTestDb();
  app = createApp(await testDeps(db));
  s = await makeSchoolScene(db.db);
  teacherB = await makeUser(db.db);
  const classB = await makeClass(db.db, s.department.id);
  await addClassMember(db.db, classB.id, teacherB.id, "teacher");
  const sibling = await makeGroup(db.db, { kind: "school", parent: s.district });
  siblingAdmin = await makeUser(db.db);
  await addGroupMember(db.db, sibling.id, siblingAdmin.id, "admin");
  siblingTool = await makeTool(db.db, sibling.id);
  open = await makeAssignment(db.db, s.cls.id, s.tool.id);
  future = await makeAssignment(db.db, s.cls.id, s.tool.id, { availableAt: new Date(Date.now() + 48 * hour) });
}, 120_000);
afterAll(async () => {
  await db.close();
});

const ids = (p: Page<{ id: string }>) => p.items.map((a) => a.id);

describe("GET /api/classes/:id/assignments", () => {
  test("teachers see all; students only available ones", async () => {
    const teacher = await call<Page<Asg>>(app, "GET", `/api/classes/${s.cls.id}/assignments?limit=200`, { as: s.teacher });
    expect(teacher.status).toBe(200);
    pageOf(assignmentSchema).parse(teacher.body);
    expect(ids(teacher.body)).toEqual(expect.arrayContaining([open.id, future.id]));
    const student = await call<Page<Asg>>(app, "GET", `/api/classes/${s.cls.id}/assignments?limit=200`, { as: s.student });
    expect(ids(student.body)).toContain(open.id);
    expect(ids(student.body)).not.toContain(future.id);
  });

  test("pagination; malformed cursor → 400", async () => {
    const cls = await makeClass(db.db, s.department.id);
    const made = [await makeAssignment(db.db, cls.id, s.tool.id), await makeAssignment(db.db, cls.id, s.tool.id), await makeAssignment(db.db, cls.id, s.tool.id)];
    const p1 = await call<Page<Asg>>(app, "GET", `/api/classes/${cls.id}/assignments?limit=2`, { as: s.schoolAdmin });
    const p2 = await call<Page<Asg>>(app, "GET", `/api/classes/${cls.id}/assignments?limit=2&cursor=${p1.body.nextCursor}`, { as: s.schoolAdmin });
    expect([...ids(p1.body), ...ids(p2.body)].sort()).toEqual(made.map((a) => a.id).sort());
    expect(p2.body.nextCursor).toBeNull();
    const bad = await call(app, "GET", `/api/classes/${cls.id}/assignments?cursor=${btoa('["2020-01-01",1]')}`, { as: s.schoolAdmin });
    expect(bad.status).toBe(400);
  });
});

describe("POST /api/classes/:id/assignments", () => {
  test("defaults to the latest version; an explicit version is kept; audited", async () => {
    const res = await call<Asg>(app, "POST", `/api/classes/${s.cls.id}/assignments`, {
      as: s.teacher,
      body: { title: "Essay", toolId: s.tool.id, availableAt: at(0), dueAt: at(hour), closeAt: at(2 * hour), maxAttempts: 2, timeLimitMinutes: 30 },
    });
    expect(res.status).toBe(201);
    expect(assignmentSchema.parse(res.body)).toMatchObject({ toolVersion: 1, maxAttempts: 2, timeLimitMinutes: 30, createdBy: s.teacher.id });
    const [entry] = await db.db.select().from(auditLog).where(and(eq(auditLog.action, "assignment.create"), eq(auditLog.targetId, res.body.id)));
    expect(entry).toMatchObject({ groupId: s.department.id, details: { toolVersion: 1 } });
    const explicit = await call<Asg>(app, "POST", `/api/classes/${s.cls.id}/assignments`, { as: s.schoolAdmin, body: { title: "V1", toolId: s.tool.id, toolVersion: 1 } });
    expect(explicit.status).toBe(201);
  });

  test("dates out of order → 422 with the offending field", async () => {
    const res = await call<{ error: { details: { path: string }[] } }>(app, "POST", `/api/classes/${s.cls.id}/assignments`, {
      as: s.teacher,
      body: { title: "Bad", toolId: s.tool.id, dueAt: at(2 * hour), closeAt: at(hour) },
    });
    expect(res.status).toBe(422);
    expect(res.body.error.details.map((d) => d.path)).toEqual(["closeAt"]);
    const bad = await call(app, "POST", `/api/classes/${s.cls.id}/assignments`, { as: s.teacher, body: { title: "Bad", toolId: s.tool.id, dueAt: "tomorrow" } });
    expect(bad.status).toBe(422);
  });

  test("the tool must be usable in the class's group, live, and have that version", async () => {
    const out = await call(app, "POST", `/api/classes/${s.cls.id}/assignments`, { as: s.districtAdmin, body: { title: "X", toolId: siblingTool.id } });
    expect(out.status).toBe(422);
    expect(errorCode(out.body)).toBe("VALIDATION_FAILED");
    const invisible = await call(app, "POST", `/api/classes/${s.cls.id}/assignments`, { as: s.teacher, body: { title: "X", toolId: siblingTool.id } });
    expect(invisible.status).toBe(404);
    const noVersion = await call(app, "POST", `/api/classes/${s.cls.id}/assignments`, { as: s.teacher, body: { title: "X", toolId: s.tool.id, toolVersion: 99 } });
    expect(noVersion.status).toBe(422);
    const archived = await makeTool(db.db, s.school.id, { archivedAt: new Date() });
    expect((await call(app, "POST", `/api/classes/${s.cls.id}/assignments`, { as: s.teacher, body: { title: "X", toolId: archived.id } })).status).toBe(422);
  });

  test("an archived class takes no new assignments (409)", async () => {
    const cls = await makeClass(db.db, s.department.id, { archivedAt: new Date() });
    const res = await call(app, "POST", `/api/classes/${cls.id}/assignments`, { as: s.schoolAdmin, body: { title: "X", toolId: s.tool.id } });
    expect(res.status).toBe(409);
  });
});

describe("GET/PATCH/DELETE /api/assignments/:id", () => {
  test("students see an assignment once available; staff always", async () => {
    expect((await call(app, "GET", `/api/assignments/${open.id}`, { as: s.student })).status).toBe(200);
    expect((await call(app, "GET", `/api/assignments/${future.id}`, { as: s.student })).status).toBe(404);
    const teacher = await call<Asg>(app, "GET", `/api/assignments/${future.id}`, { as: s.teacher });
    expect(assignmentSchema.parse(teacher.body).id).toBe(future.id);
  });

  test("patch merges dates before checking order; re-pins explicitly", async () => {
    const a = await makeAssignment(db.db, s.cls.id, s.tool.id, { dueAt: new Date(Date.now() + hour) });
    const bad = await call(app, "PATCH", `/api/assignments/${a.id}`, { as: s.teacher, body: { closeAt: at(0) } });
    expect(bad.status).toBe(422);
    const ok = await call<Asg>(app, "PATCH", `/api/assignments/${a.id}`, { as: s.teacher, body: { title: "Renamed", dueAt: null, closeAt: at(0) } });
    expect(ok.status).toBe(200);
    expect(ok.body).toMatchObject({ title: "Renamed", dueAt: null });
    expect((await call(app, "PATCH", `/api/assignments/${a.id}`, { as: s.teacher, body: { toolVersion: 5 } })).status).toBe(422);
    expect((await call(app, "PATCH", `/api/assignments/${a.id}`, { as: s.teacher, body: {} })).status).toBe(422);
  });

  test("delete: only without submissions", async () => {
    const a = await makeAssignment(db.db, s.cls.id, s.tool.id);
    expect((await call(app, "DELETE", `/api/assignments/${a.id}`, { as: s.teacher })).status).toBe(204);
    expect((await call(app, "GET", `/api/assignments/${a.id}`, { as: s.teacher })).status).toBe(404);
    const withWork = await makeAssignment(db.db, s.cls.id, s.tool.id);
    await db.db.insert(submissions).values({ assignmentId: withWork.id, studentId: s.student.id, attempt: 1 });
    const res = await call(app, "DELETE", `/api/assignments/${withWork.id}`, { as: s.teacher });
    expect(res.status).toBe(409);
    expect(errorCode(res.body)).toBe("CONFLICT");
  });
});

securityTests("assignments", () => app, [
  {
    method: "GET",
    route: "/api/classes/:id/assignments",
    path: () => `/api/classes/${s.cls.id}/assignments`,
    denied: () => [{ who: teacherB, status: 404 }, { who: siblingAdmin, status: 404 }],
  },
  {
    method: "POST",
    route: "/api/classes/:id/assignments",
    path: () => `/api/classes/${s.cls.id}/assignments`,
    body: () => ({ title: "Sec", toolId: s.tool.id }),
    denied: () => [{ who: teacherB, status: 404 }, { who: s.student, status: 403 }],
  },
  {
    method: "GET",
    route: "/api/assignments/:id",
    path: () => `/api/assignments/${open.id}`,
    denied: () => [{ who: teacherB, status: 404 }, { who: siblingAdmin, status: 404 }],
  },
  {
    method: "PATCH",
    route: "/api/assignments/:id",
    path: () => `/api/assignments/${open.id}`,
    body: () => ({ title: "Hijacked" }),
    denied: () => [{ who: teacherB, status: 404 }, { who: s.student, status: 403 }],
  },
  {
    method: "DELETE",
    route: "/api/assignments/:id",
    path: () => `/api/assignments/${open.id}`,
    denied: () => [{ who: teacherB, status: 404 }, { who: s.student, status: 403 }],
  },
]);
