import { z } from "zod";
import { isoDateTime } from "./common.ts";

/** One attempt to deliver a notification: when, how it ended, why it failed. */
export const notificationAttemptSchema = z.object({
  attempt: z.number().int(),
  outcome: z.enum(["sent", "failed", "dead", "cancelled"]),
  error: z.string().nullable(),
  durationMs: z.number().int(),
  at: isoDateTime,
});

/**
 * One outbox row of an alert: a recipient on a channel, for the alert itself (step 0) or an
 * escalation step. `dead` means every attempt failed; `cancelled`, that it was not sent because it
 * was no longer wanted (an escalation step after an acknowledgement); `lastError` says why.
 * Secrets never appear.
 */
export const notificationDeliverySchema = z.object({
  id: z.uuid(),
  alertId: z.uuid().nullable(),
  purpose: z.enum(["alert", "escalation", "digest"]),
  step: z.number().int(),
  channel: z.enum(["email", "webhook"]),
  recipient: z.string(),
  status: z.enum(["pending", "sending", "sent", "dead", "cancelled"]),
  attempts: z.number().int(),
  nextAttemptAt: isoDateTime,
  lastError: z.string().nullable(),
  sentAt: isoDateTime.nullable(),
  createdAt: isoDateTime,
  log: z.array(notificationAttemptSchema),
});
export type NotificationDeliveryDto = z.infer<typeof notificationDeliverySchema>;

export const alertDeliveriesSchema = z.object({ items: z.array(notificationDeliverySchema) });
export type AlertDeliveriesDto = z.infer<typeof alertDeliveriesSchema>;

/** A mail kept by the embedded dev outbox (no SMTP_URL): nothing was sent. */
export const devOutboxMailSchema = z.object({
  messageId: z.string(),
  deliveryId: z.string(),
  from: z.string(),
  to: z.string(),
  subject: z.string(),
  text: z.string(),
  sentAt: isoDateTime,
});
export const devOutboxSchema = z.object({ items: z.array(devOutboxMailSchema) });
export type DevOutboxDto = z.infer<typeof devOutboxSchema>;
