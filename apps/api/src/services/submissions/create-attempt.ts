import { ConflictError, ForbiddenError, NotFoundError, type SubmissionDto } from "@raptscallions/core";
import { assignments, classes, classMembers, type DbOrTx, submissions } from "@raptscallions/db";
import { and, eq, max } from "drizzle-orm";
import type { Actor } from "../../access/actor.ts";
import { recordAudit } from "../audit/record.ts";
import { toSubmissionDto } from "./scope.ts";

export interface CreateAttemptInput {
  assignmentId: string;
  studentId: string;
  sessionId?: string | null;
  runId?: string | null;
  now: Date;
}

/**
 * Opens a new in-progress attempt for a student on an assignment, inside the caller's
 * transaction (for the live-sessions work: start a session and its attempt atomically).
 * Enforces the student's class membership, the availability window (ASSIGNMENT_NOT_OPEN) and
 * `maxAttempts` (ATTEMPTS_EXHAUSTED). It always opens a new attempt: resuming an in-progress
 * one is the caller's choice.
 */
export async function createSubmissionAttempt(tx: DbOrTx, ctx: { actor: Actor; requestId: string }, input: CreateAttemptInput): Promise<SubmissionDto> {
  // The assignment row lock serialises concurrent starts (and deletion), so attempts can never
  // exceed the maximum or collide on their number.
  const [a] = await tx.select().from(assignments).where(eq(assignments.id, input.assignmentId)).for("update");
  if (!a) throw new NotFoundError("Assignment");
  const [membership] = await tx
    .select({ role: classMembers.role, groupId: classes.groupId })
    .from(classMembers)
    .innerJoin(classes, eq(classes.id, classMembers.classId))
    .where(and(eq(classMembers.classId, a.classId), eq(classMembers.userId, input.studentId)));
  if (membership?.role !== "student") throw new ForbiddenError("Only students of the class can attempt this assignment");
  if (a.availableAt && input.now < a.availableAt) {
    throw new ConflictError("This assignment is not open yet", { availableAt: a.availableAt.toISOString() }, "ASSIGNMENT_NOT_OPEN");
  }
  if (a.closeAt && input.now >= a.closeAt) {
    throw new ConflictError("This assignment is closed", { closeAt: a.closeAt.toISOString() }, "ASSIGNMENT_NOT_OPEN");
  }
  const [{ last } = { last: null }] = await tx
    .select({ last: max(submissions.attempt) })
    .from(submissions)
    .where(and(eq(submissions.assignmentId, a.id), eq(submissions.studentId, input.studentId)));
  const used = last ?? 0;
  if (a.maxAttempts !== null && used >= a.maxAttempts) {
    throw new ConflictError("No attempts left for this assignment", { maxAttempts: a.maxAttempts }, "ATTEMPTS_EXHAUSTED");
  }
  const [row] = await tx
    .insert(submissions)
    .values({
      assignmentId: a.id,
      studentId: input.studentId,
      attempt: used + 1,
      state: "in_progress",
      sessionId: input.sessionId ?? null,
      runId: input.runId ?? null,
    })
    .returning();
  if (!row) throw new Error("insert returned no row");
  await recordAudit(tx, ctx, {
    action: "submission.start",
    targetType: "submission",
    targetId: row.id,
    groupId: membership.groupId,
    details: { assignmentId: a.id, studentId: input.studentId, attempt: row.attempt },
  });
  return toSubmissionDto(row);
}
