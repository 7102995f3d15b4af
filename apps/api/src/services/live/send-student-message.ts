import { AppError, ConflictError, type MessageDto } from "@raptscallions/core";
import { type DbOrTx, messages } from "@raptscallions/db";
import { assertAllowed, policy } from "../../access/policy.ts";
import { isUniqueViolation } from "../query-helpers.ts";
import { toMessageDto } from "../sessions/dto.ts";
import { lockAndClaimSeqs } from "../sessions/seq.ts";
import { loadVisibleSessionForSend } from "../sessions/load.ts";
import {
  assertCanAnswer,
  assertOpen,
  findByClientId,
  gateTurn,
  type MessageRow,
  type SendResult,
  type SessionRow,
  startAnswer,
  streamingAnswerOf,
} from "./answer-turn.ts";
import type { ServiceContext } from "../context.ts";
import type { GateDecision, StudentMessageGate } from "../modules/hooks.ts";
import { withheldMeta } from "./conversation.ts";
import { retryFailedAnswer } from "./retry-failed-answer.ts";
import { classRoom, publishBestEffort, sessionRoom } from "../rooms.ts";

export interface SendStudentMessageInput {
  sessionId: string;
  clientMessageId: string;
  content: string;
}

const passThrough: StudentMessageGate = {
  async beforeGateway({ content }) {
    return { stored: content, sent: content, blockedReply: null, meta: {} };
  },
};

/**
 * The chat turn (docs/protocol.md, README "The live path"): the student message is stored first
 * (idempotent on the client message id), passes the modules, then the gateway streams the answer
 * on this instance's runner — which outlives the socket. One answer at a time per session is held
 * by a partial unique index, not by a check-then-act race.
 */
export async function sendStudentMessage({
  ctx,
  input,
  gate = passThrough,
}: {
  ctx: ServiceContext;
  input: SendStudentMessageInput;
  gate?: StudentMessageGate;
}): Promise<SendResult> {
  const { session, existingMessageId } = await loadVisibleSessionForSend(ctx.db, ctx.actor, input.sessionId, input.clientMessageId);
  assertAllowed(policy.canSendAsStudent(ctx.actor, session.ref), "Only the session's student can send messages");

  const existing = existingMessageId ? await findByClientId(ctx, input.sessionId, input.clientMessageId) : null;
  if (existing) {
    if (existing.answer?.state !== "failed") return existing;
    return retryFailedAnswer({ ctx, session, existing, gate });
  }

  const { definition, gated } = await gateTurn(ctx, gate, session, input.content);
  const blocked = gated.blockedReply !== null;
  // A turn that would need the gateway is refused before anything is stored when this instance
  // already knows it cannot be admitted (shutting down, limit store unreachable): a clean 503
  // the client retries with the same clientMessageId.
  if (!blocked) assertCanAnswer(ctx);

  const stored = await storeTurn(ctx, session, input, gated);
  if (stored.raced) return stored.raced;
  const userDto = toMessageDto(stored.rows.user);
  const answerDto = toMessageDto(stored.rows.answer);
  // Alerts first: a crisis message's notifications leave and its teachers hear of it before the
  // message itself is announced.
  await gated.notify?.();
  await announceStudentMessage(ctx, session, userDto);

  if (blocked) {
    await publishBestEffort(ctx.bus, ctx.logger, sessionRoom(session.id), "message.completed", { message: answerDto });
  } else {
    await startAnswer(ctx, { session, definition, answer: stored.rows.answer, gated });
  }
  return { message: userDto, answer: answerDto, duplicate: false, retried: false };
}

type TurnRows = { user: MessageRow; answer: MessageRow };

/**
 * Stores the student's message and its answer row in one transaction: the answer streams, or
 * (a turn the modules withheld) is already the complete reply. A concurrent send of the same
 * clientMessageId that won the race is returned as `raced`.
 */
async function storeTurn(
  ctx: ServiceContext,
  session: SessionRow,
  input: SendStudentMessageInput,
  gated: GateDecision,
): Promise<{ rows: TurnRows; raced?: undefined } | { raced: SendResult; rows?: undefined }> {
  try {
    const rows = await ctx.db.transaction(async (tx) => {
      // Locking the session row serialises seq allocation and re-checks state under the lock.
      const { seq, state } = await lockAndClaimSeqs(tx, session.id, 2);
      assertOpen(state);
      // One streaming answer per session is the partial unique index's to enforce (the insert
      // below fails on it). A turn the modules block stores a complete reply, so it is never
      // refused as busy: a student in crisis is answered and their teachers alerted even while
      // another answer streams.
      const created = await insertTurnRows(tx, ctx, { sessionId: session.id, seq, clientMessageId: input.clientMessageId, gated });
      await gated.persist?.(tx, { messageId: created.user.id, answerId: created.answer.id });
      return created;
    });
    return { rows };
  } catch (err) {
    if (isUniqueViolation(err, "messages_session_client_id_key")) {
      const again = await findByClientId(ctx, input.sessionId, input.clientMessageId);
      if (again) return { raced: again };
    }
    if (isUniqueViolation(err, "messages_one_streaming_key")) {
      const streaming = await streamingAnswerOf(ctx.db, session.id);
      throw new ConflictError("An answer is still streaming in this session", streaming ? { messageId: streaming } : undefined, "SESSION_BUSY");
    }
    throw err;
  }
}

async function insertTurnRows(
  tx: DbOrTx,
  ctx: ServiceContext,
  turn: { sessionId: string; seq: number; clientMessageId: string; gated: GateDecision },
): Promise<TurnRows> {
  const { gated } = turn;
  const blocked = gated.blockedReply !== null;
  const now = ctx.clock.now();
  // Both rows in one statement: one round trip, and the pair exists or neither does.
  const rows = await tx
    .insert(messages)
    .values([
      {
        sessionId: turn.sessionId,
        seq: turn.seq,
        role: "user",
        authorId: ctx.actor.userId,
        content: gated.stored,
        clientMessageId: turn.clientMessageId,
        meta: blocked ? withheldMeta(gated.meta) : gated.meta,
        createdAt: now,
      },
      {
        sessionId: turn.sessionId,
        seq: turn.seq + 1,
        role: "assistant",
        content: blocked ? (gated.blockedReply ?? "") : "",
        state: blocked ? "complete" : "streaming",
        streamOwner: blocked ? null : ctx.instanceId,
        heartbeatAt: now,
        finalizedAt: blocked ? now : null,
        meta: blocked ? { flags: gated.replyFlags ?? ["blocked"], model: "modules" } : {},
        createdAt: now,
      },
    ])
    .returning();
  const user = rows.find((r) => r.seq === turn.seq);
  const answer = rows.find((r) => r.seq === turn.seq + 1);
  if (!user || !answer) throw new AppError("INTERNAL", "insert returned nothing");
  return { user, answer };
}

/** The stored message to the session room, and a short summary to the class room. */
async function announceStudentMessage(ctx: ServiceContext, session: SessionRow, message: MessageDto): Promise<void> {
  await publishBestEffort(ctx.bus, ctx.logger, sessionRoom(session.id), "message.created", { message });
  if (session.classId) {
    await publishBestEffort(ctx.bus, ctx.logger, classRoom(session.classId), "message.created", {
      sessionId: session.id,
      messageId: message.id,
      role: "user",
      studentId: session.studentId,
      preview: message.content.slice(0, 280),
    });
  }
}
