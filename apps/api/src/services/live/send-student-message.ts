import { AppError, ConflictError, type MessageDto } from "@raptscallions/core";
import { type DbOrTx, messages, sessions } from "@raptscallions/db";
import { and, desc, eq, gt, or, sql } from "drizzle-orm";
import { assertAllowed, policy } from "../../access/policy.ts";
import type { Generation } from "../ai/types.ts";
import { isUniqueViolation } from "../query-helpers.ts";
import { toMessageDto } from "../sessions/dto.ts";
import { claimSeqs, lockSessionForAppend } from "../sessions/seq.ts";
import { loadToolDefinition, loadVisibleSession } from "../sessions/load.ts";
import type { LiveContext } from "./context.ts";
import { conversationFor, withheldMeta } from "./conversation.ts";
import { classRoom, publish, publishBestEffort, sessionRoom } from "./rooms.ts";

type MessageRow = typeof messages.$inferSelect;
type SessionRow = Awaited<ReturnType<typeof loadVisibleSession>>;
type ToolDefinition = Awaited<ReturnType<typeof loadToolDefinition>>["definition"];

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

/** What the gate decided about one student message (see {@link StudentMessageGate}). */
export interface GateDecision {
  stored: string;
  sent: string;
  blockedReply: string | null;
  meta: Record<string, unknown>;
  /** Runs inside the insert's transaction with the new rows' ids: findings commit iff the message does. */
  persist?(tx: DbOrTx, ids: { messageId: string; answerId: string }): Promise<void>;
  /** Runs after commit, before any answer starts (publishes alerts); must not throw. */
  notify?(): Promise<void>;
  /** Flags of the reply stored for a withheld turn (default `["blocked"]`); they keep it out of provider history. */
  replyFlags?: string[] | undefined;
  /** What the provider may see of the stored conversation (e.g. originals a school keeps, redacted). */
  toProvider?(history: ProviderMessage[]): ProviderMessage[];
}

type ProviderMessage = { role: "user" | "assistant" | "system"; content: string };

/** Hook the modules plug into: may redact what is stored/sent, or block the turn with a reply. */
export interface StudentMessageGate {
  beforeGateway(input: {
    ctx: LiveContext;
    sessionId: string;
    classId: string | null;
    groupId: string;
    studentId: string;
    content: string;
    modulesConfig: Record<string, unknown> | undefined;
  }): Promise<GateDecision>;
}

const passThrough: StudentMessageGate = {
  async beforeGateway({ content }) {
    return { stored: content, sent: content, blockedReply: null, meta: {} };
  },
};

/**
 * The chat turn (DESIGN.md "The live path" 4–7): the student message is stored first
 * (idempotent on the client message id), passes the modules, then the gateway streams the answer
 * on this instance's runner — which outlives the socket. One answer at a time per session is held
 * by a partial unique index, not by a check-then-act race.
 */
export async function sendStudentMessage({
  ctx,
  input,
  gate = passThrough,
}: {
  ctx: LiveContext;
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

  assertOpen(session.state);
  const tool = await loadToolDefinition(ctx.db, session.toolId, session.toolVersion);
  const gated = await gate.beforeGateway({
    ctx,
    sessionId: session.id,
    classId: session.classId,
    groupId: session.groupId,
    studentId: session.studentId,
    content: input.content,
    modulesConfig: tool.definition.modules,
  });
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
  await startAnswer(ctx, { session, definition: tool.definition, answer: created.answer, gated });
  return { message: userDto, answer: answerDto, duplicate: false, retried: false };
}

function assertOpen(state: string) {
  if (state === "paused") throw new ConflictError("The teacher paused this session", undefined, "SESSION_PAUSED");
  if (state === "completed") throw new ConflictError("This session has ended", undefined, "SESSION_ENDED");
}

function assertCanAnswer(ctx: LiveContext) {
  ctx.runner.assertAccepting();
  ctx.ai.assertAvailable();
}

async function assertNotStreaming(tx: DbOrTx, sessionId: string) {
  const [streaming] = await tx
    .select({ id: messages.id })
    .from(messages)
    .where(and(eq(messages.sessionId, sessionId), eq(messages.state, "streaming")));
  if (streaming) throw new ConflictError("An answer is still streaming in this session", { messageId: streaming.id }, "SESSION_BUSY");
}

/**
 * Streams a stored `streaming` answer row: announces it (its offset is the first checkpoint),
 * admits the call with the gateway service and hands it to this instance's runner.
 */
async function startAnswer(
  ctx: LiveContext,
  turn: { session: SessionRow; definition: ToolDefinition; answer: MessageRow; gated: Pick<GateDecision, "sent" | "toProvider"> },
) {
  const { session, answer, gated } = turn;
  const room = sessionRoom(session.id);
  // The started event's offset is the answer's first checkpoint: a watcher joining before any
  // text was checkpointed resumes right after it and misses no delta.
  let epoch: string | null = null;
  try {
    const started = await publish(ctx.bus, room, "message.started", { message: toMessageDto(answer) });
    epoch = started.epoch;
    await ctx.db
      .update(messages)
      .set({ checkpointOffset: started.offset, checkpointEpoch: started.epoch })
      .where(and(eq(messages.id, answer.id), sql`${messages.checkpointOffset} is null`));
  } catch (err) {
    ctx.logger.warn("publish failed", { room, err });
  }
  const conversation = await conversationFor(ctx.db, session.id, answer.seq - 1);
  const history = gated.toProvider ? gated.toProvider(conversation) : conversation;
  // The model sees what the modules let through (e.g. redacted), whatever the school stores.
  const last = history[history.length - 1];
  if (last && last.role === "user") last.content = gated.sent;
  const target = { sessionId: session.id, classId: session.classId, messageId: answer.id, epoch };
  const abort = new AbortController();
  let generation: Generation;
  try {
    ctx.runner.assertAccepting();
    generation = await ctx.ai.start({
      signal: abort.signal,
      scope: {
        userId: session.studentId,
        groupId: session.groupId,
        classId: session.classId,
        toolId: session.toolId,
        toolVersion: session.toolVersion,
        sessionId: session.id,
        assignmentId: session.assignmentId,
        runId: null,
        messageId: answer.id,
      },
      definition: turn.definition,
      messages: history,
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

/**
 * Resending a clientMessageId whose answer `failed` (refused by limits, an outage, an upstream
 * error) starts a new answer for the stored message — the failed row stays as it was, finalised
 * once. Only while the message is the session's latest student message: once the student has
 * moved on, the resend returns the stored pair unchanged. The modules already judged, stored and
 * alerted on this message; the gate runs again only to decide what the provider may see.
 */
async function retryFailedAnswer({
  ctx,
  session,
  existing,
  gate,
}: {
  ctx: LiveContext;
  session: SessionRow;
  existing: SendResult;
  gate: StudentMessageGate;
}): Promise<SendResult> {
  const failed = existing.answer;
  if (!failed) return existing;
  assertOpen(session.state);
  const tool = await loadToolDefinition(ctx.db, session.toolId, session.toolVersion);
  const gated = await gate.beforeGateway({
    ctx,
    sessionId: session.id,
    classId: session.classId,
    groupId: session.groupId,
    studentId: session.studentId,
    content: existing.message.content,
    modulesConfig: tool.definition.modules,
  });
  assertCanAnswer(ctx);
  const user = existing.message;
  let answer: MessageRow | null;
  try {
    answer = await ctx.db.transaction(async (tx) => {
      const locked = await lockSessionForAppend(tx, session.id);
      assertOpen(locked.state);
      const latest = await latestAnswerFor(tx, session.id, user);
      if (latest?.id !== failed.id) return null;
      const [later] = await tx
        .select({ id: messages.id })
        .from(messages)
        .where(and(eq(messages.sessionId, session.id), eq(messages.role, "user"), gt(messages.seq, user.seq)))
        .limit(1);
      if (later) return null;
      await assertNotStreaming(tx, session.id);
      const seq = await claimSeqs(tx, locked, 1);
      const now = ctx.clock.now();
      const [row] = await tx
        .insert(messages)
        .values({
          sessionId: session.id,
          seq,
          role: "assistant",
          content: "",
          state: "streaming",
          streamOwner: ctx.instanceId,
          heartbeatAt: now,
          meta: { replyTo: user.id, retryOf: failed.id },
          createdAt: now,
        })
        .returning();
      return row ?? null;
    });
  } catch (err) {
    if (isUniqueViolation(err, "messages_one_streaming_key")) {
      throw new ConflictError("An answer is still streaming in this session", undefined, "SESSION_BUSY");
    }
    throw err;
  }
  if (!answer) return (await findByClientId(ctx, session.id, user.clientMessageId ?? "")) ?? existing;
  await startAnswer(ctx, { session, definition: tool.definition, answer, gated });
  return { message: user, answer: toMessageDto(answer), duplicate: true, retried: true };
}

/** A student message's answer: the one stored with it, or the latest retry of it. */
async function latestAnswerFor(db: DbOrTx, sessionId: string, user: { id: string; seq: number }) {
  const [answer] = await db
    .select()
    .from(messages)
    .where(
      and(
        eq(messages.sessionId, sessionId),
        eq(messages.role, "assistant"),
        or(eq(messages.seq, user.seq + 1), sql`${messages.meta}->>'replyTo' = ${user.id}`),
      ),
    )
    .orderBy(desc(messages.seq))
    .limit(1);
  return answer;
}

async function findByClientId(ctx: LiveContext, sessionId: string, clientMessageId: string): Promise<SendResult | null> {
  const [row] = await ctx.db
    .select()
    .from(messages)
    .where(and(eq(messages.sessionId, sessionId), eq(messages.clientMessageId, clientMessageId)));
  if (!row) return null;
  const answer = await latestAnswerFor(ctx.db, sessionId, row);
  return { message: toMessageDto(row), answer: answer ? toMessageDto(answer) : null, duplicate: true, retried: false };
}
