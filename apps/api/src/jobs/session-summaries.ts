import type { InsightsConfig } from "../lib/insights-config.ts";
import { writeDueSummaries } from "../services/insights/summary-queue.ts";
import { defineJob } from "./define-job.ts";

/**
 * Writes the summaries that ended sessions queued (see `writeDueSummaries`), retrying failed ones
 * with backoff. Ending a session only queues one: the teacher's summary arrives a poll later.
 */
export function sessionSummariesJob(config: Pick<InsightsConfig, "summaryIntervalMs" | "summaryMaxAttempts">) {
  return defineJob({
    name: "session-summaries",
    intervalMs: config.summaryIntervalMs,
    run: (ctx) => writeDueSummaries(ctx, { maxAttempts: config.summaryMaxAttempts, signal: ctx.signal }),
  });
}
