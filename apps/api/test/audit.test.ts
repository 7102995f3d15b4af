import { beforeAll, describe, expect, test } from "bun:test";
import { auditEntrySchema, pageOf, type Page } from "@raptscallions/core";
import { addGroupMember, makeGroup, makeSchoolScene, makeUser, type SchoolScene, unique } from "@raptscallions/db/testing";
import { useHarness } from "./helpers/harness.ts";
import { errorCode, securityTests } from "./helpers/security.ts";

type Entry = { id: number; action: string; targetType: string; targetId: string | null; groupId: string | null; actorId: string | null; requestId: string | null };
type User = Awaited<ReturnType<typeof makeUser>>;

const h = useHarness();
let s: SchoolScene;
let sysAdmin: User;
let siblingAdmin: User;
let sibling: Awaited<ReturnType<typeof makeGroup>>;
let classInSchool: string;
let classInSibling: string;
let modelId: string;

beforeAll(async () => {
  s = await makeSchoolScene(h.db.db);
  sysAdmin = await makeUser(h.db.db, { isSystemAdmin: true });
  sibling = await makeGroup(h.db.db, { kind: "school", parent: s.district });
  siblingAdmin = await makeUser(h.db.db);
  await addGroupMember(h.db.db, sibling.id, siblingAdmin.id, "admin");
  // Real writes through the API, so the entries are the ones the services record.
  const a = await h.as(s.schoolAdmin).post<{ id: string }>("/api/classes", { groupId: s.department.id, name: "Audited" });
  const b = await h.as(siblingAdmin).post<{ id: string }>("/api/classes", { groupId: sibling.id, name: "Sibling" });
  classInSchool = a.body.id;
  classInSibling = b.body.id;
  modelId = unique("audit-model");
  await h.as(sysAdmin).post("/api/ai/models", { id: modelId, provider: "p", displayName: "d" });
}, 120_000);

const targets = (p: Page<Entry>) => p.items.map((e) => e.targetId);

describe("GET /api/audit", () => {
  test("a school admin sees its subtree's entries, not the sibling school's nor system ones", async () => {
    const res = await h.as(s.schoolAdmin).get<Page<Entry>>("/api/audit?limit=200");
    expect(res.status).toBe(200);
    pageOf(auditEntrySchema).parse(res.body);
    expect(targets(res.body)).toContain(classInSchool);
    expect(targets(res.body)).not.toContain(classInSibling);
    expect(targets(res.body)).not.toContain(modelId);
    expect(res.body.items.every((e) => e.groupId !== null)).toBe(true);
  });

  test("the district admin sees both schools; a system admin also sees system entries", async () => {
    const district = await h.as(s.districtAdmin).get<Page<Entry>>("/api/audit?limit=200");
    expect(targets(district.body)).toEqual(expect.arrayContaining([classInSchool, classInSibling]));
    const system = await h.as(sysAdmin).get<Page<Entry>>(`/api/audit?targetType=ai_model&targetId=${encodeURIComponent(modelId)}`);
    expect(system.body.items).toEqual([expect.objectContaining({ action: "ai.model.create", actorId: sysAdmin.id, groupId: null })]);
  });

  test("filters by target, group subtree and action; newest first with pagination", async () => {
    const byTarget = await h.as(s.districtAdmin).get<Page<Entry>>(`/api/audit?targetType=class&targetId=${classInSchool}`);
    expect(byTarget.body.items).toEqual([expect.objectContaining({ action: "class.create", actorId: s.schoolAdmin.id, groupId: s.department.id })]);
    expect(byTarget.body.items[0]?.requestId).toBeTruthy();
    const byGroup = await h.as(s.districtAdmin).get<Page<Entry>>(`/api/audit?groupId=${sibling.id}`);
    expect(targets(byGroup.body)).toEqual([classInSibling]);
    const p1 = await h.as(s.districtAdmin).get<Page<Entry>>("/api/audit?action=class.create&limit=1");
    const p2 = await h.as(s.districtAdmin).get<Page<Entry>>(`/api/audit?action=class.create&limit=1&cursor=${p1.body.nextCursor}`);
    expect([...targets(p1.body), ...targets(p2.body)]).toEqual([classInSibling, classInSchool]);
    expect((p1.body.items[0]?.id ?? 0) > (p2.body.items[0]?.id ?? 0)).toBe(true);
  });

  test("malformed cursor and bad filters → 400", async () => {
    const res = await h.as(s.districtAdmin).get("/api/audit?cursor=WyJ4Il0");
    expect(res.status).toBe(400);
    expect(errorCode(res.body)).toBe("BAD_REQUEST");
    expect((await h.as(s.districtAdmin).get("/api/audit?groupId=xyz")).status).toBe(400);
  });
});

securityTests("audit", () => h.app, [
  {
    method: "GET",
    route: "/api/audit",
    path: () => "/api/audit",
    denied: () => [
      { who: s.teacher, status: 403 },
      { who: s.student, status: 403 },
    ],
  },
]);
