import { extractions, notificationDeliveries, runs, sessions } from "@raptscallions/db";
import { alertStudentIdSql } from "../alerts/dto.ts";
import { and, desc, eq, gte, inArray, lte, sql } from "drizzle-orm";
import type { Logger } from "../../lib/logger.ts";
import type { Clock } from "../../lib/clock.ts";
import { recordAudit } from "../audit/record.ts";
import type { Principal } from "../context.ts";
import type { Db } from "@raptscallions/db";
import { atLeast, loadNotificationConfig, type NotificationConfig, type Severity } from "../groups/notification-config.ts";
import { enqueueAlertStep } from "./enqueue.ts";

/** Alerts older than this are no longer escalated (an alert left open for days needs a person, not mail). */
const LOOKBACK_MS = 3 * 24 * 60 * 60 * 1000;
const BATCH = 500;

/**
 * Escalation on silence: an open (unacknowledged, undismissed) alert at or above its group's
 * `escalation.minSeverity` reaches step k of `escalation.steps` once `k × afterMinutes` have
 * passed since it was raised. Each step's rows are enqueued idempotently (the outbox's dedupe key),
 * so two runs, or two instances, never send a step twice; each step taken is audited. Acknowledging
 * or dismissing the alert stops the next steps.
 */
export async function escalateAlerts(
  ctx: { db: Db; clock: Clock; logger: Logger; actor: Principal; requestId: string },
  opts: { signal?: AbortSignal } = {},
): Promise<number> {
  const now = ctx.clock.now();
  const configs = new Map<string, NotificationConfig>();
  let steps = 0;
  // Page by (createdAt, id), newest first, through every open alert in the window: a flood of new
  // alerts must not hide an older one that is due. Alerts raised after `now` are not due yet.
  // The cursor compares in the database: its timestamps are finer than a JS Date.
  let after: string | undefined;
  for (;;) {
    if (opts.signal?.aborted) break;
    const open = await ctx.db
      .select({ row: extractions, studentId: alertStudentIdSql })
      .from(extractions)
      .leftJoin(sessions, eq(sessions.id, extractions.sessionId))
      .leftJoin(runs, eq(runs.id, extractions.runId))
      .where(
        and(
          eq(extractions.isAlert, true),
          eq(extractions.status, "open"),
          gte(extractions.createdAt, new Date(now.getTime() - LOOKBACK_MS)),
          lte(extractions.createdAt, now),
          after
            ? sql`(${extractions.createdAt}, ${extractions.id}) < (select ${extractions.createdAt}, ${extractions.id} from ${extractions} where ${extractions.id} = ${after})`
            : undefined,
        ),
      )
      .orderBy(desc(extractions.createdAt), desc(extractions.id))
      .limit(BATCH);
    steps += await escalatePage(ctx, open, now, configs, opts.signal);
    const last = open.at(-1);
    if (!last || open.length < BATCH) break;
    after = last.row.id;
  }
  return steps;
}

/** Takes the due steps of one page of open alerts; returns how many it took. */
async function escalatePage(
  ctx: { db: Db; clock: Clock; logger: Logger; actor: Principal; requestId: string },
  open: { row: typeof extractions.$inferSelect; studentId: string | null }[],
  now: Date,
  configs: Map<string, NotificationConfig>,
  signal: AbortSignal | undefined,
): Promise<number> {
  if (open.length === 0) return 0;
  const taken = await ctx.db
    .select({ alertId: notificationDeliveries.alertId, step: sql<number>`max(${notificationDeliveries.step})` })
    .from(notificationDeliveries)
    .where(
      inArray(
        notificationDeliveries.alertId,
        open.map((o) => o.row.id),
      ),
    )
    .groupBy(notificationDeliveries.alertId);
  const lastStep = new Map(taken.map((t) => [t.alertId, Number(t.step)]));
  let steps = 0;
  for (const { row, studentId } of open) {
    if (signal?.aborted) break;
    if (!row.groupId) continue;
    let config = configs.get(row.groupId);
    if (!config) {
      config = await loadNotificationConfig(ctx.db, row.groupId, ctx.logger);
      configs.set(row.groupId, config);
    }
    const esc = config.escalation;
    if (!esc || !atLeast(row.severity as Severity, esc.minSeverity)) continue;
    const elapsedMinutes = (now.getTime() - row.createdAt.getTime()) / 60_000;
    const due = Math.min(Math.floor(elapsedMinutes / esc.afterMinutes), esc.steps.length);
    for (let step = (lastStep.get(row.id) ?? 0) + 1; step <= due; step++) {
      const groupId = row.groupId;
      await ctx.db.transaction(async (tx) => {
        // Re-read under a lock: an acknowledgement committed since the scan wins.
        const [still] = await tx.select({ status: extractions.status }).from(extractions).where(eq(extractions.id, row.id)).for("update");
        if (still?.status !== "open") return;
        const queued = await enqueueAlertStep(tx, { row, studentId: studentId ?? null, step, now, config });
        if (queued === 0) return;
        steps++;
        await recordAudit(tx, ctx, {
          action: "alert.escalate",
          targetType: "alert",
          targetId: row.id,
          groupId,
          details: { step, audiences: esc.steps[step - 1] ?? [], recipients: queued, afterMinutes: esc.afterMinutes * step },
        });
        ctx.logger.warn("alert escalated: nobody acknowledged it", { alertId: row.id, step, recipients: queued });
      });
    }
  }
  return steps;
}
