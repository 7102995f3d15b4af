import { NotFoundError, type SubmissionDto } from "@raptscallions/core";
import { assignments, classes, type DbOrTx, groups, submissions } from "@raptscallions/db";
import { eq } from "drizzle-orm";
import type { Actor } from "../../access/actor.ts";
import { policy } from "../../access/policy.ts";
import { iso } from "../query-helpers.ts";

export type SubmissionRow = typeof submissions.$inferSelect;

export async function loadSubmission(db: DbOrTx, id: string) {
  const [row] = await db
    .select({ submission: submissions, classId: assignments.classId, groupId: classes.groupId, groupPath: groups.path })
    .from(submissions)
    .innerJoin(assignments, eq(assignments.id, submissions.assignmentId))
    .innerJoin(classes, eq(classes.id, assignments.classId))
    .innerJoin(groups, eq(groups.id, classes.groupId))
    .where(eq(submissions.id, id));
  return row;
}

/** The submission if it is the actor's own or they teach/administer its class; otherwise 404. */
export async function requireVisibleSubmission(ctx: { db: DbOrTx; actor: Actor }, id: string) {
  const found = await loadSubmission(ctx.db, id);
  if (!found || !policy.canViewSubmission(ctx.actor, { studentId: found.submission.studentId, classId: found.classId, groupPath: found.groupPath })) {
    throw new NotFoundError("Submission");
  }
  return found;
}

export function toSubmissionDto(s: SubmissionRow): SubmissionDto {
  return {
    id: s.id,
    assignmentId: s.assignmentId,
    studentId: s.studentId,
    attempt: s.attempt,
    state: s.state,
    sessionId: s.sessionId,
    runId: s.runId,
    submittedAt: iso(s.submittedAt),
    grade: s.grade,
    feedback: s.feedback,
    createdAt: iso(s.createdAt),
    updatedAt: iso(s.updatedAt),
  };
}
