import { aiUsage, type DbOrTx } from "@raptscallions/db";
import { type BudgetAlert, type ChatSummary, costOf, estimateTokens, type LimitStore, microsToUsd, type Reservation } from "@raptscallions/gateway";
import type { FinishOptions, GenerationResult, GenerationScope, GenerationStatus, UsageRow } from "../../lib/ai-service.ts";
import type { Clock } from "../../lib/clock.ts";
import type { Logger } from "../../lib/logger.ts";
import { type AiPlan, type ModelInfo, type PlannedCall, SYSTEM_BUDGET_ID } from "./load-plan.ts";

/** What settling needs from the service. */
export interface SettleDeps {
  db: DbOrTx;
  limits: LimitStore;
  clock: Clock;
  logger: Logger;
  count: (model: string, outcome: string) => void;
}

/** One generation as it ended: what was planned and reserved, and what the stream reports. */
export interface EndedGeneration {
  scope: GenerationScope;
  plan: AiPlan;
  call: PlannedCall;
  reservation: Reservation;
  summary: ChatSummary;
  startedAt: number;
}

/**
 * `Generation.finish`: settles the reservation to the usage actually consumed (estimated when no
 * usage chunk came), writes the one ai_usage row (unless the caller writes it: `deferUsageRow`)
 * and reports the budget alerts crossed. Neither a failed settle nor a failed row fails the
 * answer: both are logged.
 */
export async function settleGeneration(
  deps: SettleDeps,
  ended: EndedGeneration,
  status: GenerationStatus,
  callerText: string,
  options: FinishOptions = {},
): Promise<GenerationResult> {
  const s = ended.summary;
  const modelId = s.model ?? ended.plan.model.id;
  const info: ModelInfo = ended.call.candidates.find((m) => m.id === modelId) ?? ended.plan.model;
  const { inputTokens, outputTokens, estimated } = consumedTokens(s, callerText, ended.call.inputEstimate);
  const costMicros = costOf({ inputTokens, outputTokens }, info);
  const latencyMs = s.latencyMs ?? Math.max(0, deps.clock.now().getTime() - ended.startedAt);

  const settleAlerts = await settleReservation(deps, ended.reservation, inputTokens + outputTokens, costMicros);
  const usageRow = usageRowOf(ended.scope, {
    model: info.id,
    inputTokens,
    outputTokens,
    costUsd: microsToUsd(costMicros),
    latencyMs: Math.round(latencyMs),
    ttftMs: s.ttftMs === null ? null : Math.round(s.ttftMs),
    status,
    estimated,
  });
  if (!options.deferUsageRow) await recordUsageRow(deps, usageRow);
  deps.count(info.id, status);

  const alerts = dedupeAlerts([...(await confirmedReserveAlerts(deps.limits, ended.reservation, deps.logger)), ...settleAlerts]);
  const system = alerts.find((a) => a.groupId === SYSTEM_BUDGET_ID);
  if (system) deps.logger.warn("system-wide AI budget alert threshold crossed", { ...system });
  return {
    model: info.id,
    inputTokens,
    outputTokens,
    costUsd: microsToUsd(costMicros),
    estimated,
    ttftMs: s.ttftMs,
    latencyMs,
    budgetAlerts: alerts
      .filter((a) => a.groupId !== SYSTEM_BUDGET_ID)
      .map((a) => ({
        groupId: a.groupId,
        usedUsd: microsToUsd(a.spentMicros),
        budgetUsd: microsToUsd(a.budgetMicros),
        threshold: ended.plan.budgets.find((b) => b.groupId === a.groupId)?.alertThreshold ?? a.thresholdMicros / a.budgetMicros,
      })),
    usageRow,
  };
}

/** Tokens to charge: the upstream's usage when it came, else what was plausibly consumed. */
function consumedTokens(s: ChatSummary, callerText: string, inputEstimate: number): { inputTokens: number; outputTokens: number; estimated: boolean } {
  if (s.usage) return { inputTokens: s.usage.inputTokens, outputTokens: s.usage.outputTokens, estimated: false };
  if (s.outcome === "pending" || (s.outcome === "failed" && !s.firstTokenReceived)) {
    // Nothing was sent, or every attempt was refused before generating: providers bill nothing.
    return { inputTokens: 0, outputTokens: 0, estimated: true };
  }
  // Broken or aborted stream: no usage chunk comes, so charge what was plausibly consumed.
  return { inputTokens: inputEstimate, outputTokens: estimateTokens(s.text || callerText), estimated: true };
}

async function settleReservation(deps: SettleDeps, reservation: Reservation, tokens: number, costMicros: number): Promise<readonly BudgetAlert[]> {
  try {
    return (await deps.limits.settle(reservation, { tokens, costMicros })).alerts;
  } catch (err) {
    // The reservation stays charged at its estimate (errs safe); the answer still finalises.
    deps.logger.error("settling the AI reservation failed", { err, reservationId: reservation.id });
    return [];
  }
}

function usageRowOf(scope: GenerationScope, row: Omit<UsageRow, keyof GenerationScope | "id" | "createdAt">): UsageRow {
  return {
    userId: scope.userId,
    groupId: scope.groupId,
    classId: scope.classId,
    toolId: scope.toolId,
    sessionId: scope.sessionId,
    assignmentId: scope.assignmentId,
    runId: scope.runId,
    messageId: scope.messageId,
    ...row,
  };
}

async function recordUsageRow(deps: SettleDeps, row: UsageRow): Promise<void> {
  try {
    await deps.db.insert(aiUsage).values(row);
  } catch (err) {
    // Usage rows feed reports; limits were already settled, so losing one must not fail the answer.
    deps.logger.error("writing the ai_usage row failed", { err, messageId: row.messageId, model: row.model });
  }
}

/**
 * A reservation charges the whole estimate (the full output allowance), so it can cross an alert
 * threshold that the actual usage does not reach. Keep only the groups still at or above their
 * threshold after settling, with their current spend.
 */
async function confirmedReserveAlerts(limits: LimitStore, reservation: Reservation, logger: Logger): Promise<BudgetAlert[]> {
  if (reservation.alerts.length === 0) return [];
  try {
    const usage = await limits.usage({
      userId: reservation.userId,
      groupIds: reservation.alerts.map((a) => a.groupId),
      now: reservation.reservedAt,
    });
    return reservation.alerts.flatMap((a) => {
      const spent = usage.spentThisMonthMicros[a.groupId] ?? 0;
      return spent >= a.thresholdMicros ? [{ ...a, spentMicros: spent }] : [];
    });
  } catch (err) {
    logger.warn("could not confirm budget alerts; reporting them as reserved", { err });
    return [...reservation.alerts];
  }
}

/** One alert per group (a reserve and its settle can both cross), keeping the latest spend. */
function dedupeAlerts(alerts: readonly BudgetAlert[]): BudgetAlert[] {
  const byGroup = new Map<string, BudgetAlert>();
  for (const a of alerts) byGroup.set(a.groupId, a);
  return [...byGroup.values()];
}
