import type { RosterConfig } from "../lib/roster-config.ts";
import { runDueRosterSyncs } from "../services/roster/schedule.ts";
import { defineJob } from "./define-job.ts";

/**
 * Looks for REST roster connections whose interval has passed and syncs them. The job's own lease
 * keeps one scheduler at a time; each connection's lease (taken by the run) keeps a manual trigger
 * on another instance from running the same connection meanwhile.
 */
export function rosterSyncJob(config: RosterConfig) {
  return defineJob({
    name: "roster-sync",
    intervalMs: config.pollIntervalMs,
    // A run renews its connection's lease itself; this one only has to outlive the check.
    leaseMs: 300_000,
    run: (ctx) => runDueRosterSyncs(ctx, config, { signal: ctx.signal }),
  });
}
