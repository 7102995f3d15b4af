import { extractions, notificationDeliveries, runs, sessions } from "@raptscallions/db";
import { alertStudentIdSql } from "../alerts/dto.ts";
import { and, desc, eq, gte, inArray, sql } from "drizzle-orm";
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
  const open = await ctx.db
    .select({ row: extractions, studentId: alertStudentIdSql })
    .from(extractions)
    .leftJoin(sessions, eq(sessions.id, extractions.sessionId))
    .leftJoin(runs, eq(runs.id, extractions.runId))
    .where(and(eq(extractions.isAlert, true), eq(extractions.status, "open"), gte(extractions.createdAt, new Date(now.getTime() - LOOKBACK_MS))))
    .orderBy(desc(extractions.createdAt))
    .limit(BATCH);
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
  const configs = new Map<string, NotificationConfig>();
  let steps = 0;
  for (const { row, studentId } of open) {
    if (opts.signal?.aborted) break;
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
