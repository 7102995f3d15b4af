import { cursorParts, decodeCursor, toPage } from "@raptscallions/core";
import { classes, groups, messages, sessions } from "@raptscallions/db";
import { z } from "zod";
import type { AuditBatch } from "../audit/batch.ts";
import { recordAudit } from "../audit/record.ts";
import { and, asc, desc, eq, gt, lt, or, type SQL } from "drizzle-orm";
import { assertVisible, policy } from "../../access/policy.ts";
import type { ServiceContext } from "../context.ts";
import { sessionRoom } from "../rooms.ts";
import { toMessageDto, toSessionDto } from "./dto.ts";
import { loadVisibleSession } from "./load.ts";

// Sessions newest first (start time in ms, id); messages by seq. Anything else is a 400.
const SESSION_CURSOR = z.tuple([cursorParts.epochMs, cursorParts.uuid]);
const MESSAGE_CURSOR = z.tuple([cursorParts.int4.min(0)]);

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
export async function listSessions({ ctx, input }: { ctx: ServiceContext; input: ListSessionsInput }) {
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
    const [ms, id] = decodeCursor(input.cursor, SESSION_CURSOR);
    const at = new Date(ms);
    where.push(or(lt(sessions.startedAt, at), and(eq(sessions.startedAt, at), lt(sessions.id, id))) as SQL);
  }
  const rows = await ctx.db
    .select()
    .from(sessions)
    .where(and(...where))
    .orderBy(desc(sessions.startedAt), desc(sessions.id))
    .limit(input.limit + 1);
  const page = toPage(rows, input.limit, (r) => [r.startedAt.getTime(), r.id]);
  return { items: page.items.map(toSessionDto), nextCursor: page.nextCursor };
}

async function classGroupPath(ctx: ServiceContext, classId: string): Promise<string | null> {
  const [row] = await ctx.db.select({ path: groups.path }).from(classes).innerJoin(groups, eq(groups.id, classes.groupId)).where(eq(classes.id, classId));
  return row?.path ?? null;
}

/** One session with where its room stands, so a client can load over REST then resume by offset. */
export async function getSession({ ctx, input }: { ctx: ServiceContext; input: { sessionId: string } }) {
  const session = await loadVisibleSession(ctx.db, ctx.actor, input.sessionId);
  const head = await ctx.bus.head(sessionRoom(session.id)).catch(() => ({ epoch: null, offset: 0 }));
  await recordView(ctx, session);
  return { session: toSessionDto(session), room: { name: sessionRoom(session.id), ...head } };
}

/** Messages in seq order, keyset-paginated by seq (`after` for the next page). */
export async function listMessages({ ctx, input }: { ctx: ServiceContext; input: { sessionId: string; limit: number; cursor?: string | undefined } }) {
  const session = await loadVisibleSession(ctx.db, ctx.actor, input.sessionId);
  const after = input.cursor ? decodeCursor(input.cursor, MESSAGE_CURSOR)[0] : 0;
  const rows = await ctx.db
    .select()
    .from(messages)
    .where(and(eq(messages.sessionId, session.id), gt(messages.seq, after)))
    .orderBy(asc(messages.seq))
    .limit(input.limit + 1);
  const page = toPage(rows, input.limit, (r) => [r.seq]);
  await recordView(ctx, session);
  return { items: page.items.map(toMessageDto), nextCursor: page.nextCursor };
}

/**
 * The access trail student-privacy law expects: who (other than the student) read which
 * student's session and when. With `batch`, the row is written with the batch's next flush
 * (socket subscriptions: see AuditBatch) instead of before the read returns.
 */
export async function recordView(ctx: ServiceContext, session: { id: string; studentId: string; groupId: string }, batch?: AuditBatch) {
  if (session.studentId === ctx.actor.userId) return;
  const entry = {
    action: "session.view",
    targetType: "session",
    targetId: session.id,
    groupId: session.groupId,
    details: { studentId: session.studentId },
  };
  if (batch) batch.add(ctx, entry);
  else await recordAudit(ctx.db, ctx, entry);
}
