import { ConflictError, type GradeSubmissionBody, NotFoundError, type SubmissionDto } from "@raptscallions/core";
import { submissions } from "@raptscallions/db";
import { eq } from "drizzle-orm";
import { assertAllowed, policy } from "../../access/policy.ts";
import { recordAudit } from "../audit/record.ts";
import type { ServiceContext } from "../context.ts";
import { requireVisibleSubmission, toSubmissionDto } from "./scope.ts";

/**
 * Grades and/or comments on a submission. A grade needs a submitted attempt (409 while it is in
 * progress) and moves it to `graded`; clearing the grade moves it back to `submitted`.
 */
export async function gradeSubmission({ ctx, input }: { ctx: ServiceContext; input: { id: string; body: GradeSubmissionBody } }): Promise<SubmissionDto> {
  const { body } = input;
  return ctx.db.transaction(async (tx) => {
    const found = await requireVisibleSubmission({ db: tx, actor: ctx.actor }, input.id);
    assertAllowed(policy.canGradeSubmission(ctx.actor, found), "Only the class's teachers and admins may grade");
    const before = found.submission;
    let state = before.state;
    if (body.grade !== undefined) {
      if (before.state === "in_progress") throw new ConflictError("This attempt has not been submitted yet");
      state = body.grade === null ? "submitted" : "graded";
    }
    const [row] = await tx.update(submissions).set({ grade: body.grade, feedback: body.feedback, state }).where(eq(submissions.id, before.id)).returning();
    if (!row) throw new NotFoundError("Submission");
    await recordAudit(tx, ctx, {
      action: "submission.grade",
      targetType: "submission",
      targetId: row.id,
      groupId: found.groupId,
      details: {
        assignmentId: row.assignmentId,
        studentId: row.studentId,
        grade: body.grade === undefined ? undefined : { from: before.grade, to: row.grade },
        feedbackChanged: body.feedback !== undefined,
      },
    });
    return toSubmissionDto(row);
  });
}
