import { ConflictError } from "@raptscallions/core";
import { messages } from "@raptscallions/db";
import { and, eq, gt } from "drizzle-orm";
import { isUniqueViolation } from "../query-helpers.ts";
import { toMessageDto } from "../sessions/dto.ts";
import { claimSeqs, lockSessionForAppend } from "../sessions/seq.ts";
import {
  assertCanAnswer,
  assertNotStreaming,
  assertOpen,
  gateTurn,
  findByClientId,
  latestAnswerFor,
  type MessageRow,
  type SendResult,
  type SessionRow,
  startAnswer,
} from "./answer-turn.ts";
import type { ServiceContext } from "../context.ts";
import type { StudentMessageGate } from "../modules/hooks.ts";

/**
 * Resending a clientMessageId whose answer `failed` (refused by limits, an outage, an upstream
 * error) starts a new answer for the stored message — the failed row stays as it was, finalised
 * once. Only while the message is the session's latest student message: once the student has
 * moved on, the resend returns the stored pair unchanged. The modules already judged, stored and
 * alerted on this message; the gate runs again only to decide whether and what the provider may
 * see (its findings are not stored again).
 */
export async function retryFailedAnswer({
  ctx,
  session,
  existing,
  gate,
}: {
  ctx: ServiceContext;
  session: SessionRow;
  existing: SendResult;
  gate: StudentMessageGate;
}): Promise<SendResult> {
  const failed = existing.answer;
  if (!failed) return existing;
  const { definition, gated } = await gateTurn(ctx, gate, session, existing.message.content, { alreadyStored: true });
  // The turn was let through the first time; if the gate would now withhold it (a rule changed,
  // moderation fails closed), nothing is sent and the stored pair stays as it is.
  if (gated.blockedReply !== null) return existing;
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
  await startAnswer(ctx, { session, definition, answer, gated });
  return { message: user, answer: toMessageDto(answer), duplicate: true, retried: true };
}
