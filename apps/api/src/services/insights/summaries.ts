import { AppError, ConflictError, type SessionSummaryDto } from "@raptscallions/core";
import { extractions } from "@raptscallions/db";
import { and, desc, eq, sql } from "drizzle-orm";
import { assertAllowed, policy } from "../../access/policy.ts";
import type { ServiceContext } from "../context.ts";
import { type LoadedSession, loadVisibleSession } from "../sessions/load.ts";
import { SUMMARY_MODULE, type SummaryData, summaryData, toSummaryDto } from "./summary-dto.ts";
import { writeSummary } from "./write-summary.ts";

/** Summaries are for the people who steer the session: its class's teachers and admins over it. */
async function loadSteerableSession(ctx: ServiceContext, sessionId: string): Promise<LoadedSession> {
  const session = await loadVisibleSession(ctx.db, ctx.actor, sessionId);
  assertAllowed(policy.canSteerSession(ctx.actor, session.ref), "Session summaries are for the class's teachers and admins");
  return session;
}

/** `GET /api/sessions/:id/summaries`: every summary of the session, newest first. */
export async function listSessionSummaries({ ctx, input }: { ctx: ServiceContext; input: { sessionId: string } }): Promise<{ items: SessionSummaryDto[] }> {
  const session = await loadSteerableSession(ctx, input.sessionId);
  const rows = await ctx.db
    .select()
    .from(extractions)
    .where(and(eq(extractions.sessionId, session.id), eq(extractions.module, SUMMARY_MODULE)))
    .orderBy(desc(extractions.createdAt), desc(extractions.id))
    .limit(50);
  return { items: rows.map((r) => toSummaryDto(r, session.studentId)) };
}

/**
 * `POST /api/sessions/:id/summaries`: a summary of a live session now, written in the request
 * (one attempt, charged to the session's group and the asking teacher's own limits). Asking again
 * before anything new was said returns the summary already written (`created: false`). A refusal
 * by limits or budget, or a gateway failure, is answered with its error and recorded on the row.
 * An ended session has its end-of-session summary instead (409 `SESSION_ENDED`).
 */
export async function requestSessionSummary({
  ctx,
  input,
}: {
  ctx: ServiceContext;
  input: { sessionId: string };
}): Promise<{ summary: SessionSummaryDto; created: boolean }> {
  const session = await loadSteerableSession(ctx, input.sessionId);
  if (session.state === "completed") {
    throw new ConflictError("This session has ended: its end-of-session summary is written automatically", undefined, "SESSION_ENDED");
  }
  const [existing] = await ctx.db
    .select()
    .from(extractions)
    .where(
      and(
        eq(extractions.sessionId, session.id),
        eq(extractions.module, SUMMARY_MODULE),
        eq(extractions.kind, "on-demand"),
        sql`${extractions.data}->>'state' = 'ready'`,
        sql`(${extractions.data}->>'upToSeq')::int = ${session.lastSeq}`,
      ),
    )
    .orderBy(desc(extractions.createdAt))
    .limit(1);
  if (existing) return { summary: toSummaryDto(existing, session.studentId), created: false };

  const data: SummaryData = { state: "pending", upToSeq: session.lastSeq, attempts: 0, requestedBy: ctx.actor.userId, nextAttemptAt: orphanedAfter(ctx.clock.now()) };
  const [row] = await ctx.db
    .insert(extractions)
    .values({
      sessionId: session.id,
      classId: session.classId,
      groupId: session.groupId,
      module: SUMMARY_MODULE,
      kind: "on-demand",
      severity: "info",
      isAlert: false,
      data: { ...data },
      createdAt: ctx.clock.now(),
    })
    .returning();
  if (!row) throw new AppError("INTERNAL", "insert returned nothing");
  const { row: written, error } = await writeSummary(ctx, row, { maxAttempts: 1 });
  if (summaryData(written).state !== "ready") {
    if (error instanceof AppError) throw error;
    throw new AppError("UPSTREAM_ERROR", "The summary could not be written");
  }
  return { summary: toSummaryDto(written, session.studentId), created: true };
}

// The request writes its own row; only if it died on the way does the job pick the row up, later.
function orphanedAfter(now: Date): string {
  return new Date(now.getTime() + 120_000).toISOString();
}
