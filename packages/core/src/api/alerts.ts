import { z } from "zod";
import { isoDateTime, pageQuerySchema } from "./common.ts";

/** Severity of a module finding, lowest first (matches `extractions.severity`). */
export const ALERT_SEVERITIES = ["info", "low", "medium", "high", "critical"] as const;
export type AlertSeverity = (typeof ALERT_SEVERITIES)[number];

/** An alert's review state: teachers acknowledge ("I'm on it") or dismiss ("not a concern"). */
export const ALERT_STATUSES = ["open", "acknowledged", "dismissed"] as const;
export type AlertStatus = (typeof ALERT_STATUSES)[number];

/**
 * A content module's finding as teachers and admins see it (an `extractions` row). `message` is
 * teacher-facing and never quotes the student; `data` holds the module's details (rule ids,
 * offsets, struggle reasons), never raw text.
 */
export const alertSchema = z.object({
  id: z.uuid(),
  /** What the alert is about: a chat session (and message), or a product tool's run. */
  sessionId: z.uuid().nullable(),
  runId: z.uuid().nullable(),
  messageId: z.uuid().nullable(),
  classId: z.uuid().nullable(),
  groupId: z.uuid().nullable(),
  studentId: z.uuid().nullable(),
  module: z.string(),
  kind: z.string(),
  severity: z.enum(ALERT_SEVERITIES),
  isAlert: z.boolean(),
  message: z.string(),
  /** True for safety findings at or above the block level: the admins in `escalateTo` must be told. */
  escalate: z.boolean(),
  escalateTo: z.array(z.string()),
  data: z.record(z.string(), z.unknown()),
  status: z.enum(ALERT_STATUSES),
  resolvedBy: z.uuid().nullable(),
  resolvedAt: isoDateTime.nullable(),
  createdAt: isoDateTime,
});
export type AlertDto = z.infer<typeof alertSchema>;

/**
 * `GET /api/alerts`: newest first, scoped to what the caller may review (teachers: their classes;
 * admins: their subtrees). Filters narrow further; a filter naming something the caller may not
 * review is a 404.
 */
export const listAlertsQuerySchema = pageQuerySchema.extend({
  classId: z.uuid().optional(),
  sessionId: z.uuid().optional(),
  /** A product tool run's alerts (its class's teachers, admins over its group). */
  runId: z.uuid().optional(),
  /** Admins: alerts of sessions in this group or below it. */
  groupId: z.uuid().optional(),
  status: z.enum(ALERT_STATUSES).optional(),
  /** Only alerts at or above this severity. */
  minSeverity: z.enum(ALERT_SEVERITIES).optional(),
});
export type ListAlertsQuery = z.infer<typeof listAlertsQuerySchema>;

/** Payload of a class room `alert` event: the alert as it now stands (new, or its status changed). */
export const alertEventPayloadSchema = z.object({ alert: alertSchema });

/** Payload of a class room `struggle` event: a student's struggle level changed. */
export const struggleEventPayloadSchema = z.object({
  sessionId: z.uuid(),
  studentId: z.uuid(),
  findingId: z.uuid(),
  level: z.enum(["none", "mild", "struggling"]),
  score: z.number(),
  isAlert: z.boolean(),
  message: z.string(),
});
