import { type AlertDto, cursorParts, decodeCursor, type ListAlertsQuery, NotFoundError, type Page, toPage } from "@raptscallions/core";
import { extractions, groups, runs, SEVERITIES, sessions } from "@raptscallions/db";
import { and, desc, eq, inArray, type SQL, sql } from "drizzle-orm";
import { z } from "zod";
import { assertVisible, isAdminOver, policy } from "../../access/policy.ts";
import type { ServiceContext } from "../context.ts";
import { requireVisibleGroup } from "../groups/scope.ts";
import { loadClass } from "../classes/scope.ts";
import { loadVisibleSession } from "../sessions/load.ts";
import { afterCursor, timestampKey } from "../query-helpers.ts";
import { alertStudentIdSql, toAlertDto } from "./dto.ts";
import { alertVisibleSql, canReviewAlert } from "./scope.ts";

const byNewest = z.tuple([cursorParts.timestamp, cursorParts.uuid]);

/**
 * Alerts the caller may review, newest first: teachers see their classes', admins their
 * subtrees'. A filter naming a class, session, run or group the caller may not review is a 404, so
 * a student (even the one who started the run) or a teacher of another class learns nothing, not
 * even that it exists.
 */
export async function listAlerts({ ctx, input }: { ctx: ServiceContext; input: ListAlertsQuery }): Promise<Page<AlertDto>> {
  const where: SQL[] = [eq(extractions.isAlert, true), alertVisibleSql(ctx.actor)];
  if (input.classId) {
    const found = await loadClass(ctx.db, input.classId);
    assertVisible(found !== undefined && policy.canManageClass(ctx.actor, { id: input.classId, groupPath: found.groupPath }), "Class");
    where.push(eq(extractions.classId, input.classId));
  }
  if (input.sessionId) {
    const session = await loadVisibleSession(ctx.db, ctx.actor, input.sessionId);
    assertVisible(policy.canSteerSession(ctx.actor, session.ref), "Session");
    where.push(eq(extractions.sessionId, input.sessionId));
  }
  if (input.runId) {
    const [run] = await ctx.db
      .select({ classId: runs.classId, groupPath: groups.path })
      .from(runs)
      .innerJoin(groups, eq(groups.id, runs.groupId))
      .where(eq(runs.id, input.runId));
    // The student who started the run may see it, never its alerts: a 404 as for anyone else.
    assertVisible(run !== undefined && canReviewAlert(ctx.actor, run), "Run");
    where.push(eq(extractions.runId, input.runId));
  }
  if (input.groupId) {
    // Only "not visible" collapses into the 404 below; a database failure stays a failure.
    const group = await requireVisibleGroup(ctx, input.groupId).catch((err: unknown) => {
      if (err instanceof NotFoundError) return null;
      throw err;
    });
    if (!group || !isAdminOver(ctx.actor, group.path)) throw new NotFoundError("Group");
    where.push(sql`${groups.path} <@ ${group.path}::ltree`);
  }
  if (input.status) where.push(eq(extractions.status, input.status));
  if (input.minSeverity) where.push(inArray(extractions.severity, SEVERITIES.slice(SEVERITIES.indexOf(input.minSeverity))));
  if (input.cursor) where.push(afterCursor([timestampKey(extractions.createdAt), extractions.id], decodeCursor(input.cursor, byNewest), "desc"));

  const rows = await ctx.db
    .select({ row: extractions, studentId: alertStudentIdSql, createdKey: timestampKey(extractions.createdAt) })
    .from(extractions)
    .innerJoin(groups, eq(groups.id, extractions.groupId))
    .leftJoin(sessions, eq(sessions.id, extractions.sessionId))
    .leftJoin(runs, eq(runs.id, extractions.runId))
    .where(and(...where))
    .orderBy(desc(extractions.createdAt), desc(extractions.id))
    .limit(input.limit + 1);
  const page = toPage(rows, input.limit, (r) => [r.createdKey, r.row.id]);
  return { items: page.items.map((r) => toAlertDto(r.row, r.studentId ?? null)), nextCursor: page.nextCursor };
}
