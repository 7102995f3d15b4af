import { queueDailyDigests } from "../services/notifications/digest.ts";
import { wakeDispatchers } from "../services/notifications/wake.ts";
import { defineJob } from "./define-job.ts";

/**
 * Queues each teacher's daily digest once their group's digest hour has passed (see
 * `queueDailyDigests`); the dispatcher sends it. Every minute by default, so a digest goes out
 * within about a minute of the hour.
 */
export function notificationDigestJob(intervalMs = 60_000) {
  return defineJob({
    name: "notification-digest",
    intervalMs,
    run: async (ctx) => {
      const queued = await queueDailyDigests(ctx, { signal: ctx.signal });
      if (queued > 0) await wakeDispatchers(ctx.bus, ctx.logger);
      return queued;
    },
  });
}
