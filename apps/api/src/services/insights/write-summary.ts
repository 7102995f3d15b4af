import { AppError } from "@raptscallions/core";
import { type DbOrTx, extractions, sessions } from "@raptscallions/db";
import { SUMMARY_SYSTEM_PROMPT } from "@raptscallions/gateway";
import { and, eq, sql } from "drizzle-orm";
import { sessionGenerationScope } from "../../lib/ai-service.ts";
import type { ExtractionRow } from "../alerts/dto.ts";
import type { ServiceContext, Principal } from "../context.ts";
import { classRoom, publishBestEffort } from "../rooms.ts";
import { type SummaryData, summaryData, toSummaryDto } from "./summary-dto.ts";
import { loadSummaryInput, type SummarySession } from "./summary-input.ts";

/** Longest summary the model may write; a few lines fit well within it. */
const SUMMARY_MAX_TOKENS = 300;
// Waits before the next attempt after a failure (the last one repeats).
const BACKOFF_MS = [10_000, 60_000, 300_000, 900_000];

type WriteContext = Pick<ServiceContext<Principal | null>, "db" | "ai" | "bus" | "logger" | "clock">;

/** What one attempt ended in: the row as it now stands. */
export interface SummaryAttempt {
  row: ExtractionRow;
  /** The error that ended this attempt, when it was not written. */
  error: unknown;
}

/**
 * Writes one pending summary: builds the redacted request, calls the gateway with the group's
 * model (the same resolution, limits, budgets and usage row as a chat turn: `ctx.ai`), and stores
 * the outcome on the row. A refusal by the budget (or no usable model) is final (`refused`); a
 * rate limit or a gateway failure is retried with backoff until `maxAttempts`, then `refused` or
 * `failed`. Final outcomes are published to the class room. Never throws for the call's failure:
 * the row says what happened.
 */
export async function writeSummary(ctx: WriteContext, row: ExtractionRow, opts: { maxAttempts: number; signal?: AbortSignal }): Promise<SummaryAttempt> {
  const data = summaryData(row);
  const session = await loadSession(ctx.db, row.sessionId);
  if (!session) {
    // The session's rows cascade with it; a summary row without one can only be mid-delete.
    return { row, error: new AppError("NOT_FOUND", "Session not found") };
  }
  const attempts = data.attempts + 1;
  const now = ctx.clock.now();
  try {
    const input = await loadSummaryInput(ctx.db, ctx.logger, session, data.upToSeq, now);
    const generated = await generate(ctx, session, input.prompt, data.requestedBy ?? session.studentId, opts.signal);
    const written = await update(ctx.db, row.id, {
      ...data,
      state: "ready",
      attempts,
      nextAttemptAt: undefined,
      error: undefined,
      text: generated.text,
      model: generated.model,
      usage: generated.usage,
      input: { turns: input.turns, omittedTurns: input.facts.omittedTurns, struggle: input.facts.struggle?.level ?? "none", alerts: input.facts.alerts.length },
      generatedAt: ctx.clock.now().toISOString(),
    });
    if (written) await publishSummary(ctx, written, session);
    return { row: written ?? row, error: null };
  } catch (err) {
    const next = afterFailure(err, attempts, opts.maxAttempts, now);
    if (next.state === "failed" && !(err instanceof AppError)) ctx.logger.error("session summary failed", { summaryId: row.id, sessionId: session.id, err });
    else ctx.logger.warn("session summary not written", { summaryId: row.id, sessionId: session.id, state: next.state, code: next.error.code });
    const written = await update(ctx.db, row.id, { ...data, ...next, attempts });
    if (written && next.state !== "pending") await publishSummary(ctx, written, session);
    return { row: written ?? row, error: err };
  }
}

/** The gateway call: the group's model (no tool model), the summary instructions, one user turn. */
async function generate(ctx: WriteContext, session: SummarySession & { assignmentId: string | null }, prompt: string, userId: string, signal?: AbortSignal) {
  const generation = await ctx.ai.start({
    scope: sessionGenerationScope(session, { userId, messageId: null }),
    definition: { systemPrompt: SUMMARY_SYSTEM_PROMPT, maxOutputTokens: SUMMARY_MAX_TOKENS, temperature: 0.2 },
    messages: [{ role: "user", content: prompt }],
    signal: signal ?? new AbortController().signal,
  });
  let text = "";
  try {
    for await (const ev of generation.events) if (ev.type === "delta") text += ev.text;
  } catch (err) {
    await generation.finish("failed", text);
    throw err;
  }
  const result = await generation.finish("complete", text);
  if (text.trim() === "") throw new AppError("UPSTREAM_ERROR", "The model returned an empty summary");
  return { text: text.trim(), model: result.model, usage: { inputTokens: result.inputTokens, outputTokens: result.outputTokens, costUsd: result.costUsd } };
}

/** The row's next state after a failed attempt. */
function afterFailure(
  err: unknown,
  attempts: number,
  maxAttempts: number,
  now: Date,
): { state: SummaryData["state"]; error: { code: string; message: string }; nextAttemptAt: string | undefined } {
  const code = err instanceof AppError ? err.code : "INTERNAL";
  const message = err instanceof AppError ? err.message : "The summary could not be written";
  const error = { code, message };
  // Nothing changes this month (budget) or until an admin acts (model): asking again would not help.
  if (code === "BUDGET_EXCEEDED" || code === "MODEL_UNAVAILABLE") return { state: "refused", error, nextAttemptAt: undefined };
  const limited = code === "RATE_LIMITED" || code === "LIMIT_EXCEEDED";
  if (attempts >= maxAttempts) return { state: limited ? "refused" : "failed", error, nextAttemptAt: undefined };
  const retryAfterMs = err instanceof AppError && err.retryAfterSeconds ? err.retryAfterSeconds * 1000 : 0;
  const backoff = BACKOFF_MS[Math.min(attempts - 1, BACKOFF_MS.length - 1)] ?? 60_000;
  return { state: "pending", error, nextAttemptAt: new Date(now.getTime() + Math.max(backoff, retryAfterMs)).toISOString() };
}

/** Writes the row's new data, only while it is still pending (a final state is never overwritten). */
async function update(db: DbOrTx, id: string, data: SummaryData): Promise<ExtractionRow | null> {
  const clean = JSON.parse(JSON.stringify(data)) as Record<string, unknown>;
  const [row] = await db
    .update(extractions)
    .set({ data: clean })
    .where(and(eq(extractions.id, id), sql`${extractions.data}->>'state' = 'pending'`))
    .returning();
  return row ?? null;
}

async function loadSession(db: DbOrTx, sessionId: string | null) {
  if (!sessionId) return null;
  const [row] = await db
    .select({
      id: sessions.id,
      studentId: sessions.studentId,
      classId: sessions.classId,
      groupId: sessions.groupId,
      toolId: sessions.toolId,
      toolVersion: sessions.toolVersion,
      assignmentId: sessions.assignmentId,
    })
    .from(sessions)
    .where(eq(sessions.id, sessionId));
  return row ?? null;
}

/** Teachers of the class hear of it live; never the session room (the student watches it). */
async function publishSummary(ctx: WriteContext, row: ExtractionRow, session: SummarySession) {
  if (!session.classId) return;
  await publishBestEffort(ctx.bus, ctx.logger, classRoom(session.classId), "summary", { summary: toSummaryDto(row, session.studentId) });
}
