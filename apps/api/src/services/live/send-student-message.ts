import { AppError, ConflictError, type MessageDto } from "@raptscallions/core";
import { type DbOrTx, messages, sessions } from "@raptscallions/db";
import { and, eq, sql } from "drizzle-orm";
import { assertAllowed, policy } from "../../access/policy.ts";
import type { Generation } from "../ai/types.ts";
import { isUniqueViolation } from "../query-helpers.ts";
import { toMessageDto } from "../sessions/dto.ts";
import { claimSeqs, lockSessionForAppend } from "../sessions/seq.ts";
import { loadToolDefinition, loadVisibleSession } from "../sessions/load.ts";
import type { LiveContext } from "./context.ts";
import { conversationFor, withheldMeta } from "./conversation.ts";
import { classRoom, publish, publishBestEffort, sessionRoom } from "./rooms.ts";

export interface SendStudentMessageInput {
  sessionId: string;
  clientMessageId: string;
  content: string;
}

export interface SendResult {
  message: MessageDto;
  /** The assistant answer started for it; null on a duplicate send or a blocked turn. */
  answer: MessageDto | null;
  duplicate: boolean;
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
  if (existing) return existing;

  if (session.state === "paused") throw new ConflictError("The teacher paused this session", undefined, "SESSION_PAUSED");
  if (session.state === "completed") throw new ConflictError("This session has ended", undefined, "SESSION_ENDED");

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

  let created: { user: typeof messages.$inferSelect; answer: typeof messages.$inferSelect };
  try {
    created = await ctx.db.transaction(async (tx) => {
      // Locking the session row serialises seq allocation and re-checks state under the lock.
      const locked = await lockSessionForAppend(tx, session.id);
      if (locked.state === "paused") throw new ConflictError("The teacher paused this session", undefined, "SESSION_PAUSED");
      if (locked.state === "completed") throw new ConflictError("This session has ended", undefined, "SESSION_ENDED");
      const [streaming] = await tx
        .select({ id: messages.id })
        .from(messages)
        .where(and(eq(messages.sessionId, session.id), eq(messages.state, "streaming")));
      // A turn the modules block needs no gateway, so it is never refused as busy: a student in
      // crisis is answered and their teachers alerted even while another answer streams.
      if (streaming && gated.blockedReply === null) {
        throw new ConflictError("An answer is still streaming in this session", { messageId: streaming.id }, "SESSION_BUSY");
      }
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
    return { message: userDto, answer: answerDto, duplicate: false };
  }

  // The started event's offset is the answer's first checkpoint: a watcher joining before any
  // text was checkpointed resumes right after it and misses no delta.
  try {
    const started = await publish(ctx.bus, room, "message.started", { message: answerDto });
    await ctx.db
      .update(messages)
      .set({ checkpointOffset: started.offset, checkpointEpoch: started.epoch })
      .where(and(eq(messages.id, created.answer.id), sql`${messages.checkpointOffset} is null`));
  } catch (err) {
    ctx.logger.warn("publish failed", { room, err });
  }
  const conversation = await conversationFor(ctx.db, session.id, created.user.seq);
  const history = gated.toProvider ? gated.toProvider(conversation) : conversation;
  // The model sees what the modules let through (e.g. redacted), whatever the school stores.
  const last = history[history.length - 1];
  if (last && last.role === "user") last.content = gated.sent;
  const target = { sessionId: session.id, classId: session.classId, messageId: created.answer.id };
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
        messageId: created.answer.id,
      },
      definition: tool.definition,
      messages: history,
    });
  } catch (err) {
    // Refused before any token (limits, budget, model): the student's message stays stored, the
    // answer row says why, and the caller gets the error (429 with Retry-After, 422…).
    await ctx.runner.failBeforeStart(target, err);
    throw err;
  }
  ctx.runner.start(target, { generation, abort });
  return { message: userDto, answer: answerDto, duplicate: false };
}

async function findByClientId(ctx: LiveContext, sessionId: string, clientMessageId: string): Promise<SendResult | null> {
  const [row] = await ctx.db
    .select()
    .from(messages)
    .where(and(eq(messages.sessionId, sessionId), eq(messages.clientMessageId, clientMessageId)));
  if (!row) return null;
  const [answer] = await ctx.db
    .select()
    .from(messages)
    .where(and(eq(messages.sessionId, sessionId), eq(messages.seq, row.seq + 1), sql`${messages.role} = 'assistant'`));
  return { message: toMessageDto(row), answer: answer ? toMessageDto(answer) : null, duplicate: true };
}
