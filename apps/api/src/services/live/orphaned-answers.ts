import { type Db, messages, sessions } from "@raptscallions/db";
import { estimateTokens } from "@raptscallions/gateway";
import { and, eq, lt, sql } from "drizzle-orm";
import type { Logger } from "../../lib/logger.ts";
import { sessionRoom } from "../rooms.ts";
import { publishAnswerFinalised } from "./answer-events.ts";
import { deltaReader, insertEstimatedUsage, type OrphanKind } from "./orphan-kind.ts";

/** Chat answers (`messages` rows) a dead instance left `streaming`. */
export const orphanedAnswers: OrphanKind = {
  name: "answer",
  async stale(db, cutoff) {
    const rows = await db
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
    return rows.map((r) => ({ ...r, room: sessionRoom(r.sessionId) }));
  },
  deltaOf: deltaReader("message.delta", "messageId"),
  async finalise({ db, bus, clock, logger }, orphan, content, cutoff) {
    const [row] = await db
      .update(messages)
      .set({ state: "interrupted", content, finalizedAt: clock.now(), streamOwner: null })
      .where(and(eq(messages.id, orphan.id), eq(messages.state, "streaming"), lt(messages.heartbeatAt, cutoff), eq(messages.content, orphan.content)))
      .returning();
    if (!row) return false;
    logger.warn("finalised an interrupted answer", { messageId: row.id, sessionId: row.sessionId });
    const [session] = await db.select().from(sessions).where(eq(sessions.id, row.sessionId));
    await publishAnswerFinalised(bus, logger, row, session?.classId ?? null);
    if (session) await recordInterruptedUsage(db, logger, row, session).catch((err) => logger.warn("usage for interrupted answer failed", { err }));
    return true;
  },
};

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
  await insertEstimatedUsage(
    db,
    {
      userId: session.studentId,
      groupId: session.groupId,
      classId: session.classId,
      toolId: session.toolId,
      sessionId: session.id,
      assignmentId: session.assignmentId,
      messageId: row.id,
    },
    model,
    { inputTokens, outputTokens },
  );
  logger.info("recorded estimated usage for an interrupted answer", { messageId: row.id, model, inputTokens, outputTokens });
}
