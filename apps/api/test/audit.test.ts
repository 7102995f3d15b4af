import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { auditEntrySchema, pageOf } from "@raptscallions/core";
import type { DbHandle } from "@raptscallions/db";
import { addGroupMember, makeGroup, makeSchoolScene, makeUser, type SchoolScene, unique } from "@raptscallions/db/testing";
import { createApp } from "../src/app.ts";
import { createTestDb, testDeps } from "./helpers/deps.ts";
import { call, errorCode, securityTests } from "./helpers/security.ts";

type Entry = { id: number; action: string; targetType: string; targetId: string | null; groupId: string | null; actorId: string | null; requestId: string | null };
type Page<T> = { items: T[]; nextCursor: string | null };
type User = Awaited<ReturnType<typeof makeUser>>;

let db: DbHandle;
let app: ReturnType<typeof createApp>;
let s: SchoolScene;
let sysAdmin: User;
let siblingAdmin: User;
let sibling: Awaited<ReturnType<typeof makeGroup>>;
let classInSchool: string;
let classInSibling: string;
let modelId: string;

beforeAll(async () => {
  db = await createTestDb();
  app = createApp(await testDeps(db));
  s = await makeSchoolScene(db.db);
  sysAdmin = await makeUser(db.db, { isSystemAdmin: true });
  sibling = await makeGroup(db.db, { kind: "school", parent: s.district });
  siblingAdmin = await makeUser(db.db);
  await addGroupMember(db.db, sibling.id, siblingAdmin.id, "admin");
  // Real writes through the API, so the entries are the ones the services record.
  const a = await call<{ id: string }>(app, "POST", "/api/classes", { as: s.schoolAdmin, body: { groupId: s.department.id, name: "Audited" } });
  const b = await call<{ id: string }>(app, "POST", "/api/classes", { as: siblingAdmin, body: { groupId: sibling.id, name: "Sibling" } });
  classInSchool = a.body.id;
  classInSibling = b.body.id;
  modelId = unique("audit-model");
  await call(app, "POST", "/api/ai/models", { as: sysAdmin, body: { id: modelId, provider: "p", displayName: "d" } });
}, 120_000);
afterAll(async () => {
  await db.close();
});

const targets = (p: Page<Entry>) => p.items.map((e) => e.targetId);

describe("GET /api/audit", () => {
  test("a school admin sees its subtree's entries, not the sibling school's nor system ones", async () => {
    const res = await call<Page<Entry>>(app, "GET", "/api/audit?limit=200", { as: s.schoolAdmin });
    expect(res.status).toBe(200);
    pageOf(auditEntrySchema).parse(res.body);
    expect(targets(res.body)).toContain(classInSchool);
    expect(targets(res.body)).not.toContain(classInSibling);
    expect(targets(res.body)).not.toContain(modelId);
    expect(res.body.items.every((e) => e.groupId !== null)).toBe(true);
  });

  test("the district admin sees both schools; a system admin also sees system entries", async () => {
    const district = await call<Page<Entry>>(app, "GET", "/api/audit?limit=200", { as: s.districtAdmin });
    expect(targets(district.body)).toEqual(expect.arrayContaining([classInSchool, classInSibling]));
    const system = await call<Page<Entry>>(app, "GET", `/api/audit?targetType=ai_model&targetId=${encodeURIComponent(modelId)}`, { as: sysAdmin });
    expect(system.body.items).toEqual([expect.objectContaining({ action: "ai.model.create", actorId: sysAdmin.id, groupId: null })]);
  });

  test("filters by target, group subtree and action; newest first with pagination", async () => {
    const byTarget = await call<Page<Entry>>(app, "GET", `/api/audit?targetType=class&targetId=${classInSchool}`, { as: s.districtAdmin });
    expect(byTarget.body.items).toEqual([expect.objectContaining({ action: "class.create", actorId: s.schoolAdmin.id, groupId: s.department.id })]);
    expect(byTarget.body.items[0]?.requestId).toBeTruthy();
    const byGroup = await call<Page<Entry>>(app, "GET", `/api/audit?groupId=${sibling.id}`, { as: s.districtAdmin });
    expect(targets(byGroup.body)).toEqual([classInSibling]);
    const p1 = await call<Page<Entry>>(app, "GET", "/api/audit?action=class.create&limit=1", { as: s.districtAdmin });
    const p2 = await call<Page<Entry>>(app, "GET", `/api/audit?action=class.create&limit=1&cursor=${p1.body.nextCursor}`, { as: s.districtAdmin });
    expect([...targets(p1.body), ...targets(p2.body)]).toEqual([classInSibling, classInSchool]);
    expect((p1.body.items[0]?.id ?? 0) > (p2.body.items[0]?.id ?? 0)).toBe(true);
  });

  test("malformed cursor and bad filters → 400", async () => {
    const res = await call(app, "GET", "/api/audit?cursor=WyJ4Il0", { as: s.districtAdmin });
    expect(res.status).toBe(400);
    expect(errorCode(res.body)).toBe("BAD_REQUEST");
    expect((await call(app, "GET", "/api/audit?groupId=xyz", { as: s.districtAdmin })).status).toBe(400);
  });
});

securityTests("audit", () => app, [
  { method: "GET", route: "/api/audit", path: () => "/api/audit", denied: () => [{ who: s.teacher, status: 403 }, { who: s.student, status: 403 }] },
]);
