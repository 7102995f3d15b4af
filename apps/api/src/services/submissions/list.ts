import { cursorParts, decodeCursor, type ListSubmissionsQuery, type Page, type SubmissionDto, toPage } from "@raptscallions/core";
import { submissions } from "@raptscallions/db";
import { and, asc, eq, type SQL } from "drizzle-orm";
import { z } from "zod";
import { policy } from "../../access/policy.ts";
import { requireVisibleAssignment } from "../assignments/scope.ts";
import type { ServiceContext } from "../context.ts";
import { afterCursor, timestampKey } from "../query-helpers.ts";
import { requireVisibleSubmission, toSubmissionDto } from "./scope.ts";

const byCreated = z.tuple([cursorParts.timestamp, cursorParts.uuid]);

/** An assignment's submissions: every student's for its class's staff, only their own for a student. */
export async function listSubmissions({ ctx, input }: { ctx: ServiceContext; input: { assignmentId: string } & ListSubmissionsQuery }): Promise<Page<SubmissionDto>> {
  const { assignment, groupPath } = await requireVisibleAssignment(ctx, input.assignmentId);
  const where: SQL[] = [eq(submissions.assignmentId, assignment.id)];
  const staff = policy.canManageClass(ctx.actor, { id: assignment.classId, groupPath });
  if (!staff) where.push(eq(submissions.studentId, ctx.actor.userId));
  if (input.studentId) where.push(eq(submissions.studentId, input.studentId));
  if (input.state) where.push(eq(submissions.state, input.state));
  if (input.cursor) where.push(afterCursor([submissions.createdAt, submissions.id], decodeCursor(input.cursor, byCreated)));
  const rows = await ctx.db
    .select({ submission: submissions, key: timestampKey(submissions.createdAt) })
    .from(submissions)
    .where(and(...where))
    .orderBy(asc(submissions.createdAt), asc(submissions.id))
    .limit(input.limit + 1);
  const page = toPage(rows, input.limit, (r) => [r.key, r.submission.id]);
  return { items: page.items.map((r) => toSubmissionDto(r.submission)), nextCursor: page.nextCursor };
}

export async function getSubmission({ ctx, input }: { ctx: ServiceContext; input: { id: string } }): Promise<SubmissionDto> {
  const { submission } = await requireVisibleSubmission(ctx, input.id);
  return toSubmissionDto(submission);
}
