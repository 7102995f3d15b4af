import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { pageOf, submissionSchema } from "@raptscallions/core";
import { auditLog, type DbHandle, submissions } from "@raptscallions/db";
import { addClassMember, makeAssignment, makeClass, makeSchoolScene, makeUser, type SchoolScene } from "@raptscallions/db/testing";
import { and, eq } from "drizzle-orm";
import { loadActor } from "../src/access/actor.ts";
import { createApp } from "../src/app.ts";
import { createSubmissionAttempt } from "../src/services/submissions/create-attempt.ts";
import { createTestDb, testDeps } from "./helpers/deps.ts";
import { call, errorCode, securityTests } from "./helpers/security.ts";

type Sub = { id: string; studentId: string; attempt: number; state: string; grade: string | null; feedback: string | null };
type Page<T> = { items: T[]; nextCursor: string | null };
type User = Awaited<ReturnType<typeof makeUser>>;

let db: DbHandle;
let app: ReturnType<typeof createApp>;
let s: SchoolScene;
let teacherB: User;
let assignment: Awaited<ReturnType<typeof makeAssignment>>;
let mine: Sub;
let theirs: Sub;

async function attempt(assignmentId: string, student: User, now = new Date()): Promise<Sub> {
  const actor = await loadActor(db.db, student.id);
  if (!actor) throw new Error("no actor");
  return db.db.transaction((tx) => createSubmissionAttempt(tx, { actor, requestId: "test" }, { assignmentId, studentId: student.id, now }));
}

beforeAll(async () => {
  db = await createTestDb();
  app = createApp(await testDeps(db));
  s = await makeSchoolScene(db.db);
  teacherB = await makeUser(db.db);
  const classB = await makeClass(db.db, s.department.id);
  await addClassMember(db.db, classB.id, teacherB.id, "teacher");
  assignment = await makeAssignment(db.db, s.cls.id, s.tool.id);
  mine = await attempt(assignment.id, s.student);
  theirs = await attempt(assignment.id, s.otherStudent);
}, 120_000);
afterAll(async () => {
  await db.close();
});

describe("createSubmissionAttempt (for the live-sessions work)", () => {
  test("numbers attempts per student and enforces maxAttempts", async () => {
    const a = await makeAssignment(db.db, s.cls.id, s.tool.id, { maxAttempts: 2 });
    expect((await attempt(a.id, s.student)).attempt).toBe(1);
    expect((await attempt(a.id, s.otherStudent)).attempt).toBe(1);
    expect((await attempt(a.id, s.student)).attempt).toBe(2);
    await expect(attempt(a.id, s.student)).rejects.toMatchObject({ code: "ATTEMPTS_EXHAUSTED" });
    const [entry] = await db.db.select().from(auditLog).where(and(eq(auditLog.action, "submission.start"), eq(auditLog.actorId, s.otherStudent.id)));
    expect(entry?.groupId).toBe(s.department.id);
  });

  test("respects the availability window and class membership", async () => {
    const hour = 3600_000;
    const a = await makeAssignment(db.db, s.cls.id, s.tool.id, { availableAt: new Date(Date.now() + hour), closeAt: new Date(Date.now() + 2 * hour) });
    await expect(attempt(a.id, s.student)).rejects.toMatchObject({ code: "ASSIGNMENT_NOT_OPEN" });
    await expect(attempt(a.id, s.student, new Date(Date.now() + 3 * hour))).rejects.toMatchObject({ code: "ASSIGNMENT_NOT_OPEN" });
    expect((await attempt(a.id, s.student, new Date(Date.now() + 1.5 * hour))).state).toBe("in_progress");
    await expect(attempt(a.id, s.teacher)).rejects.toMatchObject({ code: "FORBIDDEN" });
  });
});

describe("GET /api/assignments/:id/submissions", () => {
  test("teachers see every student's; students only their own", async () => {
    const teacher = await call<Page<Sub>>(app, "GET", `/api/assignments/${assignment.id}/submissions`, { as: s.teacher });
    expect(teacher.status).toBe(200);
    pageOf(submissionSchema).parse(teacher.body);
    expect(new Set(teacher.body.items.map((x) => x.id))).toEqual(new Set([mine.id, theirs.id]));
    const student = await call<Page<Sub>>(app, "GET", `/api/assignments/${assignment.id}/submissions`, { as: s.student });
    expect(student.body.items.map((x) => x.id)).toEqual([mine.id]);
    const snooping = await call<Page<Sub>>(app, "GET", `/api/assignments/${assignment.id}/submissions?studentId=${s.otherStudent.id}`, { as: s.student });
    expect(snooping.body.items).toEqual([]);
  });

  test("filters, pagination and a malformed cursor", async () => {
    const byStudent = await call<Page<Sub>>(app, "GET", `/api/assignments/${assignment.id}/submissions?studentId=${s.otherStudent.id}`, { as: s.teacher });
    expect(byStudent.body.items.map((x) => x.id)).toEqual([theirs.id]);
    const p1 = await call<Page<Sub>>(app, "GET", `/api/assignments/${assignment.id}/submissions?limit=1`, { as: s.teacher });
    const p2 = await call<Page<Sub>>(app, "GET", `/api/assignments/${assignment.id}/submissions?limit=1&cursor=${p1.body.nextCursor}`, { as: s.teacher });
    expect(new Set([...p1.body.items, ...p2.body.items].map((x) => x.id))).toEqual(new Set([mine.id, theirs.id]));
    expect((await call(app, "GET", `/api/assignments/${assignment.id}/submissions?cursor=abc`, { as: s.teacher })).status).toBe(400);
    expect((await call(app, "GET", `/api/assignments/${assignment.id}/submissions?state=done`, { as: s.teacher })).status).toBe(400);
  });
});

describe("GET /api/submissions/:id", () => {
  test("own, and the class's staff; unknown → 404", async () => {
    const own = await call<Sub>(app, "GET", `/api/submissions/${mine.id}`, { as: s.student });
    expect(own.status).toBe(200);
    expect(submissionSchema.parse(own.body).studentId).toBe(s.student.id);
    expect((await call(app, "GET", `/api/submissions/${mine.id}`, { as: s.schoolAdmin })).status).toBe(200);
    expect((await call(app, "GET", `/api/submissions/${crypto.randomUUID()}`, { as: s.teacher })).status).toBe(404);
  });
});

describe("PATCH /api/submissions/:id", () => {
  test("feedback any time; a grade only once submitted; clearing it reverts", async () => {
    const sub = await attempt(assignment.id, s.student);
    const early = await call(app, "PATCH", `/api/submissions/${sub.id}`, { as: s.teacher, body: { grade: "A" } });
    expect(early.status).toBe(409);
    const fb = await call<Sub>(app, "PATCH", `/api/submissions/${sub.id}`, { as: s.teacher, body: { feedback: "Keep going" } });
    expect(fb.status).toBe(200);
    expect(fb.body).toMatchObject({ feedback: "Keep going", state: "in_progress" });

    await db.db.update(submissions).set({ state: "submitted", submittedAt: new Date() }).where(eq(submissions.id, sub.id));
    const graded = await call<Sub>(app, "PATCH", `/api/submissions/${sub.id}`, { as: s.teacher, body: { grade: "B+" } });
    expect(graded.status).toBe(200);
    expect(submissionSchema.parse(graded.body)).toMatchObject({ grade: "B+", state: "graded" });
    const cleared = await call<Sub>(app, "PATCH", `/api/submissions/${sub.id}`, { as: s.teacher, body: { grade: null } });
    expect(cleared.body).toMatchObject({ grade: null, state: "submitted" });
    const audits = await db.db.select().from(auditLog).where(and(eq(auditLog.action, "submission.grade"), eq(auditLog.targetId, sub.id)));
    expect(audits).toHaveLength(3);
  });

  test("empty or invalid body → 422", async () => {
    expect((await call(app, "PATCH", `/api/submissions/${mine.id}`, { as: s.teacher, body: {} })).status).toBe(422);
    const long = await call(app, "PATCH", `/api/submissions/${mine.id}`, { as: s.teacher, body: { grade: "x".repeat(101) } });
    expect(long.status).toBe(422);
    expect(errorCode(long.body)).toBe("VALIDATION_FAILED");
  });
});

securityTests("submissions", () => app, [
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
    denied: () => [{ who: s.otherStudent, status: 404 }, { who: teacherB, status: 404 }],
  },
  {
    method: "PATCH",
    route: "/api/submissions/:id",
    path: () => `/api/submissions/${mine.id}`,
    body: () => ({ feedback: "hijack" }),
    denied: () => [{ who: s.otherStudent, status: 404 }, { who: teacherB, status: 404 }, { who: s.student, status: 403 }],
  },
]);
