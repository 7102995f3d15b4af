import { beforeAll, describe, expect, test } from "bun:test";
import type { UsageSummary } from "@raptscallions/core";
import { aiUsage } from "@raptscallions/db";
import { addClassMember, addGroupMember, makeClass, makeGroup, makeModel, makeSchoolScene, makeUser, type SchoolScene } from "@raptscallions/db/testing";
import { authHeader } from "./helpers/auth.ts";
import { useHarness } from "./helpers/harness.ts";

const h = useHarness();
let scene: SchoolScene;
/** Class B: same department as the scene's class, another teacher and student. */
let classB: { id: string };
let teacherB: Awaited<ReturnType<typeof makeUser>>;
let studentB: Awaited<ReturnType<typeof makeUser>>;
/** A sibling school under the same district, with its own admin, class and student. */
let sibling: Awaited<ReturnType<typeof makeGroup>>;
let siblingAdmin: Awaited<ReturnType<typeof makeUser>>;
let classS: { id: string };
let studentS: Awaited<ReturnType<typeof makeUser>>;
let systemAdmin: Awaited<ReturnType<typeof makeUser>>;
let modelM: Awaited<ReturnType<typeof makeModel>>;
let modelN: Awaited<ReturnType<typeof makeModel>>;

const PERIOD = "from=2024-03-01&to=2024-03-31";

// PGlite boots and migrates in seconds; more on a busy machine than bun's 5 s hook default.
beforeAll(async () => {
  const d = h.db.db;
  scene = await makeSchoolScene(d);
  teacherB = await makeUser(d);
  studentB = await makeUser(d);
  classB = await makeClass(d, scene.department.id);
  await addClassMember(d, classB.id, teacherB.id, "teacher");
  await addClassMember(d, classB.id, studentB.id, "student");
  sibling = await makeGroup(d, { kind: "school", parent: scene.district });
  siblingAdmin = await makeUser(d);
  await addGroupMember(d, sibling.id, siblingAdmin.id, "admin");
  classS = await makeClass(d, sibling.id);
  studentS = await makeUser(d);
  await addClassMember(d, classS.id, studentS.id, "student");
  systemAdmin = await makeUser(d, { isSystemAdmin: true });
  modelM = await makeModel(d, { displayName: "Model M" });
  modelN = await makeModel(d, { displayName: "Model N" });

  const row = (
    user: { id: string },
    cls: { id: string },
    groupId: string,
    model: { id: string },
    at: string,
    v: {
      in: number;
      out: number;
      usd: number;
      latency: number | null;
      ttft: number | null;
      status: "complete" | "stopped" | "failed" | "interrupted";
      estimated?: boolean;
    },
  ) => ({
    userId: user.id,
    classId: cls.id,
    groupId,
    toolId: scene.tool.id,
    model: model.id,
    inputTokens: v.in,
    outputTokens: v.out,
    costUsd: v.usd,
    latencyMs: v.latency,
    ttftMs: v.ttft,
    status: v.status,
    estimated: v.estimated ?? false,
    createdAt: new Date(at),
  });
  const dept = scene.department.id;
  await d.insert(aiUsage).values([
    row(scene.student, scene.cls, dept, modelM, "2024-03-01T10:00:00Z", { in: 100, out: 200, usd: 0.5, latency: 1000, ttft: 100, status: "complete" }),
    row(scene.student, scene.cls, dept, modelM, "2024-03-02T10:00:00Z", { in: 50, out: 50, usd: 0.25, latency: 2000, ttft: 300, status: "stopped", estimated: true }),
    row(scene.otherStudent, scene.cls, dept, modelN, "2024-03-02T12:00:00Z", { in: 10, out: 10, usd: 0.1, latency: null, ttft: null, status: "complete" }),
    row(studentB, classB, dept, modelM, "2024-03-03T09:00:00Z", { in: 1000, out: 1000, usd: 2, latency: 500, ttft: 50, status: "failed" }),
    row(studentS, classS, sibling.id, modelM, "2024-03-03T11:00:00Z", { in: 7, out: 7, usd: 7, latency: 700, ttft: 70, status: "complete" }),
    // Outside the period.
    row(scene.student, scene.cls, dept, modelM, "2024-02-01T10:00:00Z", { in: 9, out: 9, usd: 100, latency: 9, ttft: 9, status: "complete" }),
  ]);
}, 60_000);

async function summary(user: { clerkUserId: string | null }, query: string): Promise<{ status: number; body: UsageSummary & { error?: { code: string } } }> {
  const res = await h.app.request(`/api/usage/summary?${query}`, { headers: await authHeader(user) });
  return { status: res.status, body: (await res.json()) as UsageSummary & { error?: { code: string } } };
}

async function ok(user: { clerkUserId: string | null }, query: string): Promise<UsageSummary> {
  const { status, body } = await summary(user, query);
  expect(status).toBe(200);
  return body;
}

describe("GET /api/usage/summary", () => {
  test("a district admin sees the whole subtree, totals and per group", async () => {
    const body = await ok(scene.districtAdmin, `${PERIOD}&groupId=${scene.district.id}&groupBy=group`);
    expect(body.from).toBe("2024-03-01T00:00:00.000Z");
    expect(body.to).toBe("2024-04-01T00:00:00.000Z"); // a date-only `to` covers that whole day
    expect(body.totals).toEqual({
      requests: 5,
      inputTokens: 1167,
      outputTokens: 1267,
      costUsd: 9.85,
      avgLatencyMs: 1050,
      avgTtftMs: 130,
      estimatedRequests: 1,
      byStatus: { complete: 3, stopped: 1, failed: 1, interrupted: 0 },
    });
    expect(body.buckets.map((b) => [b.key, b.label, b.requests, b.costUsd])).toEqual([
      [sibling.id, sibling.name, 1, 7],
      [scene.department.id, scene.department.name, 4, 2.85],
    ]);
    expect(body.truncated).toBe(false);
  });

  test("breakdowns by model (with display names) and by UTC day (ascending)", async () => {
    const byModel = await ok(systemAdmin, `${PERIOD}&groupId=${scene.district.id}&groupBy=model`);
    expect(byModel.buckets.map((b) => [b.key, b.label, b.requests])).toEqual([
      [modelM.id, "Model M", 4],
      [modelN.id, "Model N", 1],
    ]);
    const byDay = await ok(scene.districtAdmin, `${PERIOD}&groupBy=day`);
    expect(byDay.buckets.map((b) => [b.key, b.requests, b.avgLatencyMs])).toEqual([
      ["2024-03-01", 1, 1000],
      ["2024-03-02", 2, 2000],
      ["2024-03-03", 2, 600],
    ]);
  });

  test("a school admin sees their school only; a sibling school is a 404 and its users show nothing", async () => {
    const mine = await ok(scene.schoolAdmin, PERIOD);
    expect(mine.totals.requests).toBe(4);
    expect(mine.totals.costUsd).toBe(2.85);
    expect((await summary(scene.schoolAdmin, `${PERIOD}&groupId=${sibling.id}`)).body.error?.code).toBe("NOT_FOUND");
    expect((await summary(scene.schoolAdmin, `${PERIOD}&classId=${classS.id}`)).status).toBe(404);
    expect((await ok(scene.schoolAdmin, `${PERIOD}&userId=${studentS.id}`)).totals.requests).toBe(0);
    // And the sibling's admin sees nothing of this school.
    const theirs = await ok(siblingAdmin, `${PERIOD}&groupBy=class`);
    expect(theirs.totals.requests).toBe(1);
    expect(theirs.buckets.map((b) => b.key)).toEqual([classS.id]);
  });

  test("a teacher sees their class and its students; class B is a 404 and its students show nothing", async () => {
    const mine = await ok(scene.teacher, `${PERIOD}&groupBy=user`);
    expect(mine.totals.requests).toBe(3);
    expect(mine.buckets.map((b) => [b.key, b.label, b.requests])).toEqual([
      [scene.student.id, scene.student.name, 2],
      [scene.otherStudent.id, scene.otherStudent.name, 1],
    ]);
    expect((await ok(scene.teacher, `${PERIOD}&userId=${scene.student.id}`)).totals.requests).toBe(2);
    // The department holds class B too, but only the teacher's own class counts.
    expect((await ok(scene.teacher, `${PERIOD}&groupId=${scene.department.id}`)).totals.requests).toBe(3);
    expect((await summary(scene.teacher, `${PERIOD}&classId=${classB.id}`)).body.error?.code).toBe("NOT_FOUND");
    expect((await ok(scene.teacher, `${PERIOD}&userId=${studentB.id}`)).totals.requests).toBe(0);

    const other = await ok(teacherB, `${PERIOD}&groupBy=class`);
    expect(other.buckets.map((b) => [b.key, b.requests])).toEqual([[classB.id, 1]]);
  });

  test("a student sees only their own usage, whatever they ask for", async () => {
    const mine = await ok(scene.student, `${PERIOD}&groupBy=user`);
    expect(mine.totals.requests).toBe(2);
    expect(mine.buckets.map((b) => b.key)).toEqual([scene.student.id]);
    expect((await ok(scene.student, `${PERIOD}&classId=${scene.cls.id}`)).totals.requests).toBe(2);
    expect((await ok(scene.student, `${PERIOD}&userId=${scene.otherStudent.id}`)).totals.requests).toBe(0);
    expect((await ok(scene.student, `${PERIOD}&groupId=${scene.department.id}`)).totals.requests).toBe(2);
    expect((await summary(scene.student, `${PERIOD}&classId=${classB.id}`)).status).toBe(404);
  });

  test("the period bounds the rows; the default is the last 30 days", async () => {
    expect((await ok(scene.districtAdmin, "from=2024-03-02&to=2024-03-02")).totals.requests).toBe(2);
    expect((await ok(scene.districtAdmin, "from=2024-03-02T11:00:00Z&to=2024-03-03T10:00:00Z")).totals.requests).toBe(2);
    expect((await ok(scene.districtAdmin, "from=2024-01-01&to=2024-12-31")).totals.requests).toBe(6);
    const recent = await ok(scene.districtAdmin, "");
    expect(recent.totals).toMatchObject({ requests: 0, costUsd: 0, avgLatencyMs: null, avgTtftMs: null });
    expect(new Date(recent.to).getTime() - new Date(recent.from).getTime()).toBe(30 * 86_400_000);
  });

  test("bad parameters are 400 BAD_REQUEST", async () => {
    for (const query of ["from=2024-03-05&to=2024-03-01", "groupBy=week", "groupId=not-a-uuid", "from=yesterday", "from=2020-01-01&to=2024-01-01"]) {
      const { status, body } = await summary(scene.districtAdmin, query);
      expect([query, status, body.error?.code]).toEqual([query, 400, "BAD_REQUEST"]);
    }
  });

  test("no token or a bad token is 401", async () => {
    const none = await h.app.request(`/api/usage/summary?${PERIOD}`);
    expect(none.status).toBe(401);
    expect(((await none.json()) as { error: { code: string } }).error.code).toBe("UNAUTHENTICATED");
    const bad = await h.app.request(`/api/usage/summary?${PERIOD}`, { headers: { authorization: "Bearer not.a.token" } });
    expect(bad.status).toBe(401);
  });
});
