import { BadCursor, decodeCursor, encodeCursor } from "./cursor.ts";

import { auditLog, classes, groups, messages, sessions } from "@raptscallions/db";
import { and, asc, desc, eq, gt, lt, or, type SQL } from "drizzle-orm";
import { assertVisible, policy } from "../../access/policy.ts";
import type { LiveContext } from "../live/context.ts";
import { sessionRoom } from "../live/rooms.ts";
import { toMessageDto, toSessionDto } from "./dto.ts";
import { loadVisibleSession } from "./load.ts";

export interface ListSessionsInput {
  classId?: string | undefined;
  state?: "active" | "paused" | "completed" | undefined;
  assignmentId?: string | undefined;
  limit: number;
  cursor?: string | undefined;
}

/**
 * A student's own sessions, or — with `classId` — a class's sessions for its teachers and the
 * admins over it. Newest first, keyset-paginated.
 */
export async function listSessions({ ctx, input }: { ctx: LiveContext; input: ListSessionsInput }) {
  const where: SQL[] = [];
  if (input.classId) {
    const role = ctx.actor.classRoles.get(input.classId);
    if (role?.role === "student") {
      where.push(eq(sessions.classId, input.classId), eq(sessions.studentId, ctx.actor.userId));
    } else {
      const groupPath = role?.groupPath ?? (await classGroupPath(ctx, input.classId));
      assertVisible(groupPath !== null && policy.canManageClass(ctx.actor, { id: input.classId, groupPath }), "Class");
      where.push(eq(sessions.classId, input.classId));
    }
  } else {
    where.push(eq(sessions.studentId, ctx.actor.userId));
  }
  if (input.state) where.push(eq(sessions.state, input.state));
  if (input.assignmentId) where.push(eq(sessions.assignmentId, input.assignmentId));
  if (input.cursor) {
    const c = decodeCursor(input.cursor);
    const at = new Date(c.k);
    if (Number.isNaN(at.getTime())) throw new BadCursor();
    where.push(or(lt(sessions.startedAt, at), and(eq(sessions.startedAt, at), lt(sessions.id, c.id))) as SQL);
  }
  const rows = await ctx.db
    .select()
    .from(sessions)
    .where(and(...where))
    .orderBy(desc(sessions.startedAt), desc(sessions.id))
    .limit(input.limit + 1);
  const page = rows.slice(0, input.limit);
  const last = page[page.length - 1];
  return {
    items: page.map(toSessionDto),
    nextCursor: rows.length > input.limit && last ? encodeCursor({ k: last.startedAt.toISOString(), id: last.id }) : null,
  };
}

async function classGroupPath(ctx: LiveContext, classId: string): Promise<string | null> {
  const [row] = await ctx.db
    .select({ path: groups.path })
    .from(classes)
    .innerJoin(groups, eq(groups.id, classes.groupId))
    .where(eq(classes.id, classId));
  return row?.path ?? null;
}

/** One session with where its room stands, so a client can load over REST then resume by offset. */
export async function getSession({ ctx, input }: { ctx: LiveContext; input: { sessionId: string } }) {
  const session = await loadVisibleSession(ctx.db, ctx.actor, input.sessionId);
  const head = await ctx.bus.head(sessionRoom(session.id)).catch(() => ({ epoch: null, offset: 0 }));
  await recordView(ctx, session);
  return { session: toSessionDto(session), room: { name: sessionRoom(session.id), ...head } };
}

/** Messages in seq order, keyset-paginated by seq (`after` for the next page). */
export async function listMessages({
  ctx,
  input,
}: {
  ctx: LiveContext;
  input: { sessionId: string; limit: number; cursor?: string | undefined };
}) {
  const session = await loadVisibleSession(ctx.db, ctx.actor, input.sessionId);
  let after = 0;
  if (input.cursor) {
    const c = decodeCursor(input.cursor);
    after = Number(c.k);
    if (!Number.isInteger(after) || after < 0) throw new BadCursor();
  }
  const rows = await ctx.db
    .select()
    .from(messages)
    .where(and(eq(messages.sessionId, session.id), gt(messages.seq, after)))
    .orderBy(asc(messages.seq))
    .limit(input.limit + 1);
  const page = rows.slice(0, input.limit);
  const last = page[page.length - 1];
  await recordView(ctx, session);
  return {
    items: page.map(toMessageDto),
    nextCursor: rows.length > input.limit && last ? encodeCursor({ k: String(last.seq), id: last.id }) : null,
  };
}

/**
 * The access trail student-privacy law expects: who (other than the student) read which
 * student's session and when.
 */
export async function recordView(ctx: LiveContext, session: { id: string; studentId: string; groupId: string }) {
  if (session.studentId === ctx.actor.userId) return;
  await ctx.db.insert(auditLog).values({
    actorId: ctx.actor.userId,
    action: "session.view",
    targetType: "session",
    targetId: session.id,
    groupId: session.groupId,
    requestId: ctx.requestId,
    details: { studentId: session.studentId },
  });
}

