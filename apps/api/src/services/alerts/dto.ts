import type { AlertDto } from "@raptscallions/core";
import { type extractions, runs, sessions } from "@raptscallions/db";
import { sql } from "drizzle-orm";
import { iso } from "../query-helpers.ts";

export type ExtractionRow = typeof extractions.$inferSelect;

/**
 * Who an alert is about: the session's student, or whoever started the run. Select it over
 * `extractions` left-joined to `sessions` and `runs` (on `extractions.session_id` and `extractions.run_id`).
 */
export const alertStudentIdSql = sql<string | null>`coalesce(${sessions.studentId}, ${runs.userId})`;

/** The user ids an alert's module named to escalate to (`data.escalateTo`), ignoring anything else stored there. */
export function escalateToOf(row: Pick<ExtractionRow, "data">): string[] {
  return Array.isArray(row.data.escalateTo) ? row.data.escalateTo.filter((v): v is string => typeof v === "string") : [];
}

/**
 * An extractions row as the API shows it. The teacher-facing `message` is stored inside `data`
 * (the table has no column for it) and lifted out here, as are the escalation fields.
 */
export function toAlertDto(row: ExtractionRow, studentId: string | null): AlertDto {
  const { message, ...data } = row.data;
  const escalateTo = escalateToOf(row);
  return {
    id: row.id,
    sessionId: row.sessionId,
    runId: row.runId,
    messageId: row.messageId,
    classId: row.classId,
    groupId: row.groupId,
    studentId,
    module: row.module,
    kind: row.kind,
    severity: row.severity,
    isAlert: row.isAlert,
    message: typeof message === "string" ? message : "",
    escalate: data.escalate === true,
    escalateTo,
    data,
    status: row.status,
    resolvedBy: row.resolvedBy,
    resolvedAt: iso(row.resolvedAt),
    createdAt: iso(row.createdAt),
  };
}
