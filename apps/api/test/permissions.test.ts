import { beforeAll, describe, expect, test } from "bun:test";
import { aiSettings, submissions } from "@raptscallions/db";
import { addClassMember, addGroupMember, makeAssignment, makeClass, makeGroup, makeModel, makeTool, makeUser, unique } from "@raptscallions/db/testing";
import { eq } from "drizzle-orm";
import { useHarness } from "./helpers/harness.ts";
import { type Caller, errorCode, type Method } from "./helpers/security.ts";

/**
 * Roles × resources × actions on every route of the management API. The scene: one district
 * with two schools (S1 with a department, S2), classes A (department), B (S1) and C (S2), a tool
 * at each level, an assignment per class, submissions from two students of A and one of C.
 */
const ROLES = ["sys", "dAdmin", "s1Admin", "s2Admin", "teacherA", "teacherB", "studentA1", "studentA2", "studentC", "outsider"] as const;
type Role = (typeof ROLES)[number];
type Row = { id: string };

const h = useHarness();
const who = {} as Record<Role, Caller & { id: string }>;
const S = {} as {
  district: Row & { path: string };
  s1: Row & { path: string };
  s2: Row & { path: string };
  dept: Row & { path: string };
  classA: Row;
  classB: Row;
  classC: Row;
  toolD: Row;
  toolS1: Row;
  toolS2: Row;
  asgA: Row;
  asgB: Row;
  asgC: Row;
  subA1: Row;
  subA2: Row;
  subC: Row;
  model: Row;
  s1Member: Row;
};

beforeAll(async () => {
  const d = h.db.db;
  for (const role of ROLES) who[role] = await makeUser(d, { isSystemAdmin: role === "sys" });
  S.district = await makeGroup(d, { kind: "district" });
  S.s1 = await makeGroup(d, { kind: "school", parent: S.district as never });
  S.s2 = await makeGroup(d, { kind: "school", parent: S.district as never });
  S.dept = await makeGroup(d, { kind: "department", parent: S.s1 as never });
  await addGroupMember(d, S.district.id, who.dAdmin.id, "admin");
  await addGroupMember(d, S.s1.id, who.s1Admin.id, "admin");
  await addGroupMember(d, S.s2.id, who.s2Admin.id, "admin");
  await addGroupMember(d, S.dept.id, who.teacherA.id, "teacher");
  S.s1Member = await makeUser(d);
  await addGroupMember(d, S.s1.id, S.s1Member.id, "member");
  S.classA = await makeClass(d, S.dept.id);
  S.classB = await makeClass(d, S.s1.id);
  S.classC = await makeClass(d, S.s2.id);
  await addClassMember(d, S.classA.id, who.teacherA.id, "teacher");
  await addClassMember(d, S.classA.id, who.studentA1.id, "student");
  await addClassMember(d, S.classA.id, who.studentA2.id, "student");
  await addClassMember(d, S.classB.id, who.teacherB.id, "teacher");
  await addClassMember(d, S.classC.id, who.studentC.id, "student");
  S.toolD = await makeTool(d, S.district.id);
  S.toolS1 = await makeTool(d, S.s1.id, { createdBy: who.teacherA.id });
  S.toolS2 = await makeTool(d, S.s2.id);
  S.asgA = await makeAssignment(d, S.classA.id, S.toolS1.id);
  S.asgB = await makeAssignment(d, S.classB.id, S.toolD.id);
  S.asgC = await makeAssignment(d, S.classC.id, S.toolS2.id);
  const sub = async (assignmentId: string, studentId: string) => {
    const [row] = await d.insert(submissions).values({ assignmentId, studentId, attempt: 1, state: "submitted", submittedAt: new Date() }).returning();
    if (!row) throw new Error("no submission");
    return row;
  };
  S.subA1 = await sub(S.asgA.id, who.studentA1.id);
  S.subA2 = await sub(S.asgA.id, who.studentA2.id);
  S.subC = await sub(S.asgC.id, who.studentC.id);
  S.model = await makeModel(d);
  // Audit entries in both schools, written through the API.
  await h.as(who.s1Admin).patch(`/api/groups/${S.s1.id}`, { settings: { marker: "s1" } });
  await h.as(who.s2Admin).patch(`/api/groups/${S.s2.id}`, { settings: { marker: "s2" } });
}, 120_000);

/** Expected statuses: `ok` roles get `status`, `forbidden` roles 403, everyone else 404. */
function expectFor(status: number, ok: readonly Role[], forbidden: readonly Role[] = []): Record<Role, number> {
  return Object.fromEntries(ROLES.map((r) => [r, ok.includes(r) ? status : forbidden.includes(r) ? 403 : 404])) as Record<Role, number>;
}
const everyone = (status: number) => expectFor(status, ROLES);
const sysOnly = (status: number) =>
  expectFor(
    status,
    ["sys"],
    ROLES.filter((r) => r !== "sys"),
  );

// Who may do what on S1 (and things in it).
const S1_ADMINS: Role[] = ["sys", "dAdmin", "s1Admin"];
const S1_VIEWERS: Role[] = ["teacherA", "teacherB", "studentA1", "studentA2"];
const CLASS_A_STAFF: Role[] = [...S1_ADMINS, "teacherA"];
const CLASS_A_STUDENTS: Role[] = ["studentA1", "studentA2"];

interface ListCheck {
  /** Ids the response may contain, from the fixed scene only. */
  universe: () => string[];
  /** Per role, the ids of the universe it must see (and no others of it). */
  visible: (role: Role) => string[];
  idOf?: (item: Record<string, unknown>) => string;
}
interface Cell {
  name: string;
  request: (role: Role) => Promise<{ method: Method; path: string; body?: unknown }> | { method: Method; path: string; body?: unknown };
  expect: Record<Role, number>;
  list?: ListCheck;
  after?: () => Promise<void>;
}

const freshUser = async () => (await makeUser(h.db.db)).id;
/** A user in the district (a member of the other school) who is not yet in S1: enrolable there. */
const districtUser = async () => {
  const id = await freshUser();
  await addGroupMember(h.db.db, S.s2.id, id, "member");
  return id;
};
const groupsVisible: Record<Role, () => string[]> = {
  sys: () => [S.district.id, S.s1.id, S.s2.id, S.dept.id],
  dAdmin: () => [S.district.id, S.s1.id, S.s2.id, S.dept.id],
  s1Admin: () => [S.district.id, S.s1.id, S.dept.id],
  s2Admin: () => [S.district.id, S.s2.id],
  teacherA: () => [S.district.id, S.s1.id, S.dept.id],
  teacherB: () => [S.district.id, S.s1.id],
  studentA1: () => [S.district.id, S.s1.id, S.dept.id],
  studentA2: () => [S.district.id, S.s1.id, S.dept.id],
  studentC: () => [S.district.id, S.s2.id],
  outsider: () => [],
};
const classesVisible: Record<Role, () => string[]> = {
  sys: () => [S.classA.id, S.classB.id, S.classC.id],
  dAdmin: () => [S.classA.id, S.classB.id, S.classC.id],
  s1Admin: () => [S.classA.id, S.classB.id],
  s2Admin: () => [S.classC.id],
  teacherA: () => [S.classA.id],
  teacherB: () => [S.classB.id],
  studentA1: () => [S.classA.id],
  studentA2: () => [S.classA.id],
  studentC: () => [S.classC.id],
  outsider: () => [],
};
const toolsVisible: Record<Role, () => string[]> = {
  sys: () => [S.toolD.id, S.toolS1.id, S.toolS2.id],
  dAdmin: () => [S.toolD.id, S.toolS1.id, S.toolS2.id],
  s1Admin: () => [S.toolD.id, S.toolS1.id],
  s2Admin: () => [S.toolD.id, S.toolS2.id],
  teacherA: () => [S.toolD.id, S.toolS1.id],
  teacherB: () => [S.toolD.id, S.toolS1.id],
  studentA1: () => [S.toolD.id, S.toolS1.id],
  studentA2: () => [S.toolD.id, S.toolS1.id],
  studentC: () => [S.toolD.id, S.toolS2.id],
  outsider: () => [],
};

const cells: Cell[] = [
  // ── groups ──────────────────────────────────────────────────────────────
  {
    name: "GET /api/groups",
    request: () => ({ method: "GET", path: "/api/groups?limit=200" }),
    expect: everyone(200),
    list: { universe: () => groupsVisible.sys(), visible: (r) => groupsVisible[r]() },
  },
  { name: "GET /api/groups/:S1", request: () => ({ method: "GET", path: `/api/groups/${S.s1.id}` }), expect: expectFor(200, [...S1_ADMINS, ...S1_VIEWERS]) },
  { name: "GET /api/groups/:S2", request: () => ({ method: "GET", path: `/api/groups/${S.s2.id}` }), expect: expectFor(200, ["sys", "dAdmin", "s2Admin", "studentC"]) },
  {
    name: "GET /api/groups/:district/children",
    request: () => ({ method: "GET", path: `/api/groups/${S.district.id}/children?limit=200` }),
    expect: expectFor(
      200,
      ROLES.filter((r) => r !== "outsider"),
    ),
    list: { universe: () => [S.s1.id, S.s2.id], visible: (r) => groupsVisible[r]().filter((id) => id === S.s1.id || id === S.s2.id) },
  },
  {
    name: "GET /api/groups/:dept/ancestors",
    request: () => ({ method: "GET", path: `/api/groups/${S.dept.id}/ancestors` }),
    expect: expectFor(200, [...S1_ADMINS, "teacherA", "studentA1", "studentA2"]),
  },
  {
    name: "GET /api/groups/:district/subtree",
    request: () => ({ method: "GET", path: `/api/groups/${S.district.id}/subtree?limit=200` }),
    expect: expectFor(
      200,
      ROLES.filter((r) => r !== "outsider"),
    ),
    list: { universe: () => groupsVisible.sys(), visible: (r) => groupsVisible[r]() },
  },
  {
    name: "POST /api/groups (under S1)",
    request: () => ({ method: "POST", path: "/api/groups", body: { parentId: S.s1.id, name: "Matrix", slug: unique("matrix") } }),
    expect: expectFor(201, S1_ADMINS, S1_VIEWERS),
  },
  {
    name: "POST /api/groups (root)",
    request: () => ({ method: "POST", path: "/api/groups", body: { parentId: null, name: "Root", slug: unique("root") } }),
    expect: sysOnly(201),
  },
  {
    name: "PATCH /api/groups/:S1",
    request: () => ({ method: "PATCH", path: `/api/groups/${S.s1.id}`, body: { name: "School one" } }),
    expect: expectFor(200, S1_ADMINS, S1_VIEWERS),
  },
  {
    name: "GET /api/groups/:S1/members",
    request: () => ({ method: "GET", path: `/api/groups/${S.s1.id}/members?limit=200` }),
    expect: expectFor(200, S1_ADMINS, S1_VIEWERS),
    list: {
      universe: () => [S.s1Member.id, who.s1Admin.id, who.s2Admin.id, who.dAdmin.id],
      visible: () => [S.s1Member.id, who.s1Admin.id],
      idOf: (m) => String(m.userId),
    },
  },
  {
    name: "POST /api/groups/:S1/members",
    request: async () => ({ method: "POST", path: `/api/groups/${S.s1.id}/members`, body: { userId: await districtUser(), role: "member" } }),
    expect: expectFor(201, S1_ADMINS, S1_VIEWERS),
  },
  {
    name: "PATCH /api/groups/:S1/members/:userId",
    request: () => ({ method: "PATCH", path: `/api/groups/${S.s1.id}/members/${S.s1Member.id}`, body: { role: "member" } }),
    expect: expectFor(200, S1_ADMINS, S1_VIEWERS),
  },
  {
    name: "DELETE /api/groups/:S1/members/:userId",
    request: async () => {
      const id = await freshUser();
      await addGroupMember(h.db.db, S.s1.id, id, "member");
      return { method: "DELETE", path: `/api/groups/${S.s1.id}/members/${id}` };
    },
    expect: expectFor(204, S1_ADMINS, S1_VIEWERS),
  },
  // ── classes ─────────────────────────────────────────────────────────────
  {
    name: "GET /api/classes",
    request: () => ({ method: "GET", path: "/api/classes?limit=200&archived=all" }),
    expect: everyone(200),
    list: { universe: () => classesVisible.sys(), visible: (r) => classesVisible[r]() },
  },
  {
    name: "GET /api/classes/:A",
    request: () => ({ method: "GET", path: `/api/classes/${S.classA.id}` }),
    expect: expectFor(200, [...CLASS_A_STAFF, ...CLASS_A_STUDENTS]),
  },
  {
    name: "POST /api/classes (in the department)",
    request: () => ({ method: "POST", path: "/api/classes", body: { groupId: S.dept.id, name: "Matrix class" } }),
    expect: expectFor(201, [...S1_ADMINS, "teacherA"], CLASS_A_STUDENTS),
  },
  {
    name: "PATCH /api/classes/:A",
    request: () => ({ method: "PATCH", path: `/api/classes/${S.classA.id}`, body: { term: "2025" } }),
    expect: expectFor(200, CLASS_A_STAFF, CLASS_A_STUDENTS),
  },
  {
    name: "POST /api/classes/:id/archive (a class like A)",
    request: async () => {
      const cls = await makeClass(h.db.db, S.dept.id);
      await addClassMember(h.db.db, cls.id, who.teacherA.id, "teacher");
      await addClassMember(h.db.db, cls.id, who.studentA1.id, "student");
      await addClassMember(h.db.db, cls.id, who.studentA2.id, "student");
      return { method: "POST", path: `/api/classes/${cls.id}/archive` };
    },
    expect: expectFor(200, CLASS_A_STAFF, CLASS_A_STUDENTS),
  },
  {
    name: "GET /api/classes/:A/members",
    request: () => ({ method: "GET", path: `/api/classes/${S.classA.id}/members?limit=200` }),
    expect: expectFor(200, CLASS_A_STAFF, CLASS_A_STUDENTS),
    list: {
      universe: () => [who.teacherA.id, who.studentA1.id, who.studentA2.id, who.teacherB.id, who.studentC.id],
      visible: () => [who.teacherA.id, who.studentA1.id, who.studentA2.id],
      idOf: (m) => String(m.userId),
    },
  },
  {
    name: "POST /api/classes/:A/members",
    request: async () => ({ method: "POST", path: `/api/classes/${S.classA.id}/members`, body: { userId: await districtUser(), role: "student" } }),
    expect: expectFor(201, CLASS_A_STAFF, CLASS_A_STUDENTS),
  },
  {
    name: "DELETE /api/classes/:A/members/:userId",
    request: async () => {
      const id = await freshUser();
      await addClassMember(h.db.db, S.classA.id, id, "student");
      return { method: "DELETE", path: `/api/classes/${S.classA.id}/members/${id}` };
    },
    expect: expectFor(204, CLASS_A_STAFF, CLASS_A_STUDENTS),
  },
  // ── tools ───────────────────────────────────────────────────────────────
  {
    name: "GET /api/tools",
    request: () => ({ method: "GET", path: "/api/tools?limit=200" }),
    expect: everyone(200),
    list: { universe: () => toolsVisible.sys(), visible: (r) => toolsVisible[r]() },
  },
  { name: "GET /api/tools/:S1tool", request: () => ({ method: "GET", path: `/api/tools/${S.toolS1.id}` }), expect: expectFor(200, [...S1_ADMINS, ...S1_VIEWERS]) },
  {
    name: "GET /api/tools/:S2tool",
    request: () => ({ method: "GET", path: `/api/tools/${S.toolS2.id}` }),
    expect: expectFor(200, ["sys", "dAdmin", "s2Admin", "studentC"]),
  },
  {
    name: "POST /api/tools (in S1)",
    request: () => ({ method: "POST", path: "/api/tools", body: { groupId: S.s1.id, name: "Matrix tool", definition: { systemPrompt: "Hi" } } }),
    expect: expectFor(201, S1_ADMINS, S1_VIEWERS),
  },
  {
    name: "POST /api/tools/:S1tool/versions",
    request: () => ({ method: "POST", path: `/api/tools/${S.toolS1.id}/versions`, body: { definition: { systemPrompt: "Next" } } }),
    expect: expectFor(201, [...S1_ADMINS, "teacherA"], ["teacherB", ...CLASS_A_STUDENTS]),
  },
  {
    name: "GET /api/tools/:S1tool/versions",
    request: () => ({ method: "GET", path: `/api/tools/${S.toolS1.id}/versions` }),
    expect: expectFor(200, [...S1_ADMINS, "teacherA", "teacherB"], CLASS_A_STUDENTS),
  },
  {
    name: "GET /api/tools/:S1tool/versions/1",
    request: () => ({ method: "GET", path: `/api/tools/${S.toolS1.id}/versions/1` }),
    expect: expectFor(200, [...S1_ADMINS, "teacherA", "teacherB"], CLASS_A_STUDENTS),
  },
  {
    name: "POST /api/tools/:id/archive (teacherA's S1 tool)",
    request: async () => ({ method: "POST", path: `/api/tools/${(await makeTool(h.db.db, S.s1.id, { createdBy: who.teacherA.id })).id}/archive` }),
    expect: expectFor(200, [...S1_ADMINS, "teacherA"], ["teacherB", ...CLASS_A_STUDENTS]),
  },
  // ── assignments ─────────────────────────────────────────────────────────
  {
    name: "GET /api/classes/:A/assignments",
    request: () => ({ method: "GET", path: `/api/classes/${S.classA.id}/assignments?limit=200` }),
    expect: expectFor(200, [...CLASS_A_STAFF, ...CLASS_A_STUDENTS]),
    list: { universe: () => [S.asgA.id, S.asgB.id, S.asgC.id], visible: () => [S.asgA.id] },
  },
  {
    name: "POST /api/classes/:A/assignments",
    request: () => ({ method: "POST", path: `/api/classes/${S.classA.id}/assignments`, body: { title: "Matrix", toolId: S.toolD.id } }),
    expect: expectFor(201, CLASS_A_STAFF, CLASS_A_STUDENTS),
  },
  {
    name: "GET /api/assignments/:A",
    request: () => ({ method: "GET", path: `/api/assignments/${S.asgA.id}` }),
    expect: expectFor(200, [...CLASS_A_STAFF, ...CLASS_A_STUDENTS]),
  },
  {
    name: "GET /api/assignments/:C",
    request: () => ({ method: "GET", path: `/api/assignments/${S.asgC.id}` }),
    expect: expectFor(200, ["sys", "dAdmin", "s2Admin", "studentC"]),
  },
  {
    name: "PATCH /api/assignments/:A",
    request: () => ({ method: "PATCH", path: `/api/assignments/${S.asgA.id}`, body: { instructions: "Read chapter 1" } }),
    expect: expectFor(200, CLASS_A_STAFF, CLASS_A_STUDENTS),
  },
  {
    name: "DELETE /api/assignments/:id (in A)",
    request: async () => ({ method: "DELETE", path: `/api/assignments/${(await makeAssignment(h.db.db, S.classA.id, S.toolS1.id)).id}` }),
    expect: expectFor(204, CLASS_A_STAFF, CLASS_A_STUDENTS),
  },
  // ── submissions ─────────────────────────────────────────────────────────
  {
    name: "GET /api/assignments/:A/submissions",
    request: () => ({ method: "GET", path: `/api/assignments/${S.asgA.id}/submissions?limit=200` }),
    expect: expectFor(200, [...CLASS_A_STAFF, ...CLASS_A_STUDENTS]),
    list: {
      universe: () => [S.subA1.id, S.subA2.id, S.subC.id],
      visible: (r) => (r === "studentA1" ? [S.subA1.id] : r === "studentA2" ? [S.subA2.id] : [S.subA1.id, S.subA2.id]),
    },
  },
  {
    name: "GET /api/submissions/:A2",
    request: () => ({ method: "GET", path: `/api/submissions/${S.subA2.id}` }),
    expect: expectFor(200, [...CLASS_A_STAFF, "studentA2"]),
  },
  {
    name: "PATCH /api/submissions/:A2",
    request: () => ({ method: "PATCH", path: `/api/submissions/${S.subA2.id}`, body: { grade: "A", feedback: "Well argued" } }),
    expect: expectFor(200, CLASS_A_STAFF, ["studentA2"]),
  },
  // ── AI ──────────────────────────────────────────────────────────────────
  { name: "GET /api/ai/models", request: () => ({ method: "GET", path: "/api/ai/models" }), expect: everyone(200) },
  {
    name: "POST /api/ai/models",
    request: () => ({ method: "POST", path: "/api/ai/models", body: { id: unique("matrix-model"), provider: "p", displayName: "d" } }),
    expect: sysOnly(201),
  },
  {
    name: "PATCH /api/ai/models/:id",
    request: () => ({ method: "PATCH", path: `/api/ai/models/${S.model.id}`, body: { displayName: "Renamed" } }),
    expect: sysOnly(200),
  },
  { name: "GET /api/ai/settings/system", request: () => ({ method: "GET", path: "/api/ai/settings/system" }), expect: sysOnly(200) },
  {
    name: "PUT /api/ai/settings/system",
    request: async () => {
      const [current] = await h.db.db.select().from(aiSettings).where(eq(aiSettings.isSystem, true));
      // Re-put what is there (the row is shared on a shared Postgres), so the call changes nothing.
      return {
        method: "PUT",
        path: "/api/ai/settings/system",
        body: {
          defaultModel: current?.defaultModel ?? null,
          requestsPerMinute: current?.requestsPerMinute ?? null,
          requestsPerHour: current?.requestsPerHour ?? null,
          tokensPerDay: current?.tokensPerDay ?? null,
          monthlyBudgetUsd: current?.monthlyBudgetUsd ?? null,
          alertThreshold: current?.alertThreshold ?? 0.8,
        },
      };
    },
    expect: sysOnly(200),
  },
  {
    name: "GET /api/groups/:S1/ai-settings",
    request: () => ({ method: "GET", path: `/api/groups/${S.s1.id}/ai-settings` }),
    expect: expectFor(200, S1_ADMINS, S1_VIEWERS),
  },
  {
    name: "PUT /api/groups/:S1/ai-settings",
    request: () => ({ method: "PUT", path: `/api/groups/${S.s1.id}/ai-settings`, body: { requestsPerMinute: 30 } }),
    expect: expectFor(200, S1_ADMINS, S1_VIEWERS),
  },
  {
    name: "DELETE /api/groups/:S1/ai-settings",
    request: () => ({ method: "DELETE", path: `/api/groups/${S.s1.id}/ai-settings` }),
    expect: expectFor(204, S1_ADMINS, S1_VIEWERS),
  },
  // ── audit ───────────────────────────────────────────────────────────────
  {
    name: "GET /api/audit",
    request: () => ({ method: "GET", path: "/api/audit?limit=200&targetType=group" }),
    expect: expectFor(200, ["sys", "dAdmin", "s1Admin", "s2Admin"], ["teacherA", "teacherB", "studentA1", "studentA2", "studentC", "outsider"]),
  },
];

for (const cell of cells) {
  describe(cell.name, () => {
    for (const role of ROLES) {
      const status = cell.expect[role];
      test(`${role} → ${status}`, async () => {
        const req = await cell.request(role);
        const res = await h.as(who[role]).request<{ items?: Record<string, unknown>[] }>(req.method, req.path, { body: req.body });
        expect(res.status).toBe(status);
        if (status === 403) expect(errorCode(res.body)).toBe("FORBIDDEN");
        if (status === 404) expect(errorCode(res.body)).toBe("NOT_FOUND");
        if (cell.list && status === 200) {
          const idOf = cell.list.idOf ?? ((item: Record<string, unknown>) => String(item.id));
          const items = [...(res.body.items ?? [])];
          // Follow the cursor to the end: a system admin on a shared database sees everyone's rows.
          let cursor = (res.body as { nextCursor?: string | null }).nextCursor ?? null;
          for (let pages = 0; cursor && pages < 500; pages += 1) {
            const next = await h.as(who[role]).request<{ items: Record<string, unknown>[]; nextCursor: string | null }>(req.method, `${req.path}&cursor=${cursor}`);
            expect(next.status).toBe(200);
            items.push(...next.body.items);
            cursor = next.body.nextCursor;
          }
          const returned = new Set(items.map(idOf));
          const universe = cell.list.universe();
          const visible = cell.list.visible(role);
          // No leak: nothing of the scene beyond what this role may see…
          expect(universe.filter((id) => returned.has(id)).sort()).toEqual([...visible].sort());
          // …and a caller with no place in any tree sees nothing at all.
          if (role === "outsider") expect(returned.size).toBe(0);
        }
        await cell.after?.();
      });
    }
  });
}

describe("audit scoping (no leak across schools)", () => {
  const groupIdsOf = async (role: Role) => {
    const res = await h.as(who[role]).get<{ items: { groupId: string | null; targetId: string | null }[] }>("/api/audit?limit=200&action=group.update");
    expect(res.status).toBe(200);
    return res.body.items.map((e) => e.groupId);
  };
  test("a school admin sees its school's entries and none of the sibling's", async () => {
    const s1 = await groupIdsOf("s1Admin");
    expect(s1).toContain(S.s1.id);
    expect(s1).not.toContain(S.s2.id);
    const s2 = await groupIdsOf("s2Admin");
    expect(s2).toContain(S.s2.id);
    expect(s2).not.toContain(S.s1.id);
  });
  test("the district admin sees both; the system admin too", async () => {
    expect(await groupIdsOf("dAdmin")).toEqual(expect.arrayContaining([S.s1.id, S.s2.id]));
    expect(await groupIdsOf("sys")).toEqual(expect.arrayContaining([S.s1.id, S.s2.id]));
  });
});
