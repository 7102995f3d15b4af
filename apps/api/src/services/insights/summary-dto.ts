import type { SessionSummaryDto, SummaryKind, SummaryState } from "@raptscallions/core";
import type { ExtractionRow } from "../alerts/dto.ts";
import { iso } from "../query-helpers.ts";

/** The `extractions.module` of session summaries. */
export const SUMMARY_MODULE = "summary";

/** What a summary row keeps in `extractions.data`. */
export interface SummaryData {
  state: SummaryState;
  upToSeq: number;
  attempts: number;
  /** When the job may (next) take it: a retry's backoff, or a claim's lease. */
  nextAttemptAt?: string;
  /** The teacher who asked for an on-demand summary (their per-user limits apply). */
  requestedBy?: string;
  text?: string;
  model?: string;
  usage?: { inputTokens: number; outputTokens: number; costUsd: number };
  /** Sizes of what the model was given (never its text). */
  input?: { turns: number; omittedTurns: number; struggle: string; alerts: number };
  error?: { code: string; message: string };
  generatedAt?: string;
}

const STATES: readonly SummaryState[] = ["pending", "ready", "refused", "failed"];

/** Reads a row's data defensively: it is JSON the database hands back. */
export function summaryData(row: Pick<ExtractionRow, "data">): SummaryData {
  const d = row.data;
  const num = (v: unknown) => (typeof v === "number" && Number.isFinite(v) ? v : 0);
  const str = (v: unknown) => (typeof v === "string" ? v : undefined);
  const usage = d.usage && typeof d.usage === "object" ? (d.usage as Record<string, unknown>) : null;
  const error = d.error && typeof d.error === "object" ? (d.error as Record<string, unknown>) : null;
  return {
    state: STATES.includes(d.state as SummaryState) ? (d.state as SummaryState) : "failed",
    upToSeq: num(d.upToSeq),
    attempts: num(d.attempts),
    nextAttemptAt: str(d.nextAttemptAt),
    requestedBy: str(d.requestedBy),
    text: str(d.text),
    model: str(d.model),
    usage: usage ? { inputTokens: num(usage.inputTokens), outputTokens: num(usage.outputTokens), costUsd: num(usage.costUsd) } : undefined,
    error: error ? { code: str(error.code) ?? "INTERNAL", message: str(error.message) ?? "" } : undefined,
    generatedAt: str(d.generatedAt),
  };
}

export function toSummaryDto(row: ExtractionRow, studentId: string): SessionSummaryDto {
  const data = summaryData(row);
  return {
    id: row.id,
    // Summary rows are always written with their session.
    sessionId: row.sessionId ?? "",
    classId: row.classId,
    studentId,
    kind: (row.kind === "on-demand" ? "on-demand" : "session-end") satisfies SummaryKind,
    state: data.state,
    text: data.state === "ready" ? (data.text ?? "") : null,
    model: data.state === "ready" ? (data.model ?? null) : null,
    usage: data.state === "ready" ? (data.usage ?? null) : null,
    upToSeq: data.upToSeq,
    attempts: data.attempts,
    error: data.state === "refused" || data.state === "failed" ? (data.error ?? null) : null,
    createdAt: iso(row.createdAt),
    generatedAt: data.generatedAt ?? null,
  };
}
