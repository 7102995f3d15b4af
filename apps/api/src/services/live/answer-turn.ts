// The steps a chat turn (send-student-message.ts) and a retry of its answer share.
import { ConflictError, type MessageDto } from "@raptscallions/core";
import { type DbOrTx, messages } from "@raptscallions/db";
import { and, desc, eq, or, sql } from "drizzle-orm";
import { type AiPlanRows, type Generation, sessionGenerationScope } from "../../lib/ai-service.ts";
import { toMessageDto } from "../sessions/dto.ts";
import { loadToolDefinition, type loadVisibleSession } from "../sessions/load.ts";
import type { ServiceContext } from "../context.ts";
import { type Conversation, conversationFor } from "./conversation.ts";
import { publish, sessionRoom } from "../rooms.ts";
import type { GateDecision, StudentMessageGate } from "../modules/hooks.ts";
import type { TurnInputsRow } from "../modules/turn-inputs.ts";

/** What sending a student message (or retrying its answer) returns. */
export interface SendResult {
  message: MessageDto;
  /** Its assistant answer: the one just started, or on a duplicate send the latest one it has. */
  answer: MessageDto | null;
  duplicate: boolean;
  /** A duplicate send whose answer had `failed`: a new answer was started for the stored message. */
  retried: boolean;
}

export type MessageRow = typeof messages.$inferSelect;
export type SessionRow = Awaited<ReturnType<typeof loadVisibleSession>>;
export type ToolDefinition = Awaited<ReturnType<typeof loadToolDefinition>>["definition"];

export function assertOpen(state: string) {
  if (state === "paused") throw new ConflictError("The teacher paused this session", undefined, "SESSION_PAUSED");
  if (state === "completed") throw new ConflictError("This session has ended", undefined, "SESSION_ENDED");
}

/**
 * The start of every student turn, first send or retry alike: the session must be open, and the
 * text passes the gate with the modules of the session's tool version.
 */
export async function gateTurn(
  ctx: ServiceContext,
  gate: StudentMessageGate,
  session: SessionRow,
  content: string,
  opts: { alreadyStored?: boolean; turnInputs?: TurnInputsRow | undefined } = {},
) {
  assertOpen(session.state);
  const tool = await loadToolDefinition(ctx.db, session.toolId, session.toolVersion);
  const gated = await gate.beforeGateway({
    ctx,
    sessionId: session.id,
    classId: session.classId,
    groupId: session.groupId,
    studentId: session.studentId,
    content,
    modulesConfig: tool.definition.modules,
    alreadyStored: opts.alreadyStored,
    turnInputs: opts.turnInputs,
  });
  return { definition: tool.definition, gated };
}

export function assertCanAnswer(ctx: ServiceContext) {
  ctx.runner.assertAccepting();
  ctx.ai.assertAvailable();
}

/** The id of the session's answer streaming right now, if any. */
export async function streamingAnswerOf(db: DbOrTx, sessionId: string): Promise<string | null> {
  const [streaming] = await db
    .select({ id: messages.id })
    .from(messages)
    .where(and(eq(messages.sessionId, sessionId), eq(messages.state, "streaming")));
  return streaming?.id ?? null;
}

export async function assertNotStreaming(tx: DbOrTx, sessionId: string) {
  const streaming = await streamingAnswerOf(tx, sessionId);
  if (streaming) throw new ConflictError("An answer is still streaming in this session", { messageId: streaming }, "SESSION_BUSY");
}

/**
 * Streams a stored `streaming` answer row: announces it (its offset is the first checkpoint),
 * admits the call with the gateway service and hands it to this instance's runner.
 */
export async function startAnswer(
  ctx: ServiceContext,
  turn: {
    session: SessionRow;
    definition: ToolDefinition;
    answer: MessageRow;
    gated: Pick<GateDecision, "sent" | "toProvider" | "afterAnswer">;
    /** The provider history through the student's message, when the caller already has it (`conversationAfter`). */
    conversation?: Conversation | null | undefined;
    /** The AI plan's rows, when the caller read them with the session (`loadSessionForSend`). */
    aiPlanRows?: AiPlanRows | undefined;
  },
) {
  const { session, answer, gated } = turn;
  const room = sessionRoom(session.id);
  // The started event's offset is the answer's first checkpoint: a watcher joining before any
  // text was checkpointed resumes right after it and misses no delta. The runner writes it with
  // its first update, before it publishes any delta.
  let epoch: string | null = null;
  let offset: number | null = null;
  try {
    const started = await publish(ctx.bus, room, "message.started", { message: toMessageDto(answer) });
    epoch = started.epoch;
    offset = started.offset;
  } catch (err) {
    ctx.logger.warn("publish failed", { room, err });
  }
  const conversation = turn.conversation ?? (await conversationFor(ctx.db, session.id, answer.seq - 1));
  // The model sees what the modules let through (e.g. redacted), whatever the school stores: the
  // turn's own message is the gate's text, so only the messages before it go through `toProvider`
  // (redacting the stored copy as well would only be thrown away).
  const current = conversation[conversation.length - 1]?.role === "user" ? conversation.pop() : undefined;
  const history = gated.toProvider ? gated.toProvider(conversation) : conversation;
  if (current) history.push({ ...current, content: gated.sent });
  const target = { sessionId: session.id, classId: session.classId, messageId: answer.id, epoch, offset, afterAnswer: gated.afterAnswer };
  const abort = new AbortController();
  let generation: Generation;
  try {
    ctx.runner.assertAccepting();
    generation = await ctx.ai.start({
      signal: abort.signal,
      scope: sessionGenerationScope(session, { userId: session.studentId, messageId: answer.id }),
      definition: turn.definition,
      messages: history,
      planRows: turn.aiPlanRows,
    });
  } catch (err) {
    // Refused before any token (limits, budget, model, or Redis lost since the check above): the
    // student's message stays stored, the answer row says why, the caller gets the error (429 or
    // 503 with Retry-After, 422…) and resending the same clientMessageId retries the answer.
    await ctx.runner.failBeforeStart(target, err);
    throw err;
  }
  ctx.runner.start(target, { generation, abort });
}

/** A student message's answer: the one stored with it, or the latest retry of it. */
export async function latestAnswerFor(db: DbOrTx, sessionId: string, user: { id: string; seq: number }) {
  const [answer] = await db
    .select()
    .from(messages)
    .where(and(eq(messages.sessionId, sessionId), eq(messages.role, "assistant"), or(eq(messages.seq, user.seq + 1), sql`${messages.meta}->>'replyTo' = ${user.id}`)))
    .orderBy(desc(messages.seq))
    .limit(1);
  return answer;
}

export async function findByClientId(ctx: ServiceContext, sessionId: string, clientMessageId: string): Promise<SendResult | null> {
  const [row] = await ctx.db
    .select()
    .from(messages)
    .where(and(eq(messages.sessionId, sessionId), eq(messages.clientMessageId, clientMessageId)));
  if (!row) return null;
  const answer = await latestAnswerFor(ctx.db, sessionId, row);
  return { message: toMessageDto(row), answer: answer ? toMessageDto(answer) : null, duplicate: true, retried: false };
}
