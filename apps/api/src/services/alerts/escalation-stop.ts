import { type DbOrTx, notificationAttempts, notificationDeliveries } from "@raptscallions/db";
import { and, eq, type SQL } from "drizzle-orm";

/** Why an escalation step of an alert that left `open` is not sent, as the delivery log shows it. */
export function escalationStopReason(alert: { status: string; resolvedAt: Date | null }): string {
  const when = alert.resolvedAt ? ` at ${alert.resolvedAt.toISOString()}` : "";
  return `escalation stopped: the alert was ${alert.status}${when}`;
}

/**
 * Marks the deliveries matching `where` as `cancelled` with `reason`, and logs one attempt row for
 * each (outcome `cancelled`, the reason as its error), so the delivery log says why nothing was
 * sent. Returns the cancelled rows' ids. Run it in the transaction that decided it.
 */
export async function cancelDeliveries(
  tx: DbOrTx,
  where: SQL | undefined,
  input: { reason: string; now: Date; instanceId: string | null; claimed: boolean },
): Promise<string[]> {
  const rows = await tx
    .update(notificationDeliveries)
    .set({ status: "cancelled", leaseUntil: null, lastError: input.reason })
    .where(where)
    .returning({ id: notificationDeliveries.id, attempts: notificationDeliveries.attempts });
  if (rows.length === 0) return [];
  await tx.insert(notificationAttempts).values(
    rows.map((r) => ({
      deliveryId: r.id,
      // The attempt that was not made: a claim already counted it, a pending row had not yet.
      attempt: input.claimed ? r.attempts : r.attempts + 1,
      outcome: "cancelled" as const,
      error: input.reason,
      durationMs: 0,
      instanceId: input.instanceId,
      createdAt: input.now,
    })),
  );
  return rows.map((r) => r.id);
}

/** The pending escalation steps of one alert: what an acknowledgement or dismissal stops. */
export function pendingEscalationsOf(alertId: string): SQL | undefined {
  return and(eq(notificationDeliveries.alertId, alertId), eq(notificationDeliveries.purpose, "escalation"), eq(notificationDeliveries.status, "pending"));
}
