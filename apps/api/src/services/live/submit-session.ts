import { ConflictError } from "@raptscallions/core";
import { submissions } from "@raptscallions/db";
import { and, eq } from "drizzle-orm";
import { assertAllowed, policy } from "../../access/policy.ts";
import type { ServiceContext } from "../context.ts";
import { changeSessionState } from "./teacher-actions.ts";
import { loadVisibleSession } from "../sessions/load.ts";

/** The student hands in an assignment attempt: the session ends and its submission is submitted. */
export async function submitSession({ ctx, input }: { ctx: ServiceContext; input: { sessionId: string } }) {
  const session = await loadVisibleSession(ctx.db, ctx.actor, input.sessionId);
  assertAllowed(policy.canSendAsStudent(ctx.actor, session.ref), "Only the student can submit their session");
  if (!session.assignmentId) throw new ConflictError("This session is not part of an assignment");
  const [submission] = await ctx.db
    .update(submissions)
    .set({ state: "submitted", submittedAt: ctx.clock.now() })
    .where(and(eq(submissions.sessionId, session.id), eq(submissions.state, "in_progress")))
    .returning();
  if (!submission) throw new ConflictError("This attempt was already submitted");
  await changeSessionState({ ctx, input: { sessionId: session.id, to: "completed" } });
  return {
    id: submission.id,
    assignmentId: submission.assignmentId,
    attempt: submission.attempt,
    state: submission.state,
    submittedAt: submission.submittedAt?.toISOString() ?? null,
    sessionId: session.id,
  };
}
