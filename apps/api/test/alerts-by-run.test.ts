import { beforeAll, describe, expect, test } from "bun:test";
import type { AlertDto, Page } from "@raptscallions/core";
import { makeRun, makeSchoolScene, makeTool, type SchoolScene } from "@raptscallions/db/testing";
import type { Finding } from "@raptscallions/modules";
import { persistFindings } from "../src/services/modules/findings.ts";
import { useHarness } from "./helpers/harness.ts";
import { securityTests } from "./helpers/security.ts";

/** `GET /api/alerts?runId=`: a product tool run's alerts, for the run's class's teachers and admins over its group. */
const h = useHarness();
let scene: SchoolScene;
let other: SchoolScene;
let runId: string;
let siblingRunId: string;
let classlessRunId: string;
let quietRunId: string;

const finding = (over: Partial<Finding> = {}): Finding => ({
  module: "safety-filter",
  kind: "self-harm",
  severity: "high",
  isAlert: true,
  message: "Possible self-harm (high) in a run's inputs.",
  data: { category: "self-harm", source: "student", rules: ["r1"], blocked: true, escalate: false, escalateTo: [] },
  ...over,
});

beforeAll(async () => {
  scene = await makeSchoolScene(h.db.db);
  other = await makeSchoolScene(h.db.db);
  const tool = await makeTool(h.db.db, scene.school.id, { kind: "product", createdBy: scene.teacher.id });
  const inClass = { toolId: tool.id, userId: scene.student.id, groupId: scene.department.id, classId: scene.cls.id };
  const [run, sibling, classless, quiet] = await Promise.all([
    makeRun(h.db.db, inClass),
    makeRun(h.db.db, inClass),
    makeRun(h.db.db, { toolId: tool.id, userId: scene.student.id, groupId: scene.school.id, classId: null }),
    makeRun(h.db.db, inClass),
  ]);
  runId = run.id;
  siblingRunId = sibling.id;
  classlessRunId = classless.id;
  quietRunId = quiet.id;
  const target = (id: string, classId: string | null, groupId: string) => ({
    sessionId: null,
    runId: id,
    classId,
    groupId,
    studentId: scene.student.id,
    messageId: null,
  });
  // Two alerts a second apart and a quiet finding on the run; one alert on its sibling and one on the run without a class.
  await persistFindings(h.db.db, target(runId, scene.cls.id, scene.department.id), [finding({ severity: "medium" })], new Date(Date.UTC(2026, 0, 1, 9, 0, 0)));
  await persistFindings(h.db.db, target(runId, scene.cls.id, scene.department.id), [finding({ severity: "critical" })], new Date(Date.UTC(2026, 0, 1, 9, 0, 1)));
  await persistFindings(
    h.db.db,
    target(runId, scene.cls.id, scene.department.id),
    [finding({ module: "pii-filter", kind: "pii-redacted", severity: "low", isAlert: false, data: {} })],
    new Date(),
  );
  await persistFindings(h.db.db, target(siblingRunId, scene.cls.id, scene.department.id), [finding()], new Date());
  await persistFindings(h.db.db, target(classlessRunId, null, scene.school.id), [finding()], new Date());
}, 60_000);

const list = (user: SchoolScene["teacher"], query: string) => h.as(user).get<Page<AlertDto>>(`/api/alerts?${query}`);

describe("GET /api/alerts?runId=", () => {
  test("the run's class's teacher gets that run's alerts only, newest first, without quiet findings; other filters still narrow", async () => {
    const res = await list(scene.teacher, `runId=${runId}`);
    expect(res.status).toBe(200);
    expect(res.body.items.map((a) => [a.runId, a.severity])).toEqual([
      [runId, "critical"],
      [runId, "medium"],
    ]);
    expect(res.body.items.every((a) => a.sessionId === null && a.studentId === scene.student.id)).toBe(true);
    expect((await list(scene.teacher, `runId=${runId}&minSeverity=high`)).body.items.map((a) => a.severity)).toEqual(["critical"]);
    const paged = await list(scene.teacher, `runId=${runId}&limit=1`);
    expect(paged.body.items).toHaveLength(1);
    const rest = await list(scene.teacher, `runId=${runId}&limit=1&cursor=${paged.body.nextCursor}`);
    expect(rest.body.items.map((a) => a.severity)).toEqual(["medium"]);
    // A run without alerts is an empty page, not an error.
    expect(await list(scene.teacher, `runId=${quietRunId}`)).toMatchObject({ status: 200, body: { items: [], nextCursor: null } });
  });

  test("admins over the run's group see its alerts, also of a run started outside any class (which no teacher reviews)", async () => {
    for (const admin of [scene.schoolAdmin, scene.districtAdmin]) {
      const res = await list(admin, `runId=${classlessRunId}`);
      expect(res.status).toBe(200);
      expect(res.body.items.map((a) => a.runId)).toEqual([classlessRunId]);
    }
    expect((await list(scene.districtAdmin, `runId=${siblingRunId}`)).body.items.map((a) => a.runId)).toEqual([siblingRunId]);
    expect((await list(scene.teacher, `runId=${classlessRunId}`)).status).toBe(404);
  });

  test("a run id that is not a uuid is a 400; an unknown run is a 404", async () => {
    const bad = await list(scene.teacher, "runId=not-a-uuid");
    expect(bad.status).toBe(400);
    expect((bad.body as unknown as { error: { code: string } }).error.code).toBe("BAD_REQUEST");
    const unknown = await list(scene.teacher, `runId=${crypto.randomUUID()}`);
    expect(unknown.status).toBe(404);
    expect((unknown.body as unknown as { error: { code: string } }).error.code).toBe("NOT_FOUND");
  });
});

securityTests("GET /api/alerts?runId=", () => h.app, [
  {
    method: "GET",
    route: "/api/alerts?runId=",
    path: () => `/api/alerts?runId=${runId}`,
    // The student who started the run sees the run, never its alerts (they are about them).
    denied: () => [
      { who: scene.student, status: 404, as: "the run's own student" },
      { who: other.teacher, status: 404, as: "a teacher of another class" },
      { who: other.districtAdmin, status: 404, as: "an admin of another district" },
    ],
  },
]);
