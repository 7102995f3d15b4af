import { type AssignmentDto, NotFoundError } from "@raptscallions/core";
import { assignments, classes, type DbOrTx, groups } from "@raptscallions/db";
import { eq } from "drizzle-orm";
import type { Actor } from "../../access/actor.ts";
import { policy } from "../../access/policy.ts";
import { iso } from "../query-helpers.ts";

export type AssignmentRow = typeof assignments.$inferSelect;
export interface LoadedAssignment {
  assignment: AssignmentRow;
  groupId: string;
  groupPath: string;
  classArchivedAt: Date | null;
}

export async function loadAssignment(db: DbOrTx, id: string): Promise<LoadedAssignment | undefined> {
  const [row] = await db
    .select({ assignment: assignments, groupId: classes.groupId, groupPath: groups.path, classArchivedAt: classes.archivedAt })
    .from(assignments)
    .innerJoin(classes, eq(classes.id, assignments.classId))
    .innerJoin(groups, eq(groups.id, classes.groupId))
    .where(eq(assignments.id, id));
  return row;
}

/** The assignment if the actor may see it now (students: once available); otherwise 404. */
export async function requireVisibleAssignment(ctx: { db: DbOrTx; actor: Actor; clock: { now(): Date } }, id: string) {
  const found = await loadAssignment(ctx.db, id);
  const visible =
    found !== undefined &&
    policy.canViewAssignment(ctx.actor, { classId: found.assignment.classId, groupPath: found.groupPath, availableAt: found.assignment.availableAt }, ctx.clock.now());
  if (!visible || !found) throw new NotFoundError("Assignment");
  return found;
}

export function toAssignmentDto(a: AssignmentRow): AssignmentDto {
  return {
    id: a.id,
    classId: a.classId,
    toolId: a.toolId,
    toolVersion: a.toolVersion,
    title: a.title,
    instructions: a.instructions,
    availableAt: iso(a.availableAt),
    dueAt: iso(a.dueAt),
    closeAt: iso(a.closeAt),
    maxAttempts: a.maxAttempts,
    timeLimitMinutes: a.timeLimitMinutes,
    settings: a.settings,
    createdBy: a.createdBy,
    createdAt: iso(a.createdAt),
    updatedAt: iso(a.updatedAt),
  };
}
