import { beforeAll, describe, expect, test } from "bun:test";
import { classMemberSchema, classSchema, pageOf, type Page } from "@raptscallions/core";
import { auditLog, users } from "@raptscallions/db";
import { addClassMember, addGroupMember, makeClass, makeGroup, makeSchoolScene, makeUser, type SchoolScene } from "@raptscallions/db/testing";
import { and, eq } from "drizzle-orm";
import { useHarness } from "./helpers/harness.ts";
import { errorCode, securityTests } from "./helpers/security.ts";

type Cls = { id: string; name: string; groupId: string; archivedAt: string | null };
type User = Awaited<ReturnType<typeof makeUser>>;

const h = useHarness();
let s: SchoolScene;
let classB: Awaited<ReturnType<typeof makeClass>>;
let classC: Awaited<ReturnType<typeof makeClass>>;
let teacherB: User;
let siblingAdmin: User;
let outsider: User;

beforeAll(async () => {
  s = await makeSchoolScene(h.db.db);
  teacherB = await makeUser(h.db.db);
  classB = await makeClass(h.db.db, s.department.id);
  await addClassMember(h.db.db, classB.id, teacherB.id, "teacher");
  const sibling = await makeGroup(h.db.db, { kind: "school", parent: s.district });
  siblingAdmin = await makeUser(h.db.db);
  await addGroupMember(h.db.db, sibling.id, siblingAdmin.id, "admin");
  classC = await makeClass(h.db.db, sibling.id);
  outsider = await makeUser(h.db.db);
}, 120_000);

const ids = (p: Page<{ id: string }>) => p.items.map((c) => c.id);

describe("GET /api/classes", () => {
  test("teachers and students see their own classes only", async () => {
    const teacher = await h.as(s.teacher).get<Page<Cls>>("/api/classes");
    expect(teacher.status).toBe(200);
    pageOf(classSchema).parse(teacher.body);
    expect(ids(teacher.body)).toEqual([s.cls.id]);
    const student = await h.as(s.student).get<Page<Cls>>("/api/classes");
    expect(ids(student.body)).toEqual([s.cls.id]);
    expect((await h.as(outsider).get<Page<Cls>>("/api/classes")).body.items).toEqual([]);
  });

  test("admins see classes in their subtree; groupId narrows to a subtree", async () => {
    const school = await h.as(s.schoolAdmin).get<Page<Cls>>("/api/classes");
    expect(new Set(ids(school.body))).toEqual(new Set([s.cls.id, classB.id]));
    const district = await h.as(s.districtAdmin).get<Page<Cls>>("/api/classes");
    expect(new Set(ids(district.body))).toEqual(new Set([s.cls.id, classB.id, classC.id]));
    const narrowed = await h.as(s.districtAdmin).get<Page<Cls>>(`/api/classes?groupId=${s.school.id}`);
    expect(new Set(ids(narrowed.body))).toEqual(new Set([s.cls.id, classB.id]));
  });

  test("pagination and bad query", async () => {
    const first = await h.as(s.districtAdmin).get<Page<Cls>>("/api/classes?limit=2");
    expect(first.body.items).toHaveLength(2);
    expect(first.body.nextCursor).not.toBeNull();
    const second = await h.as(s.districtAdmin).get<Page<Cls>>(`/api/classes?limit=2&cursor=${first.body.nextCursor}`);
    expect(second.body.items).toHaveLength(1);
    expect(second.body.nextCursor).toBeNull();
    expect(new Set([...ids(first.body), ...ids(second.body)]).size).toBe(3);
    expect((await h.as(s.teacher).get("/api/classes?cursor=%%%")).status).toBe(400);
    expect((await h.as(s.teacher).get("/api/classes?groupId=nope")).status).toBe(400);
  });
});

describe("GET /api/classes/:id", () => {
  test("members and admins get it; unknown → 404", async () => {
    const res = await h.as(s.student).get<Cls>(`/api/classes/${s.cls.id}`);
    expect(res.status).toBe(200);
    expect(classSchema.parse(res.body).id).toBe(s.cls.id);
    expect((await h.as(s.districtAdmin).get(`/api/classes/${crypto.randomUUID()}`)).status).toBe(404);
  });
});

describe("POST /api/classes", () => {
  test("a teacher of the group creates one and becomes its teacher", async () => {
    const res = await h.as(s.teacher).post<Cls>("/api/classes", { groupId: s.department.id, name: "Biology", term: "2025" });
    expect(res.status).toBe(201);
    expect(classSchema.parse(res.body)).toMatchObject({ groupId: s.department.id, name: "Biology", term: "2025" });
    const members = await h.as(s.teacher).get<Page<{ userId: string; role: string }>>(`/api/classes/${res.body.id}/members`);
    expect(members.body.items).toEqual([expect.objectContaining({ userId: s.teacher.id, role: "teacher" })]);
    const [entry] = await h.db.db
      .select()
      .from(auditLog)
      .where(and(eq(auditLog.action, "class.create"), eq(auditLog.targetId, res.body.id)));
    expect(entry).toMatchObject({ actorId: s.teacher.id, groupId: s.department.id });
  });

  test("an admin creates one without joining it", async () => {
    const res = await h.as(s.schoolAdmin).post<Cls>("/api/classes", { groupId: s.school.id, name: "Assembly" });
    expect(res.status).toBe(201);
    const members = await h.as(s.schoolAdmin).get<Page<unknown>>(`/api/classes/${res.body.id}/members`);
    expect(members.body.items).toEqual([]);
  });

  test("invalid body → 422; unknown group → 404", async () => {
    expect((await h.as(s.schoolAdmin).post("/api/classes", { groupId: s.school.id, name: "" })).status).toBe(422);
    const missing = await h.as(s.schoolAdmin).post("/api/classes", { groupId: crypto.randomUUID(), name: "X" });
    expect(missing.status).toBe(404);
    expect(errorCode(missing.body)).toBe("NOT_FOUND");
  });
});

describe("PATCH and archive", () => {
  test("a teacher renames their class; empty body → 422", async () => {
    const res = await h.as(teacherB).patch<Cls>(`/api/classes/${classB.id}`, { name: "Renamed B", term: null });
    expect(res.status).toBe(200);
    expect(res.body.name).toBe("Renamed B");
    expect((await h.as(teacherB).patch(`/api/classes/${classB.id}`, {})).status).toBe(422);
  });

  test("archive is idempotent, hides the class from the default list and blocks new members", async () => {
    const cls = await makeClass(h.db.db, s.department.id);
    await addClassMember(h.db.db, cls.id, s.teacher.id, "teacher");
    const first = await h.as(s.teacher).post<Cls>(`/api/classes/${cls.id}/archive`);
    expect(first.status).toBe(200);
    expect(first.body.archivedAt).not.toBeNull();
    const again = await h.as(s.teacher).post<Cls>(`/api/classes/${cls.id}/archive`);
    expect(again.body.archivedAt).toBe(first.body.archivedAt);
    expect(ids((await h.as(s.teacher).get<Page<Cls>>("/api/classes")).body)).not.toContain(cls.id);
    expect(ids((await h.as(s.teacher).get<Page<Cls>>("/api/classes?archived=true")).body)).toEqual([cls.id]);
    const add = await h.as(s.teacher).post(`/api/classes/${cls.id}/members`, { userId: outsider.id, role: "student" });
    expect(add.status).toBe(409);
    const audits = await h.db.db
      .select()
      .from(auditLog)
      .where(and(eq(auditLog.action, "class.archive"), eq(auditLog.targetId, cls.id)));
    expect(audits).toHaveLength(1);
  });
});

describe("class members", () => {
  test("roster for staff; add, duplicate, remove", async () => {
    const base = `/api/classes/${s.cls.id}/members`;
    const roster = await h.as(s.teacher).get<Page<{ userId: string }>>(base);
    expect(roster.status).toBe(200);
    pageOf(classMemberSchema).parse(roster.body);
    expect(new Set(roster.body.items.map((m) => m.userId))).toEqual(new Set([s.teacher.id, s.student.id, s.otherStudent.id]));

    const newbie = await makeUser(h.db.db);
    await addGroupMember(h.db.db, s.school.id, newbie.id, "member");
    const add = await h.as(s.teacher).post(base, { userId: newbie.id, role: "student" });
    expect(add.status).toBe(201);
    expect(classMemberSchema.parse(add.body)).toMatchObject({ userId: newbie.id, role: "student" });
    expect((await h.as(s.teacher).post(base, { userId: newbie.id, role: "teacher" })).status).toBe(409);
    expect((await h.as(s.teacher).delete(`${base}/${newbie.id}`)).status).toBe(204);
    expect((await h.as(s.teacher).delete(`${base}/${newbie.id}`)).status).toBe(404);
  });

  test("the user must exist; role must be teacher or student", async () => {
    const base = `/api/classes/${s.cls.id}/members`;
    const missing = await h.as(s.teacher).post(base, { userId: crypto.randomUUID(), role: "student" });
    expect(missing.status).toBe(422);
    expect(errorCode(missing.body)).toBe("USER_NOT_IN_REACH");
    expect((await h.as(s.teacher).post(base, { userId: outsider.id, role: "admin" })).status).toBe(422);
  });
});

describe("who a class may enrol", () => {
  test("a teacher cannot enrol a student of another district: 422 without their name or email, and no access follows", async () => {
    const other = await makeSchoolScene(h.db.db);
    const stranger = other.student;
    const [row] = await h.db.db.select({ name: users.name, email: users.email }).from(users).where(eq(users.id, stranger.id));
    for (const as of [s.teacher, s.schoolAdmin]) {
      const res = await h.as(as).post(`/api/classes/${s.cls.id}/members`, { userId: stranger.id, role: "student" });
      expect(res.status).toBe(422);
      expect(errorCode(res.body)).toBe("USER_NOT_IN_REACH");
      const text = JSON.stringify(res.body);
      for (const secret of [row?.name, row?.email]) if (secret) expect(text).not.toContain(secret);
    }
    expect(ids((await h.as(stranger).get<Page<Cls>>("/api/classes")).body)).not.toContain(s.cls.id);
    const tools = await h.as(stranger).get<Page<{ id: string }>>("/api/tools");
    expect(tools.body.items.map((t) => t.id)).not.toContain(s.tool.id);
  });

  test("a student of another school in the same district, or already in one of its classes, can be enrolled", async () => {
    const fromSibling = await makeUser(h.db.db);
    await addGroupMember(h.db.db, classC.groupId, fromSibling.id, "member");
    const a = await h.as(s.teacher).post(`/api/classes/${s.cls.id}/members`, { userId: fromSibling.id, role: "student" });
    expect(a.status).toBe(201);
    const fromClass = await makeUser(h.db.db);
    await addClassMember(h.db.db, classC.id, fromClass.id, "student");
    const b = await h.as(s.teacher).post(`/api/classes/${s.cls.id}/members`, { userId: fromClass.id, role: "student" });
    expect(b.status).toBe(201);
  });
});

securityTests("classes", () => h.app, [
  { method: "GET", route: "/api/classes", path: () => "/api/classes" },
  {
    method: "POST",
    route: "/api/classes",
    path: () => "/api/classes",
    body: () => ({ groupId: s.department.id, name: "Sec" }),
    denied: () => [
      { who: siblingAdmin, status: 404 },
      { who: s.student, status: 403 },
    ],
  },
  {
    method: "GET",
    route: "/api/classes/:id",
    path: () => `/api/classes/${s.cls.id}`,
    denied: () => [
      { who: teacherB, status: 404 },
      { who: siblingAdmin, status: 404 },
      { who: outsider, status: 404 },
    ],
  },
  {
    method: "PATCH",
    route: "/api/classes/:id",
    path: () => `/api/classes/${s.cls.id}`,
    body: () => ({ name: "Hijacked" }),
    denied: () => [
      { who: teacherB, status: 404 },
      { who: s.student, status: 403 },
    ],
  },
  {
    method: "POST",
    route: "/api/classes/:id/archive",
    path: () => `/api/classes/${s.cls.id}/archive`,
    denied: () => [
      { who: teacherB, status: 404 },
      { who: s.student, status: 403 },
    ],
  },
  {
    method: "GET",
    route: "/api/classes/:id/members",
    path: () => `/api/classes/${s.cls.id}/members`,
    denied: () => [
      { who: teacherB, status: 404 },
      { who: s.student, status: 403 },
    ],
  },
  {
    method: "POST",
    route: "/api/classes/:id/members",
    path: () => `/api/classes/${s.cls.id}/members`,
    body: () => ({ userId: outsider.id, role: "teacher" }),
    denied: () => [
      { who: teacherB, status: 404 },
      { who: s.student, status: 403 },
    ],
  },
  {
    method: "DELETE",
    route: "/api/classes/:id/members/:userId",
    path: () => `/api/classes/${s.cls.id}/members/${s.otherStudent.id}`,
    denied: () => [
      { who: teacherB, status: 404 },
      { who: s.student, status: 403 },
    ],
  },
]);
