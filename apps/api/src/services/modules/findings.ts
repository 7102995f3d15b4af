import type { Bus } from "@raptscallions/bus";
import { type DbOrTx, extractions } from "@raptscallions/db";
import { getTableColumns } from "drizzle-orm";
import { type Finding, STRUGGLE_DETECTOR_ID } from "@raptscallions/modules";
import type { Logger } from "../../lib/logger.ts";
import { type ExtractionRow, toAlertDto } from "../alerts/dto.ts";
import { enqueueAlertNotifications } from "../notifications/enqueue.ts";
import { wakeDispatchers } from "../notifications/wake.ts";
import { classRoom, publishBestEffort } from "../rooms.ts";

/** What a finding is about: a session (and message, when known), or a product tool's run. */
export interface FindingTarget {
  sessionId: string | null;
  runId?: string | null;
  classId: string | null;
  groupId: string;
  studentId: string;
  messageId: string | null;
}

/**
 * Stores every finding as an `extractions` row — alerts and quiet ones alike (a redaction count
 * is part of the record) — and, in the same transaction, the notification outbox rows of the
 * alerts among them: an alert exists iff its notifications are queued. Pass the message's own
 * transaction so findings exist iff it does.
 */
export async function persistFindings(db: DbOrTx, target: FindingTarget, findings: Finding[], now: Date): Promise<ExtractionRow[]> {
  if (findings.length === 0) return [];
  if (!findings.some((f) => f.isAlert)) return insertFindings(db, target, findings, now);
  return db.transaction(async (tx) => {
    const rows = await insertFindings(tx, target, findings, now);
    await enqueueAlertNotifications(tx, rows, target.studentId, now);
    return rows;
  });
}

/**
 * One finding's `extractions` values as the turn's own store statement inserts them (it adds the
 * session, the stored message's id and the time). Only quiet findings go that way: an alert's
 * outbox rows are written by `persistFindings`, in the message's transaction.
 */
export interface InlineFinding {
  class_id: string | null;
  group_id: string;
  module: string;
  kind: string;
  severity: string;
  data: Record<string, unknown>;
  created_at: string;
}

/** The findings as values for the store statement, or null when one is an alert (the transaction path). */
export function inlineFindingValues(target: Pick<FindingTarget, "classId" | "groupId">, findings: Finding[], now: Date): InlineFinding[] | null {
  if (findings.some((f) => f.isAlert)) return null;
  return findings.map((f) => ({
    class_id: target.classId,
    group_id: target.groupId,
    module: f.module,
    kind: f.kind,
    severity: f.severity,
    data: { ...f.data, message: f.message },
    created_at: now.toISOString(),
  }));
}

const extractionColumns = Object.entries(getTableColumns(extractions));

/**
 * Extraction rows a statement returned as JSON (`json_agg` of the inserted rows: column names as
 * keys, timestamps as text), decoded by each column's own driver mapping, as a `returning()` would.
 */
export function extractionRowsFromJson(json: unknown): ExtractionRow[] {
  const list: unknown = typeof json === "string" ? JSON.parse(json) : json;
  if (!Array.isArray(list)) throw new Error("extraction rows are not a JSON array");
  return list.map((raw: Record<string, unknown>) => {
    const row: Record<string, unknown> = {};
    for (const [key, column] of extractionColumns) {
      const value = raw[column.name];
      row[key] = value === null || value === undefined ? null : column.mapFromDriverValue(value);
    }
    return row as ExtractionRow;
  });
}

function insertFindings(db: DbOrTx, target: FindingTarget, findings: Finding[], now: Date): Promise<ExtractionRow[]> {
  return db
    .insert(extractions)
    .values(
      findings.map((f) => ({
        sessionId: target.sessionId,
        runId: target.runId ?? null,
        messageId: target.messageId,
        classId: target.classId,
        groupId: target.groupId,
        module: f.module,
        kind: f.kind,
        severity: f.severity,
        isAlert: f.isAlert,
        // The table has no column for the teacher-facing sentence; it rides in data (never raw text).
        data: { ...f.data, message: f.message },
        createdAt: now,
      })),
    )
    .returning();
}

/**
 * Call after the findings' transaction committed. First wakes every instance's notification
 * dispatcher when an alert was stored (its outbox rows committed with it), so mail and webhooks
 * leave now rather than at the next poll. Then tells the class's teachers, live and across
 * instances: struggle transitions as `struggle` events, every other alert as an `alert` event
 * carrying the alert as REST returns it. Alerts are never published to the session room: the
 * student watches that room too. Sessions outside a class have no live audience; their alerts
 * wait in `GET /api/alerts` for the group's admins.
 */
export async function publishFindings(bus: Bus, logger: Logger, target: FindingTarget, rows: ExtractionRow[]): Promise<void> {
  if (rows.some((r) => r.isAlert)) await wakeDispatchers(bus, logger);
  for (const row of rows) {
    const dto = toAlertDto(row, target.studentId);
    if (dto.escalate) {
      // Operators see escalations in the logs too; the rows are the durable record.
      logger.warn("safety escalation", { alertId: row.id, sessionId: target.sessionId, runId: target.runId, severity: row.severity, escalateTo: dto.escalateTo });
    }
    if (!target.classId) continue;
    const room = classRoom(target.classId);
    if (row.module === STRUGGLE_DETECTOR_ID) {
      // Struggle is a trend across a session's turns; a run has none to show.
      if (!target.sessionId) continue;
      const level = row.data.level;
      await publishBestEffort(bus, logger, room, "struggle", {
        sessionId: target.sessionId,
        studentId: target.studentId,
        findingId: row.id,
        level: level === "mild" || level === "struggling" ? level : "none",
        score: typeof row.data.score === "number" ? row.data.score : 0,
        isAlert: row.isAlert,
        message: dto.message,
      });
    } else if (row.isAlert) {
      await publishBestEffort(bus, logger, room, "alert", { alert: dto });
    }
  }
}
