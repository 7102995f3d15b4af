import { rosterConnections } from "@raptscallions/db";
import { and, eq, isNotNull } from "drizzle-orm";
import type { RosterConfig } from "../../lib/roster-config.ts";
import type { Principal, ServiceContext } from "../context.ts";
import { startRosterRun } from "./runs.ts";

/**
 * Runs every enabled REST connection whose schedule is due, one after another. Each connection's
 * lease decides: a connection another instance is syncing, or one not due yet, is passed over.
 * Returns how many runs this call made.
 */
export async function runDueRosterSyncs(ctx: ServiceContext<Principal>, roster: RosterConfig, opts: { signal?: AbortSignal } = {}): Promise<number> {
  const due = await ctx.db
    .select()
    .from(rosterConnections)
    .where(and(eq(rosterConnections.kind, "oneroster_rest"), eq(rosterConnections.enabled, true), isNotNull(rosterConnections.intervalMinutes)));
  let ran = 0;
  for (const connection of due) {
    if (opts.signal?.aborted) break;
    const started = await startRosterRun(ctx, roster, { connection, trigger: "schedule", ...(opts.signal ? { signal: opts.signal } : {}) });
    if (!started) continue;
    await started.done;
    ran += 1;
  }
  return ran;
}
