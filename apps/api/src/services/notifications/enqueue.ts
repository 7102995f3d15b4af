import type { DbOrTx } from "@raptscallions/db";
import { notificationDeliveries } from "@raptscallions/db";
import type { Logger } from "../../lib/logger.ts";
import { type ExtractionRow, escalateToOf } from "../alerts/dto.ts";
import { type Audience, atLeast, loadNotificationConfig, type NotificationConfig, type Severity } from "../groups/notification-config.ts";
import { releaseAfterQuietHours } from "./local-time.ts";
import { resolveAudiences } from "./recipients.ts";

type DeliveryInsert = typeof notificationDeliveries.$inferInsert;

/** What a notification about an alert says: ids, category and severity; never the chat text. */
export function alertPayload(row: ExtractionRow, studentId: string | null): Record<string, unknown> {
  const category = typeof row.data.category === "string" ? row.data.category : row.kind;
  return {
    alertId: row.id,
    sessionId: row.sessionId,
    runId: row.runId,
    messageId: row.messageId,
    classId: row.classId,
    groupId: row.groupId,
    studentId,
    module: row.module,
    kind: row.kind,
    category,
    severity: row.severity,
    summary: typeof row.data.message === "string" ? row.data.message : "",
    createdAt: row.createdAt.toISOString(),
  };
}

/**
 * The outbox rows for one alert at one step: emails to the step's audiences (step 0: the group's
 * `email.to`; later steps: `escalation.steps[step - 1]`) and, at step 0, the group's webhooks.
 * Non-critical alerts wait out quiet hours. Inserting is idempotent per (step, channel, recipient).
 */
export async function enqueueAlertStep(
  db: DbOrTx,
  input: { row: ExtractionRow; studentId: string | null; step: number; now: Date; config?: NotificationConfig; logger?: Logger },
): Promise<number> {
  const { row, step, now } = input;
  if (!row.groupId) return 0;
  const config = input.config ?? (await loadNotificationConfig(db, row.groupId, input.logger));
  const severity = row.severity as Severity;
  let audiences: readonly Audience[] = [];
  if (step === 0) {
    if (config.email.enabled && atLeast(severity, config.email.minSeverity)) audiences = config.email.to;
  } else {
    audiences = config.escalation?.steps[step - 1] ?? [];
  }
  const dueAt = severity === "critical" ? now : releaseAfterQuietHours(now, config.timeZone, config.quietHours);
  const payload = { ...alertPayload(row, input.studentId), step };
  const base = {
    alertId: row.id,
    groupId: row.groupId,
    purpose: step === 0 ? ("alert" as const) : ("escalation" as const),
    step,
    dedupeKey: `alert:${row.id}:${step}`,
    payload,
    nextAttemptAt: dueAt,
    createdAt: now,
  };
  const values: DeliveryInsert[] = [];
  if (audiences.length > 0) {
    const recipients = await resolveAudiences(db, { audiences, classId: row.classId, escalateTo: escalateToOf(row), config });
    for (const r of recipients) values.push({ ...base, channel: "email", recipient: r.email, recipientUserId: r.userId });
  }
  if (step === 0) {
    for (const hook of config.webhooks) {
      if (atLeast(severity, hook.minSeverity)) values.push({ ...base, channel: "webhook", recipient: hook.url, signingSecret: hook.secret });
    }
  }
  if (values.length === 0) return 0;
  const inserted = await db.insert(notificationDeliveries).values(values).onConflictDoNothing().returning({ id: notificationDeliveries.id });
  return inserted.length;
}

/** Step 0 for every alert among freshly stored findings; call it in the findings' own transaction. */
export async function enqueueAlertNotifications(db: DbOrTx, rows: ExtractionRow[], studentId: string | null, now: Date): Promise<void> {
  const alerts = rows.filter((r) => r.isAlert && r.groupId);
  if (alerts.length === 0) return;
  const configs = new Map<string, NotificationConfig>();
  for (const row of alerts) {
    const groupId = row.groupId as string;
    let config = configs.get(groupId);
    if (!config) {
      config = await loadNotificationConfig(db, groupId);
      configs.set(groupId, config);
    }
    await enqueueAlertStep(db, { row, studentId, step: 0, now, config });
  }
}
