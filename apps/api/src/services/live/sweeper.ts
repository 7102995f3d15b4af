import type { Bus, ReplayResult } from "@raptscallions/bus";
import { aiModels, aiUsage, type Db, messages, sessions } from "@raptscallions/db";
import { costOf, estimateTokens, microsToUsd } from "@raptscallions/gateway";
import { and, eq, lt, sql } from "drizzle-orm";
import type { Clock } from "../../lib/clock.ts";
import type { Logger } from "../../lib/logger.ts";
import { sessionRoom } from "../rooms.ts";
import { publishAnswerFinalised } from "./answer-events.ts";

/**
 * Finalises answers left `streaming` by a dead instance: a row whose heartbeat is older than
 * `staleAfterMs` ends `interrupted`, and watchers are told. Its text is the last checkpoint
 * extended by the deltas the room's replay buffer still holds after it, so the stored answer
 * holds everything any watcher was shown (the dead instance may have published for up to a
 * checkpoint interval past its last write). Run as the `sweeper` job (one instance at a time);
 * the conditional update would still let only one of two overlapping sweeps finalise a row.
 */
export async function sweepInterruptedMessages(deps: { db: Db; bus: Bus; clock: Clock; logger: Logger; staleAfterMs: number }): Promise<number> {
  const { db, bus, clock, logger } = deps;
  const cutoff = new Date(clock.now().getTime() - deps.staleAfterMs);
  const stale = await db
    .select({
      id: messages.id,
      sessionId: messages.sessionId,
      content: messages.content,
      checkpointOffset: messages.checkpointOffset,
      checkpointEpoch: messages.checkpointEpoch,
    })
    .from(messages)
    .where(and(eq(messages.state, "streaming"), lt(messages.heartbeatAt, cutoff)))
    .limit(200);
  let finalised = 0;
  for (const candidate of stale) {
    const content = await textShown(bus, logger, candidate);
    const [row] = await db
      .update(messages)
      .set({ state: "interrupted", content, finalizedAt: clock.now(), streamOwner: null })
      // The checkpoint must still be the one the text was rebuilt from: a live owner that wrote
      // since then is not dead (its heartbeat moved too), and its own finalisation wins.
      .where(and(eq(messages.id, candidate.id), eq(messages.state, "streaming"), lt(messages.heartbeatAt, cutoff), eq(messages.content, candidate.content)))
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

/**
 * The checkpointed text plus every later delta of this answer still in the room's replay buffer,
 * applied by `charOffset` (a delta overlapping the text contributes only its new part; a gap ends
 * the rebuild). Without a checkpoint position, or when the buffer no longer reaches back to it,
 * the checkpoint alone is what can be proven.
 */
async function textShown(
  bus: Bus,
  logger: Logger,
  row: { id: string; sessionId: string; content: string; checkpointOffset: number | null; checkpointEpoch: string | null },
): Promise<string> {
  if (row.checkpointOffset === null || row.checkpointEpoch === null) return row.content;
  let replay: ReplayResult;
  try {
    replay = await bus.replay(sessionRoom(row.sessionId), row.checkpointOffset, row.checkpointEpoch);
  } catch (err) {
    logger.warn("replay for an interrupted answer failed; keeping its checkpoint", { messageId: row.id, err });
    return row.content;
  }
  if (replay.kind !== "events") return row.content;
  let text = row.content;
  for (const event of replay.events) {
    if (event.type !== "message.delta") continue;
    const delta = event.payload as { messageId?: unknown; charOffset?: unknown; text?: unknown };
    if (delta.messageId !== row.id || typeof delta.charOffset !== "number" || typeof delta.text !== "string") continue;
    if (delta.charOffset > text.length) break;
    text += delta.text.slice(text.length - delta.charOffset);
  }
  return text;
}

/**
 * The dead instance could not write its usage row: record one, estimated from the text the row
 * holds and the conversation before it, so reports still count what the provider produced.
 */
async function recordInterruptedUsage(db: Db, logger: Logger, row: typeof messages.$inferSelect, session: typeof sessions.$inferSelect): Promise<void> {
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
