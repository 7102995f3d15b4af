import type { LiveConfig } from "../deps.ts";
import { sweepInterruptedMessages } from "../services/live/sweeper.ts";
import { defineJob } from "./define-job.ts";

/** Finalises answers a dead instance left `streaming` (see `sweepInterruptedMessages`). */
export function sweeperJob(live: Pick<LiveConfig, "sweepIntervalMs" | "staleAfterMs">) {
  return defineJob({
    name: "sweeper",
    intervalMs: live.sweepIntervalMs,
    run: (ctx) => sweepInterruptedMessages({ db: ctx.db, bus: ctx.bus, clock: ctx.clock, logger: ctx.logger, staleAfterMs: live.staleAfterMs }),
  });
}
