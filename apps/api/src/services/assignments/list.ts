import { type AssignmentDto, cursorParts, decodeCursor, type Page, type PageQuery, toPage } from "@raptscallions/core";
import { assignments } from "@raptscallions/db";
import { and, asc, eq, isNull, lte, or, type SQL } from "drizzle-orm";
import { z } from "zod";
import { policy } from "../../access/policy.ts";
import { requireVisibleClass } from "../classes/scope.ts";
import type { ServiceContext } from "../context.ts";
import { afterCursor, timestampKey } from "../query-helpers.ts";
import { requireVisibleAssignment, toAssignmentDto } from "./scope.ts";

const byCreated = z.tuple([cursorParts.timestamp, cursorParts.uuid]);

/** A class's assignments, oldest first: all for its staff, the available ones for students. */
export async function listAssignments({ ctx, input }: { ctx: ServiceContext; input: { classId: string } & PageQuery }): Promise<Page<AssignmentDto>> {
  const { cls, groupPath } = await requireVisibleClass(ctx, input.classId);
  const where: (SQL | undefined)[] = [eq(assignments.classId, cls.id)];
  if (!policy.canManageClass(ctx.actor, { id: cls.id, groupPath })) {
    where.push(or(isNull(assignments.availableAt), lte(assignments.availableAt, ctx.clock.now())));
  }
  if (input.cursor) where.push(afterCursor([assignments.createdAt, assignments.id], decodeCursor(input.cursor, byCreated)));
  const rows = await ctx.db
    .select({ assignment: assignments, key: timestampKey(assignments.createdAt) })
    .from(assignments)
    .where(and(...where))
    .orderBy(asc(assignments.createdAt), asc(assignments.id))
    .limit(input.limit + 1);
  const page = toPage(rows, input.limit, (r) => [r.key, r.assignment.id]);
  return { items: page.items.map((r) => toAssignmentDto(r.assignment)), nextCursor: page.nextCursor };
}

export async function getAssignment({ ctx, input }: { ctx: ServiceContext; input: { id: string } }): Promise<AssignmentDto> {
  const { assignment } = await requireVisibleAssignment(ctx, input.id);
  return toAssignmentDto(assignment);
}
