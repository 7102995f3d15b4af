import { AppError, ConflictError, type MessageDto } from "@raptscallions/core";
import { messages, sessions } from "@raptscallions/db";
import { recordAudit } from "../audit/record.ts";
import { and, eq } from "drizzle-orm";
import { assertAllowed, policy } from "../../access/policy.ts";
import { toMessageDto, toSessionDto } from "../sessions/dto.ts";
import { loadVisibleSession } from "../sessions/load.ts";
import { claimSeqs, lockSessionForAppend } from "../sessions/seq.ts";
import { runSessionEndModules } from "../modules/session-end.ts";
import { queueEndSummary } from "../insights/summary-queue.ts";
import type { ServiceContext } from "../context.ts";
import { classRoom, publishBestEffort, sessionRoom } from "../rooms.ts";

type SessionState = "active" | "paused" | "completed";

/** Pause / resume by a teacher or admin; ending is also open to the student. */
export async function changeSessionState({ ctx, input }: { ctx: ServiceContext; input: { sessionId: string; to: SessionState } }) {
  const session = await loadVisibleSession(ctx.db, ctx.actor, input.sessionId);
  const steering = policy.canSteerSession(ctx.actor, session.ref);
  if (input.to === "completed") {
    assertAllowed(steering || policy.canSendAsStudent(ctx.actor, session.ref), "You may not end this session");
  } else {
    assertAllowed(steering, "Only a teacher of the class or an admin can pause or resume a session");
  }
  if (session.state === "completed") {
    if (input.to === "completed") return toSessionDto(session);
    throw new ConflictError("This session has ended", undefined, "SESSION_ENDED");
  }
  if (session.state === input.to) return toSessionDto(session);

  const now = ctx.clock.now();
  const updated = await ctx.db.transaction(async (tx) => {
    const [row] = await tx
      .update(sessions)
      .set({ state: input.to, endedAt: input.to === "completed" ? now : null })
      .where(and(eq(sessions.id, session.id), eq(sessions.state, session.state)))
      .returning();
    if (!row) throw new ConflictError("The session changed meanwhile; reload and retry");
    // The teacher's summary is queued with the end itself; the summary job writes it later.
    if (input.to === "completed") await queueEndSummary(tx, row, now);
    await recordAudit(tx, ctx, {
      action: `session.${input.to === "completed" ? "end" : input.to === "paused" ? "pause" : "resume"}`,
      targetType: "session",
      targetId: session.id,
      groupId: session.groupId,
    });
    return row;
  });

  const dto = toSessionDto(updated);
  const type = input.to === "completed" ? "session.ended" : "session.updated";
  await publishBestEffort(ctx.bus, ctx.logger, sessionRoom(session.id), type, { session: dto, by: ctx.actor.userId });
  if (session.classId) {
    await publishBestEffort(ctx.bus, ctx.logger, classRoom(session.classId), type, { session: dto, by: ctx.actor.userId });
  }
  // Ending stops a streaming answer: nothing more is billed for a session nobody continues.
  if (input.to === "completed") await requestStop(ctx, session.id).catch(() => {});
  if (input.to === "completed") await runSessionEndModules(ctx, updated);
  return dto;
}

/** A teacher's message into the session: visible to the student and every watcher at once. */
export async function postTeacherMessage({
  ctx,
  input,
}: {
  ctx: ServiceContext;
  input: { sessionId: string; clientMessageId: string; content: string };
}): Promise<{ message: MessageDto; duplicate: boolean }> {
  const session = await loadVisibleSession(ctx.db, ctx.actor, input.sessionId);
  assertAllowed(policy.canSteerSession(ctx.actor, session.ref), "Only a teacher of the class or an admin can post here");
  if (session.state === "completed") throw new ConflictError("This session has ended", undefined, "SESSION_ENDED");
  const existing = await ctx.db
    .select()
    .from(messages)
    .where(and(eq(messages.sessionId, session.id), eq(messages.clientMessageId, input.clientMessageId)));
  if (existing[0]) return { message: toMessageDto(existing[0]), duplicate: true };

  const row = await ctx.db.transaction(async (tx) => {
    const seq = await claimSeqs(tx, await lockSessionForAppend(tx, session.id), 1);
    const [inserted] = await tx
      .insert(messages)
      .values({
        sessionId: session.id,
        seq,
        role: "teacher",
        authorId: ctx.actor.userId,
        content: input.content,
        clientMessageId: input.clientMessageId,
        createdAt: ctx.clock.now(),
      })
      .returning();
    if (!inserted) throw new AppError("INTERNAL", "insert returned nothing");
    return inserted;
  });
  const dto = toMessageDto(row);
  await publishBestEffort(ctx.bus, ctx.logger, sessionRoom(session.id), "message.created", { message: dto });
  if (session.classId) {
    await publishBestEffort(ctx.bus, ctx.logger, classRoom(session.classId), "message.created", {
      sessionId: session.id,
      messageId: dto.id,
      role: "teacher",
      preview: dto.content.slice(0, 280),
    });
  }
  return { message: dto, duplicate: false };
}

/**
 * Stop is an explicit action: the student or a teacher. The instance running the answer aborts
 * the upstream request (stopping provider billing); another instance hears it through the room.
 */
export async function stopGeneration({ ctx, input }: { ctx: ServiceContext; input: { sessionId: string } }) {
  const session = await loadVisibleSession(ctx.db, ctx.actor, input.sessionId);
  assertAllowed(policy.canSendAsStudent(ctx.actor, session.ref) || policy.canSteerSession(ctx.actor, session.ref), "You may not stop this answer");
  const messageId = await requestStop(ctx, session.id);
  return { messageId };
}

async function requestStop(ctx: ServiceContext, sessionId: string): Promise<string | null> {
  const [streaming] = await ctx.db
    .select({ id: messages.id })
    .from(messages)
    .where(and(eq(messages.sessionId, sessionId), eq(messages.state, "streaming")));
  if (!streaming) return null;
  if (!ctx.runner.stopLocal(streaming.id)) {
    await ctx.bus.publish(sessionRoom(sessionId), {
      type: "generation.stop-requested",
      payload: { messageId: streaming.id, by: ctx.actor.userId },
    });
  }
  return streaming.id;
}
