import { escalateAlerts } from "../services/notifications/escalation.ts";
import { wakeDispatchers } from "../services/notifications/wake.ts";
import { defineJob } from "./define-job.ts";

/** Escalation on silence (see `escalateAlerts`); every half minute by default. */
export function alertEscalationJob(intervalMs = 30_000) {
  return defineJob({
    name: "alert-escalation",
    intervalMs,
    run: async (ctx) => {
      const steps = await escalateAlerts(ctx, { signal: ctx.signal });
      // Each step committed in its own transaction: the dispatchers can claim them now.
      if (steps > 0) await wakeDispatchers(ctx.bus, ctx.logger);
      return steps;
    },
  });
}
