import { AppError, ConflictError, type MessageDto } from "@raptscallions/core";
import { messages } from "@raptscallions/db";
import { assertAllowed, policy } from "../../access/policy.ts";
import { isUniqueViolation } from "../query-helpers.ts";
import { toMessageDto } from "../sessions/dto.ts";
import { claimSeqs, lockSessionForAppend } from "../sessions/seq.ts";
import { loadVisibleSession } from "../sessions/load.ts";
import { assertCanAnswer, assertNotStreaming, assertOpen, findByClientId, gateTurn, type MessageRow, startAnswer } from "./answer-turn.ts";
import type { ServiceContext } from "../context.ts";
import type { StudentMessageGate } from "../modules/hooks.ts";
import { withheldMeta } from "./conversation.ts";
import { retryFailedAnswer } from "./retry-failed-answer.ts";
import { classRoom, publishBestEffort, sessionRoom } from "../rooms.ts";

export interface SendStudentMessageInput {
  sessionId: string;
  clientMessageId: string;
  content: string;
}

export interface SendResult {
  message: MessageDto;
  /** Its assistant answer: the one just started, or on a duplicate send the latest one it has. */
  answer: MessageDto | null;
  duplicate: boolean;
  /** A duplicate send whose answer had `failed`: a new answer was started for the stored message. */
  retried: boolean;
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
  const session = await loadVisibleSession(ctx.db, ctx.actor, input.sessionId);
  assertAllowed(policy.canSendAsStudent(ctx.actor, session.ref), "Only the session's student can send messages");

  const existing = await findByClientId(ctx, input.sessionId, input.clientMessageId);
  if (existing) {
    if (existing.answer?.state !== "failed") return existing;
    return retryFailedAnswer({ ctx, session, existing, gate });
  }

  const { definition, gated } = await gateTurn(ctx, gate, session, input.content);
  // A turn that would need the gateway is refused before anything is stored when this instance
  // already knows it cannot be admitted (shutting down, limit store unreachable): a clean 503
  // the client retries with the same clientMessageId.
  if (gated.blockedReply === null) assertCanAnswer(ctx);

  let created: { user: MessageRow; answer: MessageRow };
  try {
    created = await ctx.db.transaction(async (tx) => {
      // Locking the session row serialises seq allocation and re-checks state under the lock.
      const locked = await lockSessionForAppend(tx, session.id);
      assertOpen(locked.state);
      // A turn the modules block needs no gateway, so it is never refused as busy: a student in
      // crisis is answered and their teachers alerted even while another answer streams.
      if (gated.blockedReply === null) await assertNotStreaming(tx, session.id);
      const seq = await claimSeqs(tx, locked, 2);
      const now = ctx.clock.now();
      const [user] = await tx
        .insert(messages)
        .values({
          sessionId: session.id,
          seq,
          role: "user",
          authorId: ctx.actor.userId,
          content: gated.stored,
          clientMessageId: input.clientMessageId,
          meta: gated.blockedReply === null ? gated.meta : withheldMeta(gated.meta),
          createdAt: now,
        })
        .returning();
      const blocked = gated.blockedReply !== null;
      const [answer] = await tx
        .insert(messages)
        .values({
          sessionId: session.id,
          seq: seq + 1,
          role: "assistant",
          content: blocked ? (gated.blockedReply ?? "") : "",
          state: blocked ? "complete" : "streaming",
          streamOwner: blocked ? null : ctx.instanceId,
          heartbeatAt: now,
          finalizedAt: blocked ? now : null,
          meta: blocked ? { flags: gated.replyFlags ?? ["blocked"], model: "modules" } : {},
          createdAt: now,
        })
        .returning();
      if (!user || !answer) throw new AppError("INTERNAL", "insert returned nothing");
      await gated.persist?.(tx, { messageId: user.id, answerId: answer.id });
      return { user, answer };
    });
  } catch (err) {
    if (isUniqueViolation(err, "messages_session_client_id_key")) {
      const again = await findByClientId(ctx, input.sessionId, input.clientMessageId);
      if (again) return again;
    }
    if (isUniqueViolation(err, "messages_one_streaming_key")) {
      throw new ConflictError("An answer is still streaming in this session", undefined, "SESSION_BUSY");
    }
    throw err;
  }

  const userDto = toMessageDto(created.user);
  const answerDto = toMessageDto(created.answer);
  const room = sessionRoom(session.id);
  await publishBestEffort(ctx.bus, ctx.logger, room, "message.created", { message: userDto });
  if (session.classId) {
    await publishBestEffort(ctx.bus, ctx.logger, classRoom(session.classId), "message.created", {
      sessionId: session.id,
      messageId: userDto.id,
      role: "user",
      studentId: session.studentId,
      preview: userDto.content.slice(0, 280),
    });
  }

  await gated.notify?.();

  if (gated.blockedReply !== null) {
    await publishBestEffort(ctx.bus, ctx.logger, room, "message.completed", { message: answerDto });
    return { message: userDto, answer: answerDto, duplicate: false, retried: false };
  }
  await startAnswer(ctx, { session, definition, answer: created.answer, gated });
  return { message: userDto, answer: answerDto, duplicate: false, retried: false };
}
