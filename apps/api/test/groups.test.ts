import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { groupMemberSchema, groupSchema, pageOf } from "@raptscallions/core";
import { auditLog, type DbHandle, groupMembers, groups, users } from "@raptscallions/db";
import { addGroupMember, makeGroup, makeSchoolScene, makeUser, type SchoolScene, unique } from "@raptscallions/db/testing";
import { and, eq } from "drizzle-orm";
import { createApp } from "../src/app.ts";
import { createTestDb, testDeps } from "./helpers/deps.ts";
import { call, errorCode, securityTests } from "./helpers/security.ts";

type Group = { id: string; name: string; slug: string; parentId: string | null; depth: number };
type Page<T> = { items: T[]; nextCursor: string | null };

let db: DbHandle;
let app: ReturnType<typeof createApp>;
let s: SchoolScene;
let sibling: Awaited<ReturnType<typeof makeGroup>>;
let siblingAdmin: Awaited<ReturnType<typeof makeUser>>;
let sysAdmin: Awaited<ReturnType<typeof makeUser>>;
let outsider: Awaited<ReturnType<typeof makeUser>>;

beforeAll(async () => {
  db = await createTestDb();
  app = createApp(await testDeps(db));
  s = await makeSchoolScene(db.db);
  sibling = await makeGroup(db.db, { kind: "school", parent: s.district });
  siblingAdmin = await makeUser(db.db);
  await addGroupMember(db.db, sibling.id, siblingAdmin.id, "admin");
  sysAdmin = await makeUser(db.db, { isSystemAdmin: true });
  outsider = await makeUser(db.db);
}, 120_000);
afterAll(async () => {
  await db.close();
});

const ids = (page: Page<{ id: string }>) => page.items.map((g) => g.id);

async function allPages(path: string, as: { clerkUserId: string | null }, limit: number): Promise<string[]> {
  const seen: string[] = [];
  let cursor: string | null = null;
  for (let i = 0; i < 50; i += 1) {
    const sep = path.includes("?") ? "&" : "?";
    const res: { status: number; body: Page<{ id: string }> } = await call<Page<{ id: string }>>(app, "GET", `${path}${sep}limit=${limit}${cursor ? `&cursor=${cursor}` : ""}`, { as });
    expect(res.status).toBe(200);
    seen.push(...ids(res.body));
    cursor = res.body.nextCursor;
    if (!cursor) return seen;
  }
  throw new Error("pagination did not end");
}

describe("GET /api/groups", () => {
  test("a teacher sees their groups and ancestors, not the sibling school", async () => {
    const res = await call<Page<Group>>(app, "GET", "/api/groups", { as: s.teacher });
    expect(res.status).toBe(200);
    pageOf(groupSchema).parse(res.body);
    expect(new Set(ids(res.body))).toEqual(new Set([s.district.id, s.school.id, s.department.id]));
  });

  test("a school admin sees its subtree and ancestors; the district admin everything in the district", async () => {
    const school = await call<Page<Group>>(app, "GET", "/api/groups", { as: s.schoolAdmin });
    expect(new Set(ids(school.body))).toEqual(new Set([s.district.id, s.school.id, s.department.id]));
    const district = await call<Page<Group>>(app, "GET", "/api/groups", { as: s.districtAdmin });
    expect(new Set(ids(district.body))).toEqual(new Set([s.district.id, s.school.id, s.department.id, sibling.id]));
  });

  test("a user with no memberships sees nothing; a system admin sees every group", async () => {
    const none = await call<Page<Group>>(app, "GET", "/api/groups", { as: outsider });
    expect(none.body).toEqual({ items: [], nextCursor: null });
    const all = await allPages("/api/groups?kind=school", sysAdmin, 200);
    expect(all).toEqual(expect.arrayContaining([s.school.id, sibling.id]));
  });

  test("cursor pagination walks every page once, in order", async () => {
    const paged = await allPages("/api/groups", s.districtAdmin, 1);
    expect(paged).toHaveLength(4);
    expect(new Set(paged).size).toBe(4);
    const oneGo = await call<Page<Group>>(app, "GET", "/api/groups?limit=10", { as: s.districtAdmin });
    expect(paged).toEqual(ids(oneGo.body));
  });

  test("a malformed or foreign cursor → 400, a bad limit → 400", async () => {
    for (const cursor of ["!!!", "bm90IGpzb24", btoa(JSON.stringify([1, 2, 3])), btoa(JSON.stringify(["a", "not-a-uuid"]))]) {
      const res = await call(app, "GET", `/api/groups?cursor=${encodeURIComponent(cursor)}`, { as: s.teacher });
      expect(res.status).toBe(400);
      expect(errorCode(res.body)).toBe("BAD_REQUEST");
    }
    const limit = await call(app, "GET", "/api/groups?limit=0", { as: s.teacher });
    expect(limit.status).toBe(400);
  });

  test("kind filter", async () => {
    const res = await call<Page<Group>>(app, "GET", "/api/groups?kind=department", { as: s.districtAdmin });
    expect(ids(res.body)).toEqual([s.department.id]);
  });
});

describe("GET /api/groups/:id and the tree", () => {
  test("a member gets a visible group; unknown and malformed ids → 404", async () => {
    const res = await call<Group>(app, "GET", `/api/groups/${s.school.id}`, { as: s.teacher });
    expect(res.status).toBe(200);
    expect(groupSchema.parse(res.body)).toMatchObject({ id: s.school.id, parentId: s.district.id, depth: 1 });
    expect((await call(app, "GET", `/api/groups/${crypto.randomUUID()}`, { as: sysAdmin })).status).toBe(404);
    const bad = await call(app, "GET", "/api/groups/not-a-uuid", { as: sysAdmin });
    expect(bad.status).toBe(404);
    expect(errorCode(bad.body)).toBe("NOT_FOUND");
  });

  test("children: only those the caller can see", async () => {
    const admin = await call<Page<Group>>(app, "GET", `/api/groups/${s.district.id}/children`, { as: s.districtAdmin });
    expect(new Set(ids(admin.body))).toEqual(new Set([s.school.id, sibling.id]));
    const teacher = await call<Page<Group>>(app, "GET", `/api/groups/${s.district.id}/children`, { as: s.teacher });
    expect(ids(teacher.body)).toEqual([s.school.id]);
    expect(await allPages(`/api/groups/${s.district.id}/children`, s.districtAdmin, 1)).toHaveLength(2);
  });

  test("ancestors: root first, without the group itself", async () => {
    const res = await call<Page<Group>>(app, "GET", `/api/groups/${s.department.id}/ancestors`, { as: s.teacher });
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ items: expect.any(Array), nextCursor: null });
    expect(ids(res.body)).toEqual([s.district.id, s.school.id]);
    const root = await call<Page<Group>>(app, "GET", `/api/groups/${s.district.id}/ancestors`, { as: s.teacher });
    expect(root.body.items).toEqual([]);
  });

  test("subtree: the group and its descendants in tree order, paginated", async () => {
    const res = await call<Page<Group>>(app, "GET", `/api/groups/${s.district.id}/subtree`, { as: s.districtAdmin });
    expect(res.body.items[0]?.id).toBe(s.district.id);
    expect(new Set(ids(res.body))).toEqual(new Set([s.district.id, s.school.id, s.department.id, sibling.id]));
    expect(await allPages(`/api/groups/${s.district.id}/subtree`, s.districtAdmin, 1)).toEqual(ids(res.body));
    const teacher = await call<Page<Group>>(app, "GET", `/api/groups/${s.district.id}/subtree`, { as: s.teacher });
    expect(ids(teacher.body)).not.toContain(sibling.id);
  });
});

describe("POST /api/groups", () => {
  test("an admin creates a child under their group, audited in the same request", async () => {
    const slug = unique("dept");
    const res = await call<Group>(app, "POST", "/api/groups", {
      as: s.schoolAdmin,
      body: { parentId: s.school.id, name: "Science", slug, kind: "department" },
      headers: { "x-request-id": `req-${slug}` },
    });
    expect(res.status).toBe(201);
    expect(groupSchema.parse(res.body)).toMatchObject({ parentId: s.school.id, slug, kind: "department", depth: 2 });
    const [row] = await db.db.select().from(groups).where(eq(groups.id, res.body.id));
    expect(row?.path.startsWith(`${s.school.path}.`)).toBe(true);
    const audit = await db.db.select().from(auditLog).where(and(eq(auditLog.action, "group.create"), eq(auditLog.targetId, res.body.id)));
    expect(audit).toHaveLength(1);
    expect(audit[0]).toMatchObject({ actorId: s.schoolAdmin.id, groupId: res.body.id, requestId: `req-${slug}`, targetType: "group" });
  });

  test("a root group only by a system admin", async () => {
    const body = { parentId: null, name: "New district", slug: unique("district"), kind: "district" };
    const denied = await call(app, "POST", "/api/groups", { as: s.districtAdmin, body });
    expect(denied.status).toBe(403);
    const ok = await call<Group>(app, "POST", "/api/groups", { as: sysAdmin, body });
    expect(ok.status).toBe(201);
    expect(ok.body.depth).toBe(0);
  });

  test("a taken slug → 409 and no audit entry; bad input → 422/415/400", async () => {
    const before = await db.db.select().from(auditLog).where(eq(auditLog.actorId, s.schoolAdmin.id));
    const dup = await call(app, "POST", "/api/groups", { as: s.schoolAdmin, body: { parentId: s.school.id, name: "Dup", slug: s.department.slug } });
    expect(dup.status).toBe(409);
    expect(errorCode(dup.body)).toBe("CONFLICT");
    const after = await db.db.select().from(auditLog).where(eq(auditLog.actorId, s.schoolAdmin.id));
    expect(after.length).toBe(before.length);

    const invalid = await call(app, "POST", "/api/groups", { as: s.schoolAdmin, body: { parentId: s.school.id, name: "", slug: "Bad Slug!" } });
    expect(invalid.status).toBe(422);
    expect(errorCode(invalid.body)).toBe("VALIDATION_FAILED");
    const notJson = await app.request("/api/groups", {
      method: "POST",
      headers: { ...(await import("./helpers/auth.ts").then((m) => m.authHeader(s.schoolAdmin))), "content-type": "text/plain" },
      body: "hello",
    });
    expect(notJson.status).toBe(415);
    const malformed = await app.request("/api/groups", {
      method: "POST",
      headers: { ...(await import("./helpers/auth.ts").then((m) => m.authHeader(s.schoolAdmin))), "content-type": "application/json" },
      body: "{nope",
    });
    expect(malformed.status).toBe(400);
  });
});

describe("PATCH /api/groups/:id", () => {
  test("an admin renames and re-slugs; the change is audited", async () => {
    const g = await makeGroup(db.db, { parent: s.school });
    const slug = unique("renamed");
    const res = await call<Group>(app, "PATCH", `/api/groups/${g.id}`, { as: s.schoolAdmin, body: { name: "Renamed", slug, settings: { a: 1 } } });
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ name: "Renamed", slug });
    const [entry] = await db.db.select().from(auditLog).where(and(eq(auditLog.action, "group.update"), eq(auditLog.targetId, g.id)));
    expect(entry?.details).toMatchObject({ name: { to: "Renamed" }, settings: { keys: ["a"] } });
  });

  test("empty body → 422; slug of another group → 409", async () => {
    expect((await call(app, "PATCH", `/api/groups/${s.department.id}`, { as: s.schoolAdmin, body: {} })).status).toBe(422);
    const taken = await call(app, "PATCH", `/api/groups/${s.department.id}`, { as: s.schoolAdmin, body: { slug: sibling.slug } });
    expect(taken.status).toBe(409);
  });

  test("module settings inherited down the tree are checked when saved → 422", async () => {
    const bad = await call(app, "PATCH", `/api/groups/${s.department.id}`, { as: s.schoolAdmin, body: { settings: { modules: { "safety-filter": { nope: true } } } } });
    expect(bad.status).toBe(422);
    expect(errorCode(bad.body)).toBe("VALIDATION_FAILED");
  });
});

describe("group members", () => {
  test("list, add, change role, remove, re-add", async () => {
    const user = await makeUser(db.db);
    // In the district already (a member of the sibling school), so the school may enrol them.
    await addGroupMember(db.db, sibling.id, user.id, "member");
    const base = `/api/groups/${s.school.id}/members`;
    const add = await call(app, "POST", base, { as: s.schoolAdmin, body: { userId: user.id, role: "teacher" } });
    expect(add.status).toBe(201);
    expect(groupMemberSchema.parse(add.body)).toMatchObject({ userId: user.id, role: "teacher", user: { id: user.id } });
    expect((await call(app, "POST", base, { as: s.schoolAdmin, body: { userId: user.id, role: "teacher" } })).status).toBe(409);

    const list = await call<Page<{ userId: string }>>(app, "GET", base, { as: s.schoolAdmin });
    pageOf(groupMemberSchema).parse(list.body);
    expect(list.body.items.map((m) => m.userId)).toEqual(expect.arrayContaining([s.schoolAdmin.id, user.id]));
    const paged = await allPages(base, s.schoolAdmin, 1);
    expect(paged.length).toBe(list.body.items.length);

    const patch = await call(app, "PATCH", `${base}/${user.id}`, { as: s.schoolAdmin, body: { role: "admin" } });
    expect(patch.status).toBe(200);
    expect(patch.body).toMatchObject({ role: "admin" });

    expect((await call(app, "DELETE", `${base}/${user.id}`, { as: s.schoolAdmin })).status).toBe(204);
    expect((await call(app, "DELETE", `${base}/${user.id}`, { as: s.schoolAdmin })).status).toBe(404);
    const after = await call<Page<{ userId: string }>>(app, "GET", base, { as: s.schoolAdmin });
    expect(after.body.items.map((m) => m.userId)).not.toContain(user.id);
    const readd = await call(app, "POST", base, { as: s.schoolAdmin, body: { userId: user.id, role: "member" } });
    expect(readd.status).toBe(201);
    const actions = await db.db.select({ action: auditLog.action }).from(auditLog).where(eq(auditLog.targetId, `${s.school.id}:${user.id}`));
    expect(actions.map((a) => a.action).sort()).toEqual(["group.member.add", "group.member.add", "group.member.remove", "group.member.update"]);
  });

  test("an unknown user → 422 USER_NOT_IN_REACH; a bad role → 422; an unknown member → 404", async () => {
    const base = `/api/groups/${s.school.id}/members`;
    const missing = await call(app, "POST", base, { as: s.schoolAdmin, body: { userId: crypto.randomUUID(), role: "member" } });
    expect(missing.status).toBe(422);
    expect(errorCode(missing.body)).toBe("USER_NOT_IN_REACH");
    expect((await call(app, "POST", base, { as: s.schoolAdmin, body: { userId: outsider.id, role: "owner" } })).status).toBe(422);
    expect((await call(app, "PATCH", `${base}/${outsider.id}`, { as: s.schoolAdmin, body: { role: "admin" } })).status).toBe(404);
  });
});

describe("who a group may enrol", () => {
  test("a user of another district is refused without leaking who they are; then they see nothing of this district", async () => {
    const other = await makeSchoolScene(db.db);
    const stranger = other.student;
    const [row] = await db.db.select({ name: users.name, email: users.email }).from(users).where(eq(users.id, stranger.id));
    for (const [as, group] of [[s.schoolAdmin, s.school], [s.districtAdmin, s.department]] as const) {
      const res = await call(app, "POST", `/api/groups/${group.id}/members`, { as, body: { userId: stranger.id, role: "member" } });
      expect(res.status).toBe(422);
      expect(errorCode(res.body)).toBe("USER_NOT_IN_REACH");
      const text = JSON.stringify(res.body);
      for (const secret of [row?.name, row?.email]) if (secret) expect(text).not.toContain(secret);
    }
    const seen = await call<Page<{ id: string }>>(app, "GET", "/api/groups", { as: stranger });
    expect(ids(seen.body)).not.toContain(s.school.id);
    expect(ids(seen.body)).not.toContain(s.district.id);
  });

  test("anyone with a live membership in the district is in reach; a system admin may enrol anyone", async () => {
    const inDistrict = await makeUser(db.db);
    await addGroupMember(db.db, sibling.id, inDistrict.id, "member");
    const ok = await call(app, "POST", `/api/groups/${s.department.id}/members`, { as: s.schoolAdmin, body: { userId: inDistrict.id, role: "member" } });
    expect(ok.status).toBe(201);
    // A tombstoned membership is no longer a way in.
    const left = await makeUser(db.db);
    await addGroupMember(db.db, sibling.id, left.id, "member");
    await db.db.update(groupMembers).set({ deletedAt: new Date() }).where(and(eq(groupMembers.groupId, sibling.id), eq(groupMembers.userId, left.id)));
    const gone = await call(app, "POST", `/api/groups/${s.school.id}/members`, { as: s.schoolAdmin, body: { userId: left.id, role: "member" } });
    expect(errorCode(gone.body)).toBe("USER_NOT_IN_REACH");
    const unaffiliated = await makeUser(db.db);
    const bySys = await call(app, "POST", `/api/groups/${s.school.id}/members`, { as: sysAdmin, body: { userId: unaffiliated.id, role: "member" } });
    expect(bySys.status).toBe(201);
  });
});

securityTests("groups", () => app, [
  { method: "GET", route: "/api/groups", path: () => "/api/groups" },
  { method: "GET", route: "/api/groups/:id", path: () => `/api/groups/${s.school.id}`, denied: () => [{ who: siblingAdmin, status: 404 }, { who: outsider, status: 404 }] },
  { method: "GET", route: "/api/groups/:id/children", path: () => `/api/groups/${s.school.id}/children`, denied: () => [{ who: siblingAdmin, status: 404 }] },
  { method: "GET", route: "/api/groups/:id/ancestors", path: () => `/api/groups/${s.school.id}/ancestors`, denied: () => [{ who: siblingAdmin, status: 404 }] },
  { method: "GET", route: "/api/groups/:id/subtree", path: () => `/api/groups/${s.school.id}/subtree`, denied: () => [{ who: siblingAdmin, status: 404 }] },
  {
    method: "POST",
    route: "/api/groups",
    path: () => "/api/groups",
    body: () => ({ parentId: s.school.id, name: "X", slug: unique("sec") }),
    denied: () => [{ who: siblingAdmin, status: 404 }, { who: s.teacher, status: 403 }],
  },
  {
    method: "PATCH",
    route: "/api/groups/:id",
    path: () => `/api/groups/${s.school.id}`,
    body: () => ({ name: "Hijacked" }),
    denied: () => [{ who: siblingAdmin, status: 404 }, { who: s.teacher, status: 403 }],
  },
  { method: "GET", route: "/api/groups/:id/members", path: () => `/api/groups/${s.school.id}/members`, denied: () => [{ who: siblingAdmin, status: 404 }, { who: s.teacher, status: 403 }] },
  {
    method: "POST",
    route: "/api/groups/:id/members",
    path: () => `/api/groups/${s.school.id}/members`,
    body: () => ({ userId: outsider.id, role: "admin" }),
    denied: () => [{ who: siblingAdmin, status: 404 }, { who: s.teacher, status: 403 }],
  },
  {
    method: "PATCH",
    route: "/api/groups/:id/members/:userId",
    path: () => `/api/groups/${s.school.id}/members/${s.schoolAdmin.id}`,
    body: () => ({ role: "member" }),
    denied: () => [{ who: siblingAdmin, status: 404 }, { who: s.teacher, status: 403 }],
  },
  {
    method: "DELETE",
    route: "/api/groups/:id/members/:userId",
    path: () => `/api/groups/${s.school.id}/members/${s.schoolAdmin.id}`,
    denied: () => [{ who: siblingAdmin, status: 404 }, { who: s.teacher, status: 403 }],
  },
]);
