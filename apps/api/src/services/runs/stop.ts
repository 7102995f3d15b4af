import { assertAllowed, policy } from "../../access/policy.ts";
import type { ServiceContext } from "../context.ts";
import { runRoom } from "./dto.ts";
import { loadVisibleRun } from "./read.ts";

/**
 * Stops a running run: whoever started it, or a teacher of its class (or an admin). The instance
 * streaming it aborts the upstream call (billing stops) and finalises it `stopped`; another
 * instance hears the request through the run's room.
 */
export async function stopRun({ ctx, input }: { ctx: ServiceContext; input: { runId: string } }) {
  const { run, groupPath } = await loadVisibleRun(ctx.db, ctx.actor, input.runId);
  assertAllowed(policy.canViewRun(ctx.actor, { userId: run.userId, classId: run.classId, groupPath }), "You may not stop this run");
  if (run.state !== "running") return { runId: run.id, stopping: false };
  if (!ctx.runner.stopLocal(run.id)) {
    await ctx.bus.publish(runRoom(run.id), { type: "run.stop-requested", payload: { runId: run.id, by: ctx.actor.userId } });
  }
  return { runId: run.id, stopping: true };
}
