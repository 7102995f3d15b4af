import { type Db, messages, sessions } from "@raptscallions/db";
import { estimateTokens } from "@raptscallions/gateway";
import { and, eq, lt, sql } from "drizzle-orm";
import { reservationSubject } from "../../lib/ai-service.ts";
import { sessionRoom } from "../rooms.ts";
import { publishAnswerFinalised } from "./answer-events.ts";
import { deltaReader, type InterruptedUsage, type OrphanKind, recordInterruptedCall } from "./orphan-kind.ts";

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
  async finalise(deps, orphan, content, cutoff) {
    const { db, bus, clock, logger } = deps;
    const [row] = await db
      .update(messages)
      .set({ state: "interrupted", content, finalizedAt: clock.now(), streamOwner: null })
      .where(and(eq(messages.id, orphan.id), eq(messages.state, "streaming"), lt(messages.heartbeatAt, cutoff), eq(messages.content, orphan.content)))
      .returning();
    if (!row) return false;
    logger.warn("finalised an interrupted answer", { messageId: row.id, sessionId: row.sessionId });
    const [session] = await db.select().from(sessions).where(eq(sessions.id, row.sessionId));
    await publishAnswerFinalised(bus, logger, row, session?.classId ?? null);
    try {
      // The session is always there (the answer references it); without it nothing is known to settle to.
      if (session) await recordInterruptedCall(deps, reservationSubject({ messageId: row.id }), await interruptedUsage(db, row, session));
    } catch (err) {
      logger.warn("usage for interrupted answer failed", { messageId: row.id, err });
    }
    return true;
  },
};

/**
 * What the answer consumed, estimated from the text the row holds and the conversation before it;
 * null when no model was recorded (it never started streaming, so nothing was billed).
 */
async function interruptedUsage(db: Db, row: typeof messages.$inferSelect, session: typeof sessions.$inferSelect): Promise<InterruptedUsage | null> {
  const model = typeof row.meta.model === "string" ? row.meta.model : null;
  if (!model) return null;
  const [prior] = await db
    .select({ chars: sql<number>`coalesce(sum(length(${messages.content})), 0)::int` })
    .from(messages)
    .where(and(eq(messages.sessionId, row.sessionId), lt(messages.seq, row.seq)));
  return {
    scope: {
      userId: session.studentId,
      groupId: session.groupId,
      classId: session.classId,
      toolId: session.toolId,
      sessionId: session.id,
      assignmentId: session.assignmentId,
      messageId: row.id,
    },
    model,
    inputTokens: Math.ceil(Number(prior?.chars ?? 0) / 4),
    outputTokens: estimateTokens(row.content),
  };
}
