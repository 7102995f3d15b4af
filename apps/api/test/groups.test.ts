import { beforeAll, describe, expect, test } from "bun:test";
import { groupMemberSchema, groupSchema, pageOf, type Page } from "@raptscallions/core";
import { auditLog, groupMembers, groups, users } from "@raptscallions/db";
import { addGroupMember, makeGroup, makeSchoolScene, makeUser, type SchoolScene, unique } from "@raptscallions/db/testing";
import { and, eq } from "drizzle-orm";
import { useHarness } from "./helpers/harness.ts";
import { errorCode, securityTests } from "./helpers/security.ts";

type Group = { id: string; name: string; slug: string; parentId: string | null; depth: number };

const h = useHarness();
let s: SchoolScene;
let sibling: Awaited<ReturnType<typeof makeGroup>>;
let siblingAdmin: Awaited<ReturnType<typeof makeUser>>;
let sysAdmin: Awaited<ReturnType<typeof makeUser>>;
let outsider: Awaited<ReturnType<typeof makeUser>>;

beforeAll(async () => {
  s = await makeSchoolScene(h.db.db);
  sibling = await makeGroup(h.db.db, { kind: "school", parent: s.district });
  siblingAdmin = await makeUser(h.db.db);
  await addGroupMember(h.db.db, sibling.id, siblingAdmin.id, "admin");
  sysAdmin = await makeUser(h.db.db, { isSystemAdmin: true });
  outsider = await makeUser(h.db.db);
}, 120_000);

const ids = (page: Page<{ id: string }>) => page.items.map((g) => g.id);

async function allPages(path: string, as: { clerkUserId: string | null }, limit: number): Promise<string[]> {
  const seen: string[] = [];
  let cursor: string | null = null;
  for (let i = 0; i < 50; i += 1) {
    const sep = path.includes("?") ? "&" : "?";
    const res: { status: number; body: Page<{ id: string }> } = await h
      .as(as)
      .get<Page<{ id: string }>>(`${path}${sep}limit=${limit}${cursor ? `&cursor=${cursor}` : ""}`);
    expect(res.status).toBe(200);
    seen.push(...ids(res.body));
    cursor = res.body.nextCursor;
    if (!cursor) return seen;
  }
  throw new Error("pagination did not end");
}

describe("GET /api/groups", () => {
  test("a teacher sees their groups and ancestors, not the sibling school", async () => {
    const res = await h.as(s.teacher).get<Page<Group>>("/api/groups");
    expect(res.status).toBe(200);
    pageOf(groupSchema).parse(res.body);
    expect(new Set(ids(res.body))).toEqual(new Set([s.district.id, s.school.id, s.department.id]));
  });

  test("a school admin sees its subtree and ancestors; the district admin everything in the district", async () => {
    const school = await h.as(s.schoolAdmin).get<Page<Group>>("/api/groups");
    expect(new Set(ids(school.body))).toEqual(new Set([s.district.id, s.school.id, s.department.id]));
    const district = await h.as(s.districtAdmin).get<Page<Group>>("/api/groups");
    expect(new Set(ids(district.body))).toEqual(new Set([s.district.id, s.school.id, s.department.id, sibling.id]));
  });

  test("a user with no memberships sees nothing; a system admin sees every group", async () => {
    const none = await h.as(outsider).get<Page<Group>>("/api/groups");
    expect(none.body).toEqual({ items: [], nextCursor: null });
    const all = await allPages("/api/groups?kind=school", sysAdmin, 200);
    expect(all).toEqual(expect.arrayContaining([s.school.id, sibling.id]));
  });

  test("cursor pagination walks every page once, in order", async () => {
    const paged = await allPages("/api/groups", s.districtAdmin, 1);
    expect(paged).toHaveLength(4);
    expect(new Set(paged).size).toBe(4);
    const oneGo = await h.as(s.districtAdmin).get<Page<Group>>("/api/groups?limit=10");
    expect(paged).toEqual(ids(oneGo.body));
  });

  test("a malformed or foreign cursor → 400, a bad limit → 400", async () => {
    for (const cursor of ["!!!", "bm90IGpzb24", btoa(JSON.stringify([1, 2, 3])), btoa(JSON.stringify(["a", "not-a-uuid"]))]) {
      const res = await h.as(s.teacher).get(`/api/groups?cursor=${encodeURIComponent(cursor)}`);
      expect(res.status).toBe(400);
      expect(errorCode(res.body)).toBe("BAD_REQUEST");
    }
    const limit = await h.as(s.teacher).get("/api/groups?limit=0");
    expect(limit.status).toBe(400);
  });

  test("kind filter", async () => {
    const res = await h.as(s.districtAdmin).get<Page<Group>>("/api/groups?kind=department");
    expect(ids(res.body)).toEqual([s.department.id]);
  });
});

describe("GET /api/groups/:id and the tree", () => {
  test("a member gets a visible group; unknown and malformed ids → 404", async () => {
    const res = await h.as(s.teacher).get<Group>(`/api/groups/${s.school.id}`);
    expect(res.status).toBe(200);
    expect(groupSchema.parse(res.body)).toMatchObject({ id: s.school.id, parentId: s.district.id, depth: 1 });
    expect((await h.as(sysAdmin).get(`/api/groups/${crypto.randomUUID()}`)).status).toBe(404);
    const bad = await h.as(sysAdmin).get("/api/groups/not-a-uuid");
    expect(bad.status).toBe(404);
    expect(errorCode(bad.body)).toBe("NOT_FOUND");
  });

  test("children: only those the caller can see", async () => {
    const admin = await h.as(s.districtAdmin).get<Page<Group>>(`/api/groups/${s.district.id}/children`);
    expect(new Set(ids(admin.body))).toEqual(new Set([s.school.id, sibling.id]));
    const teacher = await h.as(s.teacher).get<Page<Group>>(`/api/groups/${s.district.id}/children`);
    expect(ids(teacher.body)).toEqual([s.school.id]);
    expect(await allPages(`/api/groups/${s.district.id}/children`, s.districtAdmin, 1)).toHaveLength(2);
  });

  test("ancestors: root first, without the group itself", async () => {
    const res = await h.as(s.teacher).get<Page<Group>>(`/api/groups/${s.department.id}/ancestors`);
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ items: expect.any(Array), nextCursor: null });
    expect(ids(res.body)).toEqual([s.district.id, s.school.id]);
    const root = await h.as(s.teacher).get<Page<Group>>(`/api/groups/${s.district.id}/ancestors`);
    expect(root.body.items).toEqual([]);
  });

  test("subtree: the group and its descendants in tree order, paginated", async () => {
    const res = await h.as(s.districtAdmin).get<Page<Group>>(`/api/groups/${s.district.id}/subtree`);
    expect(res.body.items[0]?.id).toBe(s.district.id);
    expect(new Set(ids(res.body))).toEqual(new Set([s.district.id, s.school.id, s.department.id, sibling.id]));
    expect(await allPages(`/api/groups/${s.district.id}/subtree`, s.districtAdmin, 1)).toEqual(ids(res.body));
    const teacher = await h.as(s.teacher).get<Page<Group>>(`/api/groups/${s.district.id}/subtree`);
    expect(ids(teacher.body)).not.toContain(sibling.id);
  });
});

describe("POST /api/groups", () => {
  test("an admin creates a child under their group, audited in the same request", async () => {
    const slug = unique("dept");
    const res = await h
      .as(s.schoolAdmin)
      .post<Group>("/api/groups", { parentId: s.school.id, name: "Science", slug, kind: "department" }, { headers: { "x-request-id": `req-${slug}` } });
    expect(res.status).toBe(201);
    expect(groupSchema.parse(res.body)).toMatchObject({ parentId: s.school.id, slug, kind: "department", depth: 2 });
    const [row] = await h.db.db.select().from(groups).where(eq(groups.id, res.body.id));
    expect(row?.path.startsWith(`${s.school.path}.`)).toBe(true);
    const audit = await h.db.db
      .select()
      .from(auditLog)
      .where(and(eq(auditLog.action, "group.create"), eq(auditLog.targetId, res.body.id)));
    expect(audit).toHaveLength(1);
    expect(audit[0]).toMatchObject({ actorId: s.schoolAdmin.id, groupId: res.body.id, requestId: `req-${slug}`, targetType: "group" });
  });

  test("a root group only by a system admin", async () => {
    const body = { parentId: null, name: "New district", slug: unique("district"), kind: "district" };
    const denied = await h.as(s.districtAdmin).post("/api/groups", body);
    expect(denied.status).toBe(403);
    const ok = await h.as(sysAdmin).post<Group>("/api/groups", body);
    expect(ok.status).toBe(201);
    expect(ok.body.depth).toBe(0);
  });

  test("a taken slug → 409 and no audit entry; bad input → 422/415/400", async () => {
    const before = await h.db.db.select().from(auditLog).where(eq(auditLog.actorId, s.schoolAdmin.id));
    const dup = await h.as(s.schoolAdmin).post("/api/groups", { parentId: s.school.id, name: "Dup", slug: s.department.slug });
    expect(dup.status).toBe(409);
    expect(errorCode(dup.body)).toBe("CONFLICT");
    const after = await h.db.db.select().from(auditLog).where(eq(auditLog.actorId, s.schoolAdmin.id));
    expect(after.length).toBe(before.length);

    const invalid = await h.as(s.schoolAdmin).post("/api/groups", { parentId: s.school.id, name: "", slug: "Bad Slug!" });
    expect(invalid.status).toBe(422);
    expect(errorCode(invalid.body)).toBe("VALIDATION_FAILED");
    const notJson = await h.app.request("/api/groups", {
      method: "POST",
      headers: { ...(await import("./helpers/auth.ts").then((m) => m.authHeader(s.schoolAdmin))), "content-type": "text/plain" },
      body: "hello",
    });
    expect(notJson.status).toBe(415);
    const malformed = await h.app.request("/api/groups", {
      method: "POST",
      headers: { ...(await import("./helpers/auth.ts").then((m) => m.authHeader(s.schoolAdmin))), "content-type": "application/json" },
      body: "{nope",
    });
    expect(malformed.status).toBe(400);
  });
});

describe("PATCH /api/groups/:id", () => {
  test("an admin renames and re-slugs; the change is audited", async () => {
    const g = await makeGroup(h.db.db, { parent: s.school });
    const slug = unique("renamed");
    const res = await h.as(s.schoolAdmin).patch<Group>(`/api/groups/${g.id}`, { name: "Renamed", slug, settings: { a: 1 } });
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ name: "Renamed", slug });
    const [entry] = await h.db.db
      .select()
      .from(auditLog)
      .where(and(eq(auditLog.action, "group.update"), eq(auditLog.targetId, g.id)));
    expect(entry?.details).toMatchObject({ name: { to: "Renamed" }, settings: { keys: ["a"] } });
  });

  test("empty body → 422; slug of another group → 409", async () => {
    expect((await h.as(s.schoolAdmin).patch(`/api/groups/${s.department.id}`, {})).status).toBe(422);
    const taken = await h.as(s.schoolAdmin).patch(`/api/groups/${s.department.id}`, { slug: sibling.slug });
    expect(taken.status).toBe(409);
  });

  test("module settings inherited down the tree are checked when saved → 422", async () => {
    const bad = await h.as(s.schoolAdmin).patch(`/api/groups/${s.department.id}`, { settings: { modules: { "safety-filter": { nope: true } } } });
    expect(bad.status).toBe(422);
    expect(errorCode(bad.body)).toBe("VALIDATION_FAILED");
  });
});

describe("group members", () => {
  test("list, add, change role, remove, re-add", async () => {
    const user = await makeUser(h.db.db);
    // In the district already (a member of the sibling school), so the school may enrol them.
    await addGroupMember(h.db.db, sibling.id, user.id, "member");
    const base = `/api/groups/${s.school.id}/members`;
    const add = await h.as(s.schoolAdmin).post(base, { userId: user.id, role: "teacher" });
    expect(add.status).toBe(201);
    expect(groupMemberSchema.parse(add.body)).toMatchObject({ userId: user.id, role: "teacher", user: { id: user.id } });
    expect((await h.as(s.schoolAdmin).post(base, { userId: user.id, role: "teacher" })).status).toBe(409);

    const list = await h.as(s.schoolAdmin).get<Page<{ userId: string }>>(base);
    pageOf(groupMemberSchema).parse(list.body);
    expect(list.body.items.map((m) => m.userId)).toEqual(expect.arrayContaining([s.schoolAdmin.id, user.id]));
    const paged = await allPages(base, s.schoolAdmin, 1);
    expect(paged.length).toBe(list.body.items.length);

    const patch = await h.as(s.schoolAdmin).patch(`${base}/${user.id}`, { role: "admin" });
    expect(patch.status).toBe(200);
    expect(patch.body).toMatchObject({ role: "admin" });

    expect((await h.as(s.schoolAdmin).delete(`${base}/${user.id}`)).status).toBe(204);
    expect((await h.as(s.schoolAdmin).delete(`${base}/${user.id}`)).status).toBe(404);
    const after = await h.as(s.schoolAdmin).get<Page<{ userId: string }>>(base);
    expect(after.body.items.map((m) => m.userId)).not.toContain(user.id);
    const readd = await h.as(s.schoolAdmin).post(base, { userId: user.id, role: "member" });
    expect(readd.status).toBe(201);
    const actions = await h.db.db
      .select({ action: auditLog.action })
      .from(auditLog)
      .where(eq(auditLog.targetId, `${s.school.id}:${user.id}`));
    expect(actions.map((a) => a.action).sort()).toEqual(["group.member.add", "group.member.add", "group.member.remove", "group.member.update"]);
  });

  test("an unknown user → 422 USER_NOT_IN_REACH; a bad role → 422; an unknown member → 404", async () => {
    const base = `/api/groups/${s.school.id}/members`;
    const missing = await h.as(s.schoolAdmin).post(base, { userId: crypto.randomUUID(), role: "member" });
    expect(missing.status).toBe(422);
    expect(errorCode(missing.body)).toBe("USER_NOT_IN_REACH");
    expect((await h.as(s.schoolAdmin).post(base, { userId: outsider.id, role: "owner" })).status).toBe(422);
    expect((await h.as(s.schoolAdmin).patch(`${base}/${outsider.id}`, { role: "admin" })).status).toBe(404);
  });
});

describe("who a group may enrol", () => {
  test("a user of another district is refused without leaking who they are; then they see nothing of this district", async () => {
    const other = await makeSchoolScene(h.db.db);
    const stranger = other.student;
    const [row] = await h.db.db.select({ name: users.name, email: users.email }).from(users).where(eq(users.id, stranger.id));
    for (const [as, group] of [
      [s.schoolAdmin, s.school],
      [s.districtAdmin, s.department],
    ] as const) {
      const res = await h.as(as).post(`/api/groups/${group.id}/members`, { userId: stranger.id, role: "member" });
      expect(res.status).toBe(422);
      expect(errorCode(res.body)).toBe("USER_NOT_IN_REACH");
      const text = JSON.stringify(res.body);
      for (const secret of [row?.name, row?.email]) if (secret) expect(text).not.toContain(secret);
    }
    const seen = await h.as(stranger).get<Page<{ id: string }>>("/api/groups");
    expect(ids(seen.body)).not.toContain(s.school.id);
    expect(ids(seen.body)).not.toContain(s.district.id);
  });

  test("anyone with a live membership in the district is in reach; a system admin may enrol anyone", async () => {
    const inDistrict = await makeUser(h.db.db);
    await addGroupMember(h.db.db, sibling.id, inDistrict.id, "member");
    const ok = await h.as(s.schoolAdmin).post(`/api/groups/${s.department.id}/members`, { userId: inDistrict.id, role: "member" });
    expect(ok.status).toBe(201);
    // A tombstoned membership is no longer a way in.
    const left = await makeUser(h.db.db);
    await addGroupMember(h.db.db, sibling.id, left.id, "member");
    await h.db.db
      .update(groupMembers)
      .set({ deletedAt: new Date() })
      .where(and(eq(groupMembers.groupId, sibling.id), eq(groupMembers.userId, left.id)));
    const gone = await h.as(s.schoolAdmin).post(`/api/groups/${s.school.id}/members`, { userId: left.id, role: "member" });
    expect(errorCode(gone.body)).toBe("USER_NOT_IN_REACH");
    const unaffiliated = await makeUser(h.db.db);
    const bySys = await h.as(sysAdmin).post(`/api/groups/${s.school.id}/members`, { userId: unaffiliated.id, role: "member" });
    expect(bySys.status).toBe(201);
  });
});

securityTests("groups", () => h.app, [
  { method: "GET", route: "/api/groups", path: () => "/api/groups" },
  {
    method: "GET",
    route: "/api/groups/:id",
    path: () => `/api/groups/${s.school.id}`,
    denied: () => [
      { who: siblingAdmin, status: 404 },
      { who: outsider, status: 404 },
    ],
  },
  { method: "GET", route: "/api/groups/:id/children", path: () => `/api/groups/${s.school.id}/children`, denied: () => [{ who: siblingAdmin, status: 404 }] },
  { method: "GET", route: "/api/groups/:id/ancestors", path: () => `/api/groups/${s.school.id}/ancestors`, denied: () => [{ who: siblingAdmin, status: 404 }] },
  { method: "GET", route: "/api/groups/:id/subtree", path: () => `/api/groups/${s.school.id}/subtree`, denied: () => [{ who: siblingAdmin, status: 404 }] },
  {
    method: "POST",
    route: "/api/groups",
    path: () => "/api/groups",
    body: () => ({ parentId: s.school.id, name: "X", slug: unique("sec") }),
    denied: () => [
      { who: siblingAdmin, status: 404 },
      { who: s.teacher, status: 403 },
    ],
  },
  {
    method: "PATCH",
    route: "/api/groups/:id",
    path: () => `/api/groups/${s.school.id}`,
    body: () => ({ name: "Hijacked" }),
    denied: () => [
      { who: siblingAdmin, status: 404 },
      { who: s.teacher, status: 403 },
    ],
  },
  {
    method: "GET",
    route: "/api/groups/:id/members",
    path: () => `/api/groups/${s.school.id}/members`,
    denied: () => [
      { who: siblingAdmin, status: 404 },
      { who: s.teacher, status: 403 },
    ],
  },
  {
    method: "POST",
    route: "/api/groups/:id/members",
    path: () => `/api/groups/${s.school.id}/members`,
    body: () => ({ userId: outsider.id, role: "admin" }),
    denied: () => [
      { who: siblingAdmin, status: 404 },
      { who: s.teacher, status: 403 },
    ],
  },
  {
    method: "PATCH",
    route: "/api/groups/:id/members/:userId",
    path: () => `/api/groups/${s.school.id}/members/${s.schoolAdmin.id}`,
    body: () => ({ role: "member" }),
    denied: () => [
      { who: siblingAdmin, status: 404 },
      { who: s.teacher, status: 403 },
    ],
  },
  {
    method: "DELETE",
    route: "/api/groups/:id/members/:userId",
    path: () => `/api/groups/${s.school.id}/members/${s.schoolAdmin.id}`,
    denied: () => [
      { who: siblingAdmin, status: 404 },
      { who: s.teacher, status: 403 },
    ],
  },
]);
