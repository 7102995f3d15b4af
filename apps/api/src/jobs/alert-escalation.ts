import { escalateAlerts } from "../services/notifications/escalation.ts";
import { defineJob } from "./define-job.ts";

/** Escalation on silence (see `escalateAlerts`); every half minute by default. */
export function alertEscalationJob(intervalMs = 30_000) {
  return defineJob({
    name: "alert-escalation",
    intervalMs,
    run: (ctx) => escalateAlerts(ctx, { signal: ctx.signal }),
  });
}
