import { type AccessLogQuery, type AuditEntryDto, cursorParts, decodeCursor, type Page, toPage } from "@raptscallions/core";
import { auditLog, sessions, groups } from "@raptscallions/db";
import { and, desc, eq, lt, type SQL } from "drizzle-orm";
import { z } from "zod";
import { assertVisible, isAdminOver } from "../../access/policy.ts";
import type { ServiceContext } from "../context.ts";
import { iso } from "../query-helpers.ts";

const byId = z.tuple([cursorParts.int]);

/**
 * Who read or acted on one student's session, newest first: every `session.view` (REST reads
 * and WebSocket subscribes by anyone but the student) and every teacher action on it. For the
 * admins over the session's group — the people a parent or regulator would ask.
 */
export async function listSessionAccessLog({ ctx, input }: { ctx: ServiceContext; input: AccessLogQuery }): Promise<Page<AuditEntryDto>> {
  const [session] = await ctx.db
    .select({ id: sessions.id, groupPath: groups.path })
    .from(sessions)
    .innerJoin(groups, eq(groups.id, sessions.groupId))
    .where(eq(sessions.id, input.sessionId));
  assertVisible(session !== undefined && isAdminOver(ctx.actor, session.groupPath), "Session");
  const where: SQL[] = [eq(auditLog.targetType, "session"), eq(auditLog.targetId, input.sessionId)];
  if (input.action) where.push(eq(auditLog.action, input.action));
  // Ids are a bigserial: newest first by id alone is a total, stable order.
  if (input.cursor) where.push(lt(auditLog.id, decodeCursor(input.cursor, byId)[0]));
  const rows = await ctx.db
    .select()
    .from(auditLog)
    .where(and(...where))
    .orderBy(desc(auditLog.id))
    .limit(input.limit + 1);
  const page = toPage(rows, input.limit, (r) => [r.id]);
  return {
    items: page.items.map((r) => ({
      id: r.id,
      actorId: r.actorId,
      action: r.action,
      targetType: r.targetType,
      targetId: r.targetId,
      groupId: r.groupId,
      requestId: r.requestId,
      details: r.details,
      createdAt: iso(r.createdAt),
    })),
    nextCursor: page.nextCursor,
  };
}
