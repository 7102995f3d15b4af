import { AppError, NotFoundError } from "@raptscallions/core";
import { aiModels, aiSettings, groups, type DbOrTx } from "@raptscallions/db";
import { resolveModelChoice, usdToMicros, type ChatMessage, type GroupBudget, type ModelChoice, type UserLimits } from "@raptscallions/gateway";
import { desc, eq, sql } from "drizzle-orm";
import { alias } from "drizzle-orm/pg-core";

/**
 * The pseudo-group id under which the system-wide monthly budget (the `isSystem` settings row) is
 * charged in the limit store. Never a real group id (those are uuids), so it cannot collide.
 */
export const SYSTEM_BUDGET_ID = "system";

/** A catalogue row as the service needs it (prices in USD per 1k tokens). */
export interface ModelInfo {
  id: string;
  inputPricePer1k: number;
  outputPricePer1k: number;
  contextWindow: number;
  maxOutputTokens: number;
  active: boolean;
}

/** Where each per-user limit came from: a group id (nearest that sets it), `system`, or none. */
export type LimitSource = string | null;

/** Everything decided from the database before a call: model(s), per-user limits, budgets. */
export interface AiPlan {
  model: ModelInfo;
  choice: ModelChoice;
  /** Active fallback models from the tool definition, in order (inactive/unknown ones dropped). */
  fallbacks: ModelInfo[];
  /** Fallback ids that were named but are unknown or inactive (logged, not fatal). */
  skippedFallbacks: string[];
  limits: UserLimits;
  limitSources: { requestsPerMinute: LimitSource; requestsPerHour: LimitSource; tokensPerDay: LimitSource };
  /** Nearest group first, then each ancestor, then the system budget. */
  budgets: GroupBudget[];
}

/** Inputs of {@link loadAiPlan}. */
export interface LoadPlanInput {
  groupId: string;
  toolModel?: string | null;
  fallbackModels?: readonly string[];
  envDefault: string;
}

interface SettingsRow {
  groupId: string | null;
  defaultModel: string | null;
  requestsPerMinute: number | null;
  requestsPerHour: number | null;
  tokensPerDay: number | null;
  monthlyBudgetUsd: number | null;
  alertThreshold: number | null;
}

const settingsColumns = {
  defaultModel: aiSettings.defaultModel,
  requestsPerMinute: aiSettings.requestsPerMinute,
  requestsPerHour: aiSettings.requestsPerHour,
  tokensPerDay: aiSettings.tokensPerDay,
  monthlyBudgetUsd: aiSettings.monthlyBudgetUsd,
  alertThreshold: aiSettings.alertThreshold,
};

/** The group and each ancestor (nearest first) with its settings row, if any. */
async function loadChain(db: DbOrTx, groupId: string): Promise<SettingsRow[]> {
  const target = alias(groups, "target");
  return db
    .select({ groupId: groups.id, ...settingsColumns })
    .from(target)
    .innerJoin(groups, sql`${groups.path} @> ${target.path}`)
    .leftJoin(aiSettings, eq(aiSettings.groupId, groups.id))
    .where(eq(target.id, groupId))
    .orderBy(desc(sql`nlevel(${groups.path})`));
}

async function loadSystem(db: DbOrTx): Promise<SettingsRow | null> {
  const [row] = await db
    .select({ groupId: aiSettings.groupId, ...settingsColumns })
    .from(aiSettings)
    .where(eq(aiSettings.isSystem, true))
    .limit(1);
  return row ?? null;
}

/** First non-null value of `field` from the nearest level up; per-user limits: nearest wins. */
function nearest(
  levels: readonly { id: string; row: SettingsRow }[],
  field: "requestsPerMinute" | "requestsPerHour" | "tokensPerDay",
): { value: number | null; source: LimitSource } {
  for (const level of levels) {
    const value = level.row[field];
    if (value !== null) return { value, source: level.id };
  }
  return { value: null, source: null };
}

/**
 * Loads the settings chain and the catalogue and decides the call's model, fallbacks, per-user
 * limits and budgets. Throws `MODEL_UNAVAILABLE` (unknown/inactive model) before any upstream call,
 * and `NotFoundError` when the scope's group does not exist.
 */
export async function loadAiPlan(db: DbOrTx, input: LoadPlanInput): Promise<AiPlan> {
  const [chain, system, catalogueRows] = await Promise.all([loadChain(db, input.groupId), loadSystem(db), db.select().from(aiModels)]);
  if (chain.length === 0) throw new NotFoundError("Group", { groupId: input.groupId });

  const catalogue = new Map<string, ModelInfo>(catalogueRows.map((m) => [m.id, m]));
  const choice = resolveModelChoice({
    toolModel: input.toolModel,
    groupChainDefaults: chain.map((r) => r.defaultModel),
    systemDefault: system?.defaultModel,
    envDefault: input.envDefault,
    catalogue,
  });
  const model = catalogue.get(choice.model);
  if (!model) throw new AppError("MODEL_UNAVAILABLE", `Model "${choice.model}" is not in the model catalogue`);

  const fallbacks: ModelInfo[] = [];
  const skippedFallbacks: string[] = [];
  for (const id of input.fallbackModels ?? []) {
    if (id === model.id || fallbacks.some((f) => f.id === id)) continue;
    const info = catalogue.get(id);
    if (info?.active) fallbacks.push(info);
    else skippedFallbacks.push(id);
  }

  const levels = chain.map((row) => ({ id: row.groupId ?? "", row }));
  if (system) levels.push({ id: SYSTEM_BUDGET_ID, row: system });
  const rpm = nearest(levels, "requestsPerMinute");
  const rph = nearest(levels, "requestsPerHour");
  const tpd = nearest(levels, "tokensPerDay");

  // Every level is charged, also those without a budget, so a budget set mid-month sees the
  // month's spend so far; the strictest budget up the tree refuses first.
  const budgets: GroupBudget[] = levels.map(({ id, row }) => ({
    groupId: id,
    monthlyBudgetMicros: row.monthlyBudgetUsd === null ? null : usdToMicros(row.monthlyBudgetUsd),
    alertThreshold: row.alertThreshold ?? 0.8,
  }));
  if (!system) budgets.push({ groupId: SYSTEM_BUDGET_ID, monthlyBudgetMicros: null, alertThreshold: null });

  return {
    model,
    choice,
    fallbacks,
    skippedFallbacks,
    limits: { requestsPerMinute: rpm.value, requestsPerHour: rph.value, tokensPerDay: tpd.value },
    limitSources: { requestsPerMinute: rpm.source, requestsPerHour: rph.source, tokensPerDay: tpd.source },
    budgets,
  };
}

/** What is sent upstream and what it may cost at most: the basis of the reservation. */
export interface PlannedCall {
  candidates: ModelInfo[];
  messages: ChatMessage[];
  maxTokens: number;
  inputEstimate: number;
  costEstimate: number;
}
