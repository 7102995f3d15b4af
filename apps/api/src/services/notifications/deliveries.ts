import { type AlertDeliveriesDto, NotFoundError } from "@raptscallions/core";
import { extractions, groups, notificationAttempts, notificationDeliveries } from "@raptscallions/db";
import { and, asc, eq, inArray } from "drizzle-orm";
import { isAdminOver } from "../../access/policy.ts";
import type { ServiceContext } from "../context.ts";
import { iso } from "../query-helpers.ts";

/**
 * The delivery log of one alert: every recipient on every channel and step, with each attempt.
 * For admins over the alert's group (a teacher sees the alert, not who else was told). Anyone
 * else gets the same 404 as for an alert that does not exist.
 */
export async function listAlertDeliveries({ ctx, input }: { ctx: ServiceContext; input: { id: string } }): Promise<AlertDeliveriesDto> {
  const [alert] = await ctx.db
    .select({ id: extractions.id, groupPath: groups.path })
    .from(extractions)
    .innerJoin(groups, eq(groups.id, extractions.groupId))
    .where(and(eq(extractions.id, input.id), eq(extractions.isAlert, true)));
  if (!alert || !isAdminOver(ctx.actor, alert.groupPath)) throw new NotFoundError("Alert");
  const rows = await ctx.db
    .select()
    .from(notificationDeliveries)
    .where(eq(notificationDeliveries.alertId, alert.id))
    .orderBy(asc(notificationDeliveries.step), asc(notificationDeliveries.channel), asc(notificationDeliveries.recipient));
  const attempts =
    rows.length === 0
      ? []
      : await ctx.db
          .select()
          .from(notificationAttempts)
          .where(
            inArray(
              notificationAttempts.deliveryId,
              rows.map((r) => r.id),
            ),
          )
          .orderBy(asc(notificationAttempts.id));
  return {
    items: rows.map((r) => ({
      id: r.id,
      alertId: r.alertId,
      purpose: r.purpose,
      step: r.step,
      channel: r.channel,
      recipient: r.recipient,
      status: r.status,
      attempts: r.attempts,
      nextAttemptAt: iso(r.nextAttemptAt),
      lastError: r.lastError,
      sentAt: r.sentAt ? iso(r.sentAt) : null,
      createdAt: iso(r.createdAt),
      log: attempts
        .filter((a) => a.deliveryId === r.id)
        .map((a) => ({ attempt: a.attempt, outcome: a.outcome, error: a.error, durationMs: a.durationMs, at: iso(a.createdAt) })),
    })),
  };
}
