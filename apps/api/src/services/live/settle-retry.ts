import type { KeyValueStore } from "@raptscallions/bus";
import { type Db, limitSettleRetries } from "@raptscallions/db";
import { asc, eq, sql } from "drizzle-orm";
import type { AiService } from "../../lib/ai-service.ts";
import type { Clock } from "../../lib/clock.ts";
import type { Logger } from "../../lib/logger.ts";
import { recordBudgetAlerts } from "../ai/budget-alerts.ts";

/** The part of the sweeper's dependencies a settle uses (orphan-kind.ts's `SweepDeps` has them all). */
export interface SettleDeps {
  db: Db;
  clock: Clock;
  logger: Logger;
  ai: Pick<AiService, "settleAbandoned">;
  kv: KeyValueStore;
}

/** What a crashed call's reservation is settled to: tokens and micro-dollars. */
export interface SettleFigures {
  tokens: number;
  costMicros: number;
}

// Bounds one sweep's retries; the rest wait for the next sweep.
const RETRIES_PER_SWEEP = 200;

/**
 * Settles the reservation a crashed call left under `subject` to `actual` (see
 * `AiService.settleAbandoned`: once, whoever gets there first). When the limit store cannot be
 * reached the figures are kept in `limit_settle_retries` for the next sweep: the row is already
 * finalised by then, so no later sweep would find the call again, and its estimate — the whole
 * output allowance — would stay charged to the student's day and every group's month.
 */
export async function settleInterruptedCall(deps: SettleDeps, subject: string, actual: SettleFigures): Promise<void> {
  try {
    await settleAndAlert(deps, subject, actual);
  } catch (err) {
    deps.logger.error("settling an interrupted call's reservation failed; the next sweep retries it", { subject, err });
    try {
      await deps.db
        .insert(limitSettleRetries)
        .values({ subject, tokens: actual.tokens, costMicros: actual.costMicros })
        .onConflictDoUpdate({ target: limitSettleRetries.subject, set: { attempts: sql`${limitSettleRetries.attempts} + 1`, lastTriedAt: deps.clock.now() } });
    } catch (keepErr) {
      deps.logger.error("keeping a failed settle for retry failed; its estimate stays charged until its day and month end", { subject, err: keepErr });
    }
  }
}

/**
 * Retries the settles earlier sweeps could not make, oldest first, each with the figures its first
 * attempt had. A row goes once its subject has nothing left to settle — settled now, or before by
 * another sweeper or by the call's own instance coming back (the limit store's settled marker makes
 * every settle after the first a no-op, so two sweeps retrying at once still count it once), or its
 * reservation expired with its month. The first failure ends the pass: the store is still out of
 * reach, and the next sweep tries again. Returns how many rows were cleared.
 */
export async function retryFailedSettles(deps: SettleDeps): Promise<number> {
  const due = await deps.db.select().from(limitSettleRetries).orderBy(asc(limitSettleRetries.createdAt)).limit(RETRIES_PER_SWEEP);
  let cleared = 0;
  for (const row of due) {
    try {
      await settleAndAlert(deps, row.subject, { tokens: row.tokens, costMicros: row.costMicros });
    } catch (err) {
      deps.logger.warn("retrying an interrupted call's settle failed; the next sweep tries again", { subject: row.subject, attempts: row.attempts + 1, err });
      await deps.db
        .update(limitSettleRetries)
        .set({ attempts: sql`${limitSettleRetries.attempts} + 1`, lastTriedAt: deps.clock.now() })
        .where(eq(limitSettleRetries.subject, row.subject));
      break;
    }
    await deps.db.delete(limitSettleRetries).where(eq(limitSettleRetries.subject, row.subject));
    cleared += 1;
  }
  if (cleared > 0) deps.logger.info("retried the settles of interrupted calls", { cleared });
  return cleared;
}

/** One settle; a budget alert it raises is recorded apart, so an alert that fails is never a settle to retry. */
async function settleAndAlert(deps: SettleDeps, subject: string, actual: SettleFigures): Promise<void> {
  const settled = await deps.ai.settleAbandoned(subject, actual);
  if (!settled || settled.budgetAlerts.length === 0) return;
  try {
    await recordBudgetAlerts({ db: deps.db, kv: deps.kv, logger: deps.logger, now: deps.clock.now() }, settled.budgetAlerts);
  } catch (err) {
    deps.logger.error("recording a budget alert of an interrupted call failed", { subject, err });
  }
}
