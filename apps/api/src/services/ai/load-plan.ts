import { AppError, NotFoundError } from "@raptscallions/core";
import { aiModels, aiSettings, type Db, type DbOrTx, groups, preparedOn } from "@raptscallions/db";
import { resolveModelChoice, usdToMicros, type ChatMessage, type GroupBudget, type ModelChoice, type UserLimits } from "@raptscallions/gateway";
import { sql } from "drizzle-orm";
import type { AiPlanRows, AiPlanSettingsJson as SettingsJson } from "../../lib/ai-service.ts";
import { type QueryKey, qualified } from "../query-helpers.ts";

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

const settingsJson = (s: string) => `json_build_object(
  'group_id', ${s}.group_id, 'default_model', ${s}.default_model, 'requests_per_minute', ${s}.requests_per_minute,
  'requests_per_hour', ${s}.requests_per_hour, 'tokens_per_day', ${s}.tokens_per_day,
  'monthly_budget_usd', ${s}.monthly_budget_usd, 'alert_threshold', ${s}.alert_threshold)`;

/**
 * The plan's rows as one column of a select, keyed by the group and the named models (a jsonb
 * array of model ids): a placeholder each in the plan's own statement, or another table's values
 * when a chat turn reads them with its session (`session-for-send.ts`). Only the catalogue rows
 * that can be chosen are read, however large the catalogue.
 */
export function aiPlanFields(byKey: { groupId: QueryKey; named: QueryKey }) {
  const keys = qualified(byKey);
  const chainSettings = sql.raw(settingsJson("s").replace("'group_id', s.group_id", "'group_id', g.id"));
  return sql<AiPlanRows>`(select json_build_object(
      'chain', (select json_agg(${chainSettings} order by nlevel(g.path) desc)
        from ${groups} target join ${groups} g on g.path @> target.path left join ${aiSettings} s on s.group_id = g.id
        where target.id = ${keys.groupId}),
      'system', (select ${sql.raw(settingsJson("s"))} from ${aiSettings} s where s.is_system limit 1),
      'models', (select json_agg(json_build_object(
          'id', m.id, 'input_price_per_1k', m.input_price_per_1k, 'output_price_per_1k', m.output_price_per_1k,
          'context_window', m.context_window, 'max_output_tokens', m.max_output_tokens, 'active', m.active))
        from ${aiModels} m
        where m.id in (select jsonb_array_elements_text(n.named))
           or m.id in (select s.default_model from ${aiSettings} s where s.is_system
                       or s.group_id in (select g.id from ${groups} target join ${groups} g on g.path @> target.path where target.id = ${keys.groupId}))),
      'named', n.named)
    from (select ${keys.named}::jsonb as named) n)`;
}

// The plan's own statement, prepared once per database: the named models travel as one JSON
// array parameter.
function prepareSettingsAndModels(db: Db) {
  return db
    .select({ plan: aiPlanFields({ groupId: sql.placeholder("groupId"), named: sql.placeholder("named") }) })
    .from(sql`(select 1) as one`)
    .prepare("ai_settings_and_models");
}

/** The model ids a plan must find in the catalogue read: the tool's, its fallbacks, the environment default. */
function namedModels(input: LoadPlanInput): string[] {
  return [input.toolModel, ...(input.fallbackModels ?? []), input.envDefault].filter((m): m is string => typeof m === "string");
}

/** Whether rows read elsewhere can decide this plan: they looked for every model it may name. */
export function planRowsCover(rows: AiPlanRows, input: LoadPlanInput): boolean {
  const named = new Set(rows.named ?? []);
  return namedModels(input).every((m) => named.has(m));
}

function parsePlanRows(row: AiPlanRows | null | undefined): { chain: SettingsRow[]; system: SettingsRow | null; models: ModelInfo[] } {
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

/** One statement per turn (none when the turn read the rows with its session: {@link planFromRows}). */
async function loadSettingsAndModels(db: DbOrTx, input: LoadPlanInput): Promise<AiPlanRows | undefined> {
  const [row] = await preparedOn(db, "ai_settings_and_models", prepareSettingsAndModels).execute({ groupId: input.groupId, named: JSON.stringify(namedModels(input)) });
  return row?.plan;
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
  return planFromRows(await loadSettingsAndModels(db, input), input);
}

/** {@link loadAiPlan} from rows already read with {@link aiPlanFields} (check {@link planRowsCover} first). */
export function planFromRows(rows: AiPlanRows | null | undefined, input: LoadPlanInput): AiPlan {
  const { chain, system, models } = parsePlanRows(rows);
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
