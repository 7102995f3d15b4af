import { beforeAll, describe, expect, test } from "bun:test";
import { pageOf, submissionSchema, type Page } from "@raptscallions/core";
import { auditLog, submissions } from "@raptscallions/db";
import { addClassMember, makeAssignment, makeClass, makeSchoolScene, makeUser, type SchoolScene } from "@raptscallions/db/testing";
import { and, eq } from "drizzle-orm";
import { loadActor } from "../src/access/actor.ts";
import { createSubmissionAttempt } from "../src/services/submissions/create-attempt.ts";
import { useHarness } from "./helpers/harness.ts";
import { errorCode, securityTests } from "./helpers/security.ts";

type Sub = { id: string; studentId: string; attempt: number; state: string; grade: string | null; feedback: string | null };
type User = Awaited<ReturnType<typeof makeUser>>;

const h = useHarness();
let s: SchoolScene;
let teacherB: User;
let assignment: Awaited<ReturnType<typeof makeAssignment>>;
let mine: Sub;
let theirs: Sub;

async function attempt(assignmentId: string, student: User, now = new Date()): Promise<Sub> {
  const actor = await loadActor(h.db.db, student.id);
  if (!actor) throw new Error("no actor");
  return h.db.db.transaction((tx) => createSubmissionAttempt(tx, { actor, requestId: "test" }, { assignmentId, studentId: student.id, now }));
}

beforeAll(async () => {
  s = await makeSchoolScene(h.db.db);
  teacherB = await makeUser(h.db.db);
  const classB = await makeClass(h.db.db, s.department.id);
  await addClassMember(h.db.db, classB.id, teacherB.id, "teacher");
  assignment = await makeAssignment(h.db.db, s.cls.id, s.tool.id);
  mine = await attempt(assignment.id, s.student);
  theirs = await attempt(assignment.id, s.otherStudent);
}, 120_000);

describe("createSubmissionAttempt (for the live-sessions work)", () => {
  test("numbers attempts per student and enforces maxAttempts", async () => {
    const a = await makeAssignment(h.db.db, s.cls.id, s.tool.id, { maxAttempts: 2 });
    expect((await attempt(a.id, s.student)).attempt).toBe(1);
    expect((await attempt(a.id, s.otherStudent)).attempt).toBe(1);
    expect((await attempt(a.id, s.student)).attempt).toBe(2);
    await expect(attempt(a.id, s.student)).rejects.toMatchObject({ code: "ATTEMPTS_EXHAUSTED" });
    const [entry] = await h.db.db
      .select()
      .from(auditLog)
      .where(and(eq(auditLog.action, "submission.start"), eq(auditLog.actorId, s.otherStudent.id)));
    expect(entry?.groupId).toBe(s.department.id);
  });

  test("respects the availability window and class membership", async () => {
    const hour = 3600_000;
    const a = await makeAssignment(h.db.db, s.cls.id, s.tool.id, { availableAt: new Date(Date.now() + hour), closeAt: new Date(Date.now() + 2 * hour) });
    await expect(attempt(a.id, s.student)).rejects.toMatchObject({ code: "ASSIGNMENT_NOT_OPEN" });
    await expect(attempt(a.id, s.student, new Date(Date.now() + 3 * hour))).rejects.toMatchObject({ code: "ASSIGNMENT_NOT_OPEN" });
    expect((await attempt(a.id, s.student, new Date(Date.now() + 1.5 * hour))).state).toBe("in_progress");
    await expect(attempt(a.id, s.teacher)).rejects.toMatchObject({ code: "FORBIDDEN" });
  });
});

describe("GET /api/assignments/:id/submissions", () => {
  test("teachers see every student's; students only their own", async () => {
    const teacher = await h.as(s.teacher).get<Page<Sub>>(`/api/assignments/${assignment.id}/submissions`);
    expect(teacher.status).toBe(200);
    pageOf(submissionSchema).parse(teacher.body);
    expect(new Set(teacher.body.items.map((x) => x.id))).toEqual(new Set([mine.id, theirs.id]));
    const student = await h.as(s.student).get<Page<Sub>>(`/api/assignments/${assignment.id}/submissions`);
    expect(student.body.items.map((x) => x.id)).toEqual([mine.id]);
    const snooping = await h.as(s.student).get<Page<Sub>>(`/api/assignments/${assignment.id}/submissions?studentId=${s.otherStudent.id}`);
    expect(snooping.body.items).toEqual([]);
  });

  test("filters, pagination and a malformed cursor", async () => {
    const byStudent = await h.as(s.teacher).get<Page<Sub>>(`/api/assignments/${assignment.id}/submissions?studentId=${s.otherStudent.id}`);
    expect(byStudent.body.items.map((x) => x.id)).toEqual([theirs.id]);
    const p1 = await h.as(s.teacher).get<Page<Sub>>(`/api/assignments/${assignment.id}/submissions?limit=1`);
    const p2 = await h.as(s.teacher).get<Page<Sub>>(`/api/assignments/${assignment.id}/submissions?limit=1&cursor=${p1.body.nextCursor}`);
    expect(new Set([...p1.body.items, ...p2.body.items].map((x) => x.id))).toEqual(new Set([mine.id, theirs.id]));
    expect((await h.as(s.teacher).get(`/api/assignments/${assignment.id}/submissions?cursor=abc`)).status).toBe(400);
    expect((await h.as(s.teacher).get(`/api/assignments/${assignment.id}/submissions?state=done`)).status).toBe(400);
  });
});

describe("GET /api/submissions/:id", () => {
  test("own, and the class's staff; unknown → 404", async () => {
    const own = await h.as(s.student).get<Sub>(`/api/submissions/${mine.id}`);
    expect(own.status).toBe(200);
    expect(submissionSchema.parse(own.body).studentId).toBe(s.student.id);
    expect((await h.as(s.schoolAdmin).get(`/api/submissions/${mine.id}`)).status).toBe(200);
    expect((await h.as(s.teacher).get(`/api/submissions/${crypto.randomUUID()}`)).status).toBe(404);
  });
});

describe("PATCH /api/submissions/:id", () => {
  test("feedback any time; a grade only once submitted; clearing it reverts", async () => {
    const sub = await attempt(assignment.id, s.student);
    const early = await h.as(s.teacher).patch(`/api/submissions/${sub.id}`, { grade: "A" });
    expect(early.status).toBe(409);
    const fb = await h.as(s.teacher).patch<Sub>(`/api/submissions/${sub.id}`, { feedback: "Keep going" });
    expect(fb.status).toBe(200);
    expect(fb.body).toMatchObject({ feedback: "Keep going", state: "in_progress" });

    await h.db.db.update(submissions).set({ state: "submitted", submittedAt: new Date() }).where(eq(submissions.id, sub.id));
    const graded = await h.as(s.teacher).patch<Sub>(`/api/submissions/${sub.id}`, { grade: "B+" });
    expect(graded.status).toBe(200);
    expect(submissionSchema.parse(graded.body)).toMatchObject({ grade: "B+", state: "graded" });
    const cleared = await h.as(s.teacher).patch<Sub>(`/api/submissions/${sub.id}`, { grade: null });
    expect(cleared.body).toMatchObject({ grade: null, state: "submitted" });
    const audits = await h.db.db
      .select()
      .from(auditLog)
      .where(and(eq(auditLog.action, "submission.grade"), eq(auditLog.targetId, sub.id)));
    expect(audits).toHaveLength(3);
  });

  test("empty or invalid body → 422", async () => {
    expect((await h.as(s.teacher).patch(`/api/submissions/${mine.id}`, {})).status).toBe(422);
    const long = await h.as(s.teacher).patch(`/api/submissions/${mine.id}`, { grade: "x".repeat(101) });
    expect(long.status).toBe(422);
    expect(errorCode(long.body)).toBe("VALIDATION_FAILED");
  });
});

securityTests("submissions", () => h.app, [
  {
    method: "GET",
    route: "/api/assignments/:id/submissions",
    path: () => `/api/assignments/${assignment.id}/submissions`,
    denied: () => [{ who: teacherB, status: 404 }],
  },
  {
    method: "GET",
    route: "/api/submissions/:id",
    path: () => `/api/submissions/${mine.id}`,
    denied: () => [
      { who: s.otherStudent, status: 404 },
      { who: teacherB, status: 404 },
    ],
  },
  {
    method: "PATCH",
    route: "/api/submissions/:id",
    path: () => `/api/submissions/${mine.id}`,
    body: () => ({ feedback: "hijack" }),
    denied: () => [
      { who: s.otherStudent, status: 404 },
      { who: teacherB, status: 404 },
      { who: s.student, status: 403 },
    ],
  },
]);
