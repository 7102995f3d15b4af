import type { Bus } from "@raptscallions/bus";
import { aiModels, aiUsage, type Db, messages, sessions } from "@raptscallions/db";
import { costOf, estimateTokens, microsToUsd } from "@raptscallions/gateway";
import { and, eq, lt, sql } from "drizzle-orm";
import type { Clock } from "../../lib/clock.ts";
import type { Logger } from "../../lib/logger.ts";
import { publishAnswerFinalised } from "./rooms.ts";

/**
 * Finalises answers left `streaming` by a dead instance: a row whose heartbeat is older than
 * `staleAfterMs` ends `interrupted` with the text of its last checkpoint, and watchers are told.
 * Every instance runs it; the conditional update lets exactly one of them finalise each row.
 */
export async function sweepInterruptedMessages(deps: {
  db: Db;
  bus: Bus;
  clock: Clock;
  logger: Logger;
  staleAfterMs: number;
}): Promise<number> {
  const { db, bus, clock, logger } = deps;
  const cutoff = new Date(clock.now().getTime() - deps.staleAfterMs);
  const stale = await db
    .select({ id: messages.id })
    .from(messages)
    .where(and(eq(messages.state, "streaming"), lt(messages.heartbeatAt, cutoff)))
    .limit(200);
  let finalised = 0;
  for (const { id } of stale) {
    const [row] = await db
      .update(messages)
      .set({ state: "interrupted", finalizedAt: clock.now(), streamOwner: null })
      .where(and(eq(messages.id, id), eq(messages.state, "streaming"), lt(messages.heartbeatAt, cutoff)))
      .returning();
    if (!row) continue;
    finalised += 1;
    logger.warn("finalised an interrupted answer", { messageId: row.id, sessionId: row.sessionId });
    const [session] = await db.select().from(sessions).where(eq(sessions.id, row.sessionId));
    await publishAnswerFinalised(bus, logger, row, session?.classId ?? null);
    if (session) await recordInterruptedUsage(db, logger, row, session).catch((err) => logger.warn("usage for interrupted answer failed", { err }));
  }
  return finalised;
}

/** Runs the sweep on an interval; returns a stop function. */
export function startSweeper(deps: Parameters<typeof sweepInterruptedMessages>[0] & { intervalMs: number }) {
  let running = false;
  const timer = setInterval(async () => {
    if (running) return;
    running = true;
    try {
      await sweepInterruptedMessages(deps);
    } catch (err) {
      deps.logger.warn("sweep failed", { err });
    } finally {
      running = false;
    }
  }, deps.intervalMs);
  return () => clearInterval(timer);
}

/**
 * The dead instance could not write its usage row: record one, estimated from the text the row
 * holds and the conversation before it, so reports still count what the provider produced.
 */
async function recordInterruptedUsage(
  db: Db,
  logger: Logger,
  row: typeof messages.$inferSelect,
  session: typeof sessions.$inferSelect,
): Promise<void> {
  const model = typeof row.meta.model === "string" ? row.meta.model : null;
  // No model recorded: the answer never started streaming, so nothing was billed.
  if (!model) return;
  const [prior] = await db
    .select({ chars: sql<number>`coalesce(sum(length(${messages.content})), 0)::int` })
    .from(messages)
    .where(and(eq(messages.sessionId, row.sessionId), lt(messages.seq, row.seq)));
  const inputTokens = Math.ceil(Number(prior?.chars ?? 0) / 4);
  const outputTokens = estimateTokens(row.content);
  const [price] = await db.select().from(aiModels).where(eq(aiModels.id, model));
  const costUsd = price ? microsToUsd(costOf({ inputTokens, outputTokens }, price)) : 0;
  await db.insert(aiUsage).values({
    userId: session.studentId,
    groupId: session.groupId,
    classId: session.classId,
    toolId: session.toolId,
    sessionId: session.id,
    assignmentId: session.assignmentId,
    messageId: row.id,
    model,
    inputTokens,
    outputTokens,
    costUsd,
    status: "interrupted",
    estimated: true,
  });
  logger.info("recorded estimated usage for an interrupted answer", { messageId: row.id, model, inputTokens, outputTokens });
}
