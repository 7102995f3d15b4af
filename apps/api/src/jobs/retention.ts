import { type RetentionConfig, runRetention } from "../services/retention/index.ts";
import { defineJob } from "./define-job.ts";

/**
 * Scrubs message contents past their retention period (see `runRetention`). Stopping ends a run
 * between batches; the next run picks up the rest.
 */
export function retentionJob(config: RetentionConfig) {
  return defineJob({
    name: "retention",
    intervalMs: config.intervalMs,
    run: (ctx) => runRetention({ db: ctx.db, logger: ctx.logger, clock: ctx.clock, runId: ctx.runId }, config, { signal: ctx.signal }),
  });
}
