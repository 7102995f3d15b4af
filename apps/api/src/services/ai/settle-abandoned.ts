import { type LimitStore, microsToUsd } from "@raptscallions/gateway";
import type { GenerationResult } from "../../lib/ai-service.ts";
import type { Logger } from "../../lib/logger.ts";
import { SYSTEM_BUDGET_ID } from "./load-plan.ts";

/**
 * `AiService.settleAbandoned`: the reservation a dead instance made for `subject` (kept by the
 * limit store in the same step as its charge) is settled to what the caller recovered. The store's
 * settle marker makes this count once whoever gets there first: another sweeper, or the instance
 * itself coming back to finish its call (its own settle then changes nothing).
 */
export async function settleAbandonedReservation(
  deps: { limits: LimitStore; logger: Logger },
  subject: string,
  actual: { tokens: number; costMicros: number },
): Promise<{ budgetAlerts: GenerationResult["budgetAlerts"] } | null> {
  const reservation = await deps.limits.unsettled(subject);
  if (!reservation) return null;
  const settled = await deps.limits.settle(reservation, actual);
  if (!settled.settled) return null;
  deps.logger.info("settled the reservation of an interrupted call", {
    subject,
    reservationId: reservation.id,
    userId: reservation.userId,
    estimate: reservation.estimate,
    actual,
  });
  const system = settled.alerts.find((a) => a.groupId === SYSTEM_BUDGET_ID);
  if (system) deps.logger.warn("system-wide AI budget alert threshold crossed", { ...system });
  return {
    budgetAlerts: settled.alerts
      .filter((a) => a.groupId !== SYSTEM_BUDGET_ID)
      .map((a) => ({ groupId: a.groupId, usedUsd: microsToUsd(a.spentMicros), budgetUsd: microsToUsd(a.budgetMicros), threshold: a.thresholdMicros / a.budgetMicros })),
  };
}
