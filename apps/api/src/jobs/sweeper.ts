import type { LiveConfig } from "../deps.ts";
import { sweepInterruptedStreams } from "../services/live/sweeper.ts";
import { defineJob } from "./define-job.ts";

/** Finalises answers and runs a dead instance left streaming (see `sweepInterruptedStreams`). */
export function sweeperJob(live: Pick<LiveConfig, "sweepIntervalMs" | "staleAfterMs">) {
  return defineJob({
    name: "sweeper",
    intervalMs: live.sweepIntervalMs,
    // Recovery after a crash is this job's whole point: if the dead instance held the lease, the
    // survivors must not wait longer for it than an answer takes to count as stale. The holder
    // renews every third of it while a sweep runs, so a live sweep never loses it.
    leaseMs: Math.max(1_000, live.staleAfterMs),
    run: (ctx) => sweepInterruptedStreams({ db: ctx.db, bus: ctx.bus, clock: ctx.clock, logger: ctx.logger, ai: ctx.ai, kv: ctx.kv, staleAfterMs: live.staleAfterMs }),
  });
}
