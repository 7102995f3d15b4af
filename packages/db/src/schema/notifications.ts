import { sql } from "drizzle-orm";
import { bigserial, check, index, integer, jsonb, pgTable, text, uniqueIndex, uuid } from "drizzle-orm/pg-core";
import { createdAt, id, tstz } from "./columns.ts";
import { groups, users } from "./identity.ts";
import { extractions } from "./sessions.ts";

export const NOTIFICATION_CHANNELS = ["email", "webhook"] as const;
export type NotificationChannel = (typeof NOTIFICATION_CHANNELS)[number];
export const NOTIFICATION_PURPOSES = ["alert", "escalation", "digest"] as const;
export type NotificationPurpose = (typeof NOTIFICATION_PURPOSES)[number];
/**
 * `pending` → `sending` (claimed, leased) → `sent`, or back to `pending` to retry, or `dead` when out
 * of attempts; `cancelled` when it is no longer wanted (an escalation step of an alert someone
 * acknowledged). A text column: adding a state needs no migration.
 */
export const DELIVERY_STATUSES = ["pending", "sending", "sent", "dead", "cancelled"] as const;
export type DeliveryStatus = (typeof DELIVERY_STATUSES)[number];

/**
 * The notification outbox: one row per recipient per channel per reason (an alert, an escalation
 * step, a day's digest), written in the same transaction as what caused it. `dedupe_key` with the
 * channel and recipient is unique, so enqueuing twice (two instances escalating the same alert)
 * still sends once. Dispatchers claim due rows with `FOR UPDATE SKIP LOCKED`.
 */
export const notificationDeliveries = pgTable(
  "notification_deliveries",
  {
    id: id(),
    alertId: uuid("alert_id").references(() => extractions.id, { onDelete: "cascade" }),
    groupId: uuid("group_id").references(() => groups.id, { onDelete: "cascade" }),
    purpose: text("purpose", { enum: NOTIFICATION_PURPOSES }).notNull(),
    /** Escalation step (0 for the alert's first notification and for digests). */
    step: integer("step").notNull().default(0),
    channel: text("channel", { enum: NOTIFICATION_CHANNELS }).notNull(),
    /** An email address or a webhook URL. */
    recipient: text("recipient").notNull(),
    recipientUserId: uuid("recipient_user_id").references(() => users.id, { onDelete: "set null" }),
    dedupeKey: text("dedupe_key").notNull(),
    /** What to render: ids, category, severity, links; never raw chat text. */
    payload: jsonb("payload").$type<Record<string, unknown>>().notNull().default({}),
    /** The webhook's `whsec_` secret at enqueue time (never returned by the API). */
    signingSecret: text("signing_secret"),
    status: text("status", { enum: DELIVERY_STATUSES }).notNull().default("pending"),
    attempts: integer("attempts").notNull().default(0),
    nextAttemptAt: tstz("next_attempt_at").notNull().defaultNow(),
    /** While `sending`: the claim expires then, and another dispatcher may retry the row. */
    leaseUntil: tstz("lease_until"),
    lastError: text("last_error"),
    sentAt: tstz("sent_at"),
    createdAt: createdAt(),
  },
  (t) => [
    uniqueIndex("notification_deliveries_dedupe_key").on(t.dedupeKey, t.channel, t.recipient),
    index("notification_deliveries_due_idx").on(t.status, t.nextAttemptAt),
    index("notification_deliveries_alert_idx").on(t.alertId),
    check("notification_deliveries_attempts_check", sql`${t.attempts} >= 0`),
  ],
);

/** The delivery log: one row per attempt, with its outcome and error. */
export const notificationAttempts = pgTable(
  "notification_attempts",
  {
    id: bigserial("id", { mode: "number" }).primaryKey(),
    deliveryId: uuid("delivery_id")
      .notNull()
      .references(() => notificationDeliveries.id, { onDelete: "cascade" }),
    attempt: integer("attempt").notNull(),
    /** `sent`, `failed` (retried later), `dead` (no attempts left) or `cancelled` (not sent: `error` says why). */
    outcome: text("outcome", { enum: ["sent", "failed", "dead", "cancelled"] }).notNull(),
    error: text("error"),
    durationMs: integer("duration_ms").notNull(),
    instanceId: text("instance_id"),
    createdAt: createdAt(),
  },
  (t) => [index("notification_attempts_delivery_idx").on(t.deliveryId, t.attempt)],
);

export type NotificationDeliveryRow = typeof notificationDeliveries.$inferSelect;
