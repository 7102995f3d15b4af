import { sql } from "drizzle-orm";
import { bigserial, check, index, integer, jsonb, pgTable, text, uniqueIndex, uuid } from "drizzle-orm/pg-core";
import { createdAt, id, tstz } from "./columns.ts";
import { groups, users } from "./identity.ts";

/** Content-addressed: one file uploaded twice to a group is stored once. */
export const themeAssets = pgTable(
  "theme_assets",
  {
    id: id(),
    groupId: uuid("group_id")
      .notNull()
      .references(() => groups.id, { onDelete: "cascade" }),
    key: text("key").notNull().unique(),
    contentType: text("content_type").notNull(),
    sizeBytes: integer("size_bytes").notNull(),
    sha256: text("sha256").notNull(),
    width: integer("width"),
    height: integer("height"),
    originalName: text("original_name"),
    uploadedBy: uuid("uploaded_by").references(() => users.id, { onDelete: "set null" }),
    createdAt: createdAt(),
  },
  (t) => [uniqueIndex("theme_assets_group_sha_key").on(t.groupId, t.sha256)],
);

/**
 * Svix deliveries: applied ones are inserted in the same transaction as their effect; deliveries
 * that can never be applied are recorded with outcome `rejected` and the `reason`.
 */
export const webhookEvents = pgTable("webhook_events", {
  svixId: text("svix_id").primaryKey(),
  type: text("type").notNull(),
  receivedAt: tstz("received_at").notNull().defaultNow(),
  processedAt: tstz("processed_at"),
  outcome: text("outcome"),
  /** Why a `rejected` delivery can never be applied (null otherwise). */
  reason: text("reason"),
});

export const auditLog = pgTable(
  "audit_log",
  {
    id: bigserial("id", { mode: "number" }).primaryKey(),
    /** The person, when `actorKind` is `user` (null once that user row is gone). */
    actorId: uuid("actor_id").references(() => users.id, { onDelete: "set null" }),
    /** Who acted: a signed-in `user`, the `system` (a job), or a named `integration` (a sync). */
    actorKind: text("actor_kind").$type<AuditActorKind>().notNull().default("user"),
    /** The job's or integration's name (`retention`, `Clerk`); null for people. */
    actorName: text("actor_name"),
    /** The integration's own id (a connection id, `clerk`); null otherwise. */
    actorIntegrationId: text("actor_integration_id"),
    action: text("action").notNull(),
    targetType: text("target_type").notNull(),
    targetId: text("target_id"),
    groupId: uuid("group_id").references(() => groups.id, { onDelete: "set null" }),
    requestId: text("request_id"),
    details: jsonb("details").$type<Record<string, unknown>>().notNull().default({}),
    createdAt: createdAt(),
  },
  (t) => [
    index("audit_log_target_idx").on(t.targetType, t.targetId, t.createdAt),
    index("audit_log_actor_idx").on(t.actorId, t.createdAt),
    index("audit_log_time_idx").on(t.createdAt),
    check("audit_log_actor_kind_check", sql`${t.actorKind} in ('user', 'system', 'integration')`),
    check("audit_log_actor_name_check", sql`${t.actorKind} = 'user' or ${t.actorName} is not null`),
    check("audit_log_actor_integration_check", sql`${t.actorKind} <> 'integration' or ${t.actorIntegrationId} is not null`),
  ],
);

export type AuditActorKind = "user" | "system" | "integration";

/**
 * One row per registered job: who holds it (`holder`, until `leasedUntil`) and when it is next
 * due. Claiming is one conditional upsert, so on any number of instances a run is claimed by
 * exactly one; a holder that dies loses the lease when it expires.
 */
export const jobLeases = pgTable("job_leases", {
  name: text("name").primaryKey(),
  holder: text("holder"),
  leasedUntil: tstz("leased_until"),
  nextRunAt: tstz("next_run_at").notNull().defaultNow(),
  lastStartedAt: tstz("last_started_at"),
  lastFinishedAt: tstz("last_finished_at"),
  /** `ok` or `failed` (null before the first run ends). */
  lastOutcome: text("last_outcome"),
  /** The last failure's message (never a stack or query parameters). */
  lastError: text("last_error"),
});

export type AuditDetails = Record<string, unknown>;
