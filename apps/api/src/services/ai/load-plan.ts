import { AppError, NotFoundError } from "@raptscallions/core";
import { aiModels, aiSettings, type Db, type DbOrTx, groups, preparedOn } from "@raptscallions/db";
import { resolveModelChoice, usdToMicros, type ChatMessage, type GroupBudget, type ModelChoice, type UserLimits } from "@raptscallions/gateway";
import { sql } from "drizzle-orm";

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

/** A settings row as the statement below returns it (json: snake_case keys). */
interface SettingsJson {
  group_id: string | null;
  default_model: string | null;
  requests_per_minute: number | null;
  requests_per_hour: number | null;
  tokens_per_day: number | null;
  monthly_budget_usd: number | string | null;
  alert_threshold: number | null;
}

interface ModelJson {
  id: string;
  input_price_per_1k: number | string;
  output_price_per_1k: number | string;
  context_window: number;
  max_output_tokens: number;
  active: boolean;
}

const toNumber = (v: number | string) => (typeof v === "number" ? v : Number(v));

function settingsRow(j: SettingsJson): SettingsRow {
  return {
    groupId: j.group_id,
    defaultModel: j.default_model,
    requestsPerMinute: j.requests_per_minute,
    requestsPerHour: j.requests_per_hour,
    tokensPerDay: j.tokens_per_day,
    monthlyBudgetUsd: j.monthly_budget_usd === null ? null : toNumber(j.monthly_budget_usd),
    alertThreshold: j.alert_threshold,
  };
}

// The group and each ancestor (nearest first) with its settings row if any, the system settings,
// and the catalogue rows any of them (or the tool, its fallbacks, the environment default) name.
// Prepared once per database: the named models travel as one JSON array parameter.
function prepareSettingsAndModels(db: Db) {
  const groupId = sql.placeholder("groupId");
  return db
    .select({
      chain: sql<SettingsJson[] | null>`(
        select json_agg(json_build_object(
          'group_id', g.id, 'default_model', s.default_model, 'requests_per_minute', s.requests_per_minute,
          'requests_per_hour', s.requests_per_hour, 'tokens_per_day', s.tokens_per_day,
          'monthly_budget_usd', s.monthly_budget_usd, 'alert_threshold', s.alert_threshold
        ) order by nlevel(g.path) desc)
        from ${groups} target join ${groups} g on g.path @> target.path left join ${aiSettings} s on s.group_id = g.id
        where target.id = ${groupId})`,
      system: sql<SettingsJson | null>`(
        select json_build_object(
          'group_id', s.group_id, 'default_model', s.default_model, 'requests_per_minute', s.requests_per_minute,
          'requests_per_hour', s.requests_per_hour, 'tokens_per_day', s.tokens_per_day,
          'monthly_budget_usd', s.monthly_budget_usd, 'alert_threshold', s.alert_threshold
        ) from ${aiSettings} s where s.is_system limit 1)`,
      models: sql<ModelJson[] | null>`(
        select json_agg(json_build_object(
          'id', m.id, 'input_price_per_1k', m.input_price_per_1k, 'output_price_per_1k', m.output_price_per_1k,
          'context_window', m.context_window, 'max_output_tokens', m.max_output_tokens, 'active', m.active
        ))
        from ${aiModels} m
        where m.id in (select jsonb_array_elements_text(${sql.placeholder("named")}::jsonb))
           or m.id in (select s.default_model from ${aiSettings} s where s.is_system
                       or s.group_id in (select g.id from ${groups} target join ${groups} g on g.path @> target.path where target.id = ${groupId})))`,
    })
    .from(sql`(select 1) as one`)
    .prepare("ai_settings_and_models");
}

/** One statement per turn, reading only the models that can be chosen, however large the catalogue. */
async function loadSettingsAndModels(db: DbOrTx, input: LoadPlanInput): Promise<{ chain: SettingsRow[]; system: SettingsRow | null; models: ModelInfo[] }> {
  const named = [input.toolModel, ...(input.fallbackModels ?? []), input.envDefault].filter((m): m is string => typeof m === "string");
  const [row] = await preparedOn(db, "ai_settings_and_models", prepareSettingsAndModels).execute({ groupId: input.groupId, named: JSON.stringify(named) });
  return {
    chain: (row?.chain ?? []).map(settingsRow),
    system: row?.system ? settingsRow(row.system) : null,
    models: (row?.models ?? []).map((m) => ({
      id: m.id,
      inputPricePer1k: toNumber(m.input_price_per_1k),
      outputPricePer1k: toNumber(m.output_price_per_1k),
      contextWindow: m.context_window,
      maxOutputTokens: m.max_output_tokens,
      active: m.active,
    })),
  };
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
  const { chain, system, models } = await loadSettingsAndModels(db, input);
  if (chain.length === 0) throw new NotFoundError("Group", { groupId: input.groupId });

  const catalogue = new Map<string, ModelInfo>(models.map((m) => [m.id, m]));
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
