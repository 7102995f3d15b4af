import { index, integer, jsonb, pgTable, text, uniqueIndex, uuid, bigserial } from "drizzle-orm/pg-core";
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
    actorId: uuid("actor_id").references(() => users.id, { onDelete: "set null" }),
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
  ],
);

export type AuditDetails = Record<string, unknown>;
