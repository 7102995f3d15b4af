import type { KeyValueStore } from "@raptscallions/bus";
import type { Db } from "@raptscallions/db";
import type { Logger } from "../../lib/logger.ts";
import { recordAudit } from "../audit/record.ts";
import type { GenerationResult } from "../../lib/ai-service.ts";

const RETAIN_MS = 40 * 24 * 60 * 60 * 1000;

/**
 * Records each group's crossing of its monthly budget alert threshold once per month, across
 * instances (an atomic kv counter decides who records it): an `ai.budget.threshold` audit row
 * admins read through `/api/audit`, and a warning in the logs. Settling below an estimate can
 * cross the same threshold twice in a month; the counter keeps that to one record.
 */
export async function recordBudgetAlerts(deps: { db: Db; kv: KeyValueStore; logger: Logger; now: Date }, alerts: GenerationResult["budgetAlerts"]): Promise<number> {
  let recorded = 0;
  const month = deps.now.toISOString().slice(0, 7);
  for (const alert of alerts) {
    const first = (await deps.kv.incr(`budget-alert:${alert.groupId}:${month}`, 1, RETAIN_MS)) === 1;
    if (!first) continue;
    recorded += 1;
    deps.logger.warn("monthly AI budget alert threshold crossed", { ...alert, month });
    await recordAudit(
      deps.db,
      { actor: { kind: "system", name: "budget-alerts" }, requestId: null },
      {
        action: "ai.budget.threshold",
        targetType: "group",
        targetId: alert.groupId,
        groupId: alert.groupId,
        details: { month, usedUsd: alert.usedUsd, budgetUsd: alert.budgetUsd, threshold: alert.threshold },
      },
    );
  }
  return recorded;
}
