import { sql } from "drizzle-orm";
import { bigint, boolean, index, integer, numeric, pgTable, real, text, uniqueIndex, uuid } from "drizzle-orm/pg-core";
import { createdAt, id, timestamps, tstz } from "./columns.ts";
import { classes } from "./classes.ts";
import { groups, users } from "./identity.ts";
import { messages, runs, sessions } from "./sessions.ts";
import { assignments } from "./classes.ts";

const usd = (name: string) => numeric(name, { precision: 14, scale: 6, mode: "number" });

export const aiModels = pgTable("ai_models", {
  /** The gateway's model id, e.g. `openai/gpt-4o-mini` or `dev-tutor`. */
  id: text("id").primaryKey(),
  provider: text("provider").notNull(),
  displayName: text("display_name").notNull(),
  inputPricePer1k: usd("input_price_per_1k").notNull().default(0),
  outputPricePer1k: usd("output_price_per_1k").notNull().default(0),
  contextWindow: integer("context_window").notNull().default(8192),
  maxOutputTokens: integer("max_output_tokens").notNull().default(1024),
  active: boolean("active").notNull().default(true),
  ...timestamps(),
});

/** Limits and defaults for the whole system (groupId null, isSystem) or one group and its subtree. */
export const aiSettings = pgTable(
  "ai_settings",
  {
    id: id(),
    groupId: uuid("group_id").references(() => groups.id, { onDelete: "cascade" }),
    isSystem: boolean("is_system").notNull().default(false),
    defaultModel: text("default_model").references(() => aiModels.id, { onDelete: "set null" }),
    requestsPerMinute: integer("requests_per_minute"),
    requestsPerHour: integer("requests_per_hour"),
    tokensPerDay: integer("tokens_per_day"),
    monthlyBudgetUsd: usd("monthly_budget_usd"),
    /** Fraction of the monthly budget (0..1) at which admins are alerted. */
    alertThreshold: real("alert_threshold").notNull().default(0.8),
    ...timestamps(),
  },
  (t) => [uniqueIndex("ai_settings_group_key").on(t.groupId), uniqueIndex("ai_settings_system_key").on(t.isSystem).where(sql`${t.isSystem}`)],
);

export const USAGE_STATUSES = ["complete", "stopped", "failed", "interrupted"] as const;

/** One row per gateway call, with who/where it was for, so reports can slice by scope. */
export const aiUsage = pgTable(
  "ai_usage",
  {
    id: id(),
    userId: uuid("user_id").references(() => users.id, { onDelete: "set null" }),
    groupId: uuid("group_id").references(() => groups.id, { onDelete: "set null" }),
    classId: uuid("class_id").references(() => classes.id, { onDelete: "set null" }),
    toolId: uuid("tool_id"),
    sessionId: uuid("session_id").references(() => sessions.id, { onDelete: "set null" }),
    assignmentId: uuid("assignment_id").references(() => assignments.id, { onDelete: "set null" }),
    runId: uuid("run_id").references(() => runs.id, { onDelete: "set null" }),
    messageId: uuid("message_id").references(() => messages.id, { onDelete: "set null" }),
    model: text("model").notNull(),
    inputTokens: integer("input_tokens").notNull().default(0),
    outputTokens: integer("output_tokens").notNull().default(0),
    costUsd: usd("cost_usd").notNull().default(0),
    latencyMs: integer("latency_ms"),
    ttftMs: integer("ttft_ms"),
    status: text("status", { enum: USAGE_STATUSES }).notNull(),
    /** True when the stream ended without a usage chunk and tokens were estimated. */
    estimated: boolean("estimated").notNull().default(false),
    createdAt: createdAt(),
  },
  (t) => [
    index("ai_usage_group_time_idx").on(t.groupId, t.createdAt),
    index("ai_usage_user_time_idx").on(t.userId, t.createdAt),
    index("ai_usage_class_time_idx").on(t.classId, t.createdAt),
    index("ai_usage_model_time_idx").on(t.model, t.createdAt),
  ],
);

/**
 * Limit settles of crashed calls that the sweeper could not make (the limit store unreachable):
 * the call's reservation stays charged at its estimate until one succeeds, so every sweep retries
 * these, with the figures the first attempt had, and drops a row once its subject has nothing left
 * to settle. The limit store's settled marker keeps a retry from counting twice. The system's own
 * table: a subject (`answer:<id>`, `run:<id>`) and two numbers, no tenant data.
 */
export const limitSettleRetries = pgTable("limit_settle_retries", {
  /** The reservation's subject in the limit store. */
  subject: text("subject").primaryKey(),
  tokens: integer("tokens").notNull(),
  costMicros: bigint("cost_micros", { mode: "number" }).notNull(),
  /** Failed attempts so far, the sweep's first included. */
  attempts: integer("attempts").notNull().default(1),
  createdAt: createdAt(),
  lastTriedAt: tstz("last_tried_at").notNull().defaultNow(),
});
