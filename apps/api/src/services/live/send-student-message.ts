import type { MessageDto } from "@raptscallions/core";
import { assertAllowed, policy } from "../../access/policy.ts";
import { toMessageDto } from "../sessions/dto.ts";
import { assertCanAnswer, findByClientId, gateTurn, type SendResult, type SessionRow, startAnswer } from "./answer-turn.ts";
import type { ServiceContext } from "../context.ts";
import type { StudentMessageGate } from "../modules/hooks.ts";
import { retryFailedAnswer } from "./retry-failed-answer.ts";
import { conversationAfter } from "./conversation.ts";
import { loadSessionForSend } from "./session-for-send.ts";
import { storeTurn } from "./store-turn.ts";
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
  const { session, existingMessageId, turnInputs, history, aiPlanRows } = await loadSessionForSend(ctx.db, ctx.actor, input.sessionId, input.clientMessageId, {
    defaultModel: ctx.ai.defaultModel,
  });
  assertAllowed(policy.canSendAsStudent(ctx.actor, session.ref), "Only the session's student can send messages");

  const existing = existingMessageId ? await findByClientId(ctx, input.sessionId, input.clientMessageId) : null;
  if (existing) {
    if (existing.answer?.state !== "failed") return existing;
    return retryFailedAnswer({ ctx, session, existing, gate });
  }

  const { definition, gated } = await gateTurn(ctx, gate, session, input.content, { turnInputs });
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
  // The announcements and the answer's first event are published without waiting for each other:
  // the bus hands each publish to its connection as it is called, so they leave in one write and
  // a room still gets them in the order they were called (message.created before what follows).
  const announced = announceStudentMessage(ctx, session, userDto);
  try {
    if (blocked) {
      await publishBestEffort(ctx.bus, ctx.logger, sessionRoom(session.id), "message.completed", { message: answerDto });
    } else {
      const user = stored.rows.user;
      const conversation = history ? conversationAfter(history.rows, history.throughSeq, user) : null;
      await startAnswer(ctx, { session, definition, answer: stored.rows.answer, gated, conversation, aiPlanRows });
    }
  } finally {
    await announced;
  }
  return { message: userDto, answer: answerDto, duplicate: false, retried: false };
}

/** The stored message to the session room, and a short summary to the class room (best effort: never rejects). */
async function announceStudentMessage(ctx: ServiceContext, session: SessionRow, message: MessageDto): Promise<void> {
  const toSession = publishBestEffort(ctx.bus, ctx.logger, sessionRoom(session.id), "message.created", { message });
  const toClass = session.classId
    ? publishBestEffort(ctx.bus, ctx.logger, classRoom(session.classId), "message.created", {
        sessionId: session.id,
        messageId: message.id,
        role: "user",
        studentId: session.studentId,
        preview: message.content.slice(0, 280),
      })
    : undefined;
  await Promise.all([toSession, toClass]);
}
