import { type AssignmentDto, ConflictError, type CreateAssignmentBody, NotFoundError, type UpdateAssignmentBody, ValidationError } from "@raptscallions/core";
import { assignments, type DbOrTx, submissions, toolVersions } from "@raptscallions/db";
import { and, count, eq } from "drizzle-orm";
import { assertAllowed, policy } from "../../access/policy.ts";
import { recordAudit } from "../audit/record.ts";
import { managedClass } from "../classes/write.ts";
import type { ServiceContext } from "../context.ts";
import { requireUsableTool, toolRef } from "../tools/scope.ts";
import { requireVisibleAssignment, toAssignmentDto } from "./scope.ts";

const toDate = (v: string | null | undefined) => (v === undefined ? undefined : v === null ? null : new Date(v));

/** availableAt ≤ dueAt ≤ closeAt, for whichever of them are set. */
function checkSchedule(s: { availableAt: Date | null; dueAt: Date | null; closeAt: Date | null }) {
  const issues: { path: string; message: string; code: string }[] = [];
  if (s.availableAt && s.dueAt && s.dueAt < s.availableAt) issues.push({ path: "dueAt", message: "dueAt is before availableAt", code: "schedule_order" });
  if (s.availableAt && s.closeAt && s.closeAt < s.availableAt) issues.push({ path: "closeAt", message: "closeAt is before availableAt", code: "schedule_order" });
  if (s.dueAt && s.closeAt && s.closeAt < s.dueAt) issues.push({ path: "closeAt", message: "closeAt is before dueAt", code: "schedule_order" });
  if (issues.length > 0) throw new ValidationError("The assignment's dates are out of order", issues);
}

async function requireVersion(tx: DbOrTx, toolId: string, version: number) {
  const [row] = await tx
    .select({ version: toolVersions.version })
    .from(toolVersions)
    .where(and(eq(toolVersions.toolId, toolId), eq(toolVersions.version, version)));
  if (!row) throw new ValidationError(`The tool has no version ${version}`, [{ path: "toolVersion", message: "No such version", code: "unknown_version" }]);
}

/** Creates an assignment pinned to a tool version (the latest unless one is named). */
export async function createAssignment({ ctx, input }: { ctx: ServiceContext; input: { classId: string; body: CreateAssignmentBody } }): Promise<AssignmentDto> {
  const { body } = input;
  return ctx.db.transaction(async (tx) => {
    const { cls, groupPath } = await managedClass(ctx, tx, input.classId);
    if (cls.archivedAt) throw new ConflictError("This class is archived");
    const found = await requireUsableTool({ db: tx, actor: ctx.actor }, body.toolId);
    if (!policy.isToolUsableInGroup(toolRef(found), groupPath)) {
      throw new ValidationError("This tool belongs to a group outside this class's chain", [
        { path: "toolId", message: "Tool not usable in this class", code: "tool_out_of_scope" },
      ]);
    }
    if (found.tool.archivedAt) throw new ValidationError("This tool is archived", [{ path: "toolId", message: "Tool is archived", code: "tool_archived" }]);
    const toolVersion = body.toolVersion ?? found.tool.latestVersion;
    await requireVersion(tx, found.tool.id, toolVersion);
    const schedule = { availableAt: toDate(body.availableAt) ?? null, dueAt: toDate(body.dueAt) ?? null, closeAt: toDate(body.closeAt) ?? null };
    checkSchedule(schedule);
    const [row] = await tx
      .insert(assignments)
      .values({
        classId: cls.id,
        toolId: found.tool.id,
        toolVersion,
        title: body.title,
        instructions: body.instructions,
        ...schedule,
        maxAttempts: body.maxAttempts ?? null,
        timeLimitMinutes: body.timeLimitMinutes ?? null,
        settings: body.settings,
        createdBy: ctx.actor.userId,
      })
      .returning();
    if (!row) throw new Error("insert returned no row");
    await recordAudit(tx, ctx, {
      action: "assignment.create",
      targetType: "assignment",
      targetId: row.id,
      groupId: cls.groupId,
      details: { classId: cls.id, title: row.title, toolId: row.toolId, toolVersion: row.toolVersion },
    });
    return toAssignmentDto(row);
  });
}

/** The assignment if the actor may change it: 404 when they cannot see it, 403 when they only may read it. */
async function managedAssignment(ctx: ServiceContext, tx: DbOrTx, id: string) {
  const found = await requireVisibleAssignment({ db: tx, actor: ctx.actor, clock: ctx.clock }, id);
  assertAllowed(
    policy.canManageClass(ctx.actor, { id: found.assignment.classId, groupPath: found.groupPath }),
    "Only this class's teachers and admins may change its assignments",
  );
  return found;
}

export async function updateAssignment({ ctx, input }: { ctx: ServiceContext; input: { id: string; body: UpdateAssignmentBody } }): Promise<AssignmentDto> {
  const { body } = input;
  return ctx.db.transaction(async (tx) => {
    const { assignment: before, groupId } = await managedAssignment(ctx, tx, input.id);
    if (body.toolVersion !== undefined) await requireVersion(tx, before.toolId, body.toolVersion);
    const schedule = {
      availableAt: toDate(body.availableAt) ?? (body.availableAt === null ? null : before.availableAt),
      dueAt: toDate(body.dueAt) ?? (body.dueAt === null ? null : before.dueAt),
      closeAt: toDate(body.closeAt) ?? (body.closeAt === null ? null : before.closeAt),
    };
    checkSchedule(schedule);
    const [row] = await tx
      .update(assignments)
      .set({
        title: body.title,
        instructions: body.instructions,
        ...schedule,
        maxAttempts: body.maxAttempts,
        timeLimitMinutes: body.timeLimitMinutes,
        settings: body.settings,
        toolVersion: body.toolVersion,
      })
      .where(eq(assignments.id, before.id))
      .returning();
    if (!row) throw new NotFoundError("Assignment");
    await recordAudit(tx, ctx, {
      action: "assignment.update",
      targetType: "assignment",
      targetId: row.id,
      groupId,
      details: {
        classId: row.classId,
        fields: Object.keys(body),
        toolVersion: body.toolVersion === undefined ? undefined : { from: before.toolVersion, to: row.toolVersion },
      },
    });
    return toAssignmentDto(row);
  });
}

/** Deletes an assignment nobody has attempted yet; with submissions it would destroy student work (409). */
export async function deleteAssignment({ ctx, input }: { ctx: ServiceContext; input: { id: string } }): Promise<void> {
  await ctx.db.transaction(async (tx) => {
    const { assignment, groupId } = await managedAssignment(ctx, tx, input.id);
    // The same row lock a starting attempt takes, so no submission slips in between count and delete.
    await tx.select({ id: assignments.id }).from(assignments).where(eq(assignments.id, assignment.id)).for("update");
    const [{ n } = { n: 0 }] = await tx.select({ n: count() }).from(submissions).where(eq(submissions.assignmentId, assignment.id));
    if (n > 0) throw new ConflictError("This assignment has submissions and cannot be deleted", { submissions: n });
    await tx.delete(assignments).where(eq(assignments.id, assignment.id));
    await recordAudit(tx, ctx, {
      action: "assignment.delete",
      targetType: "assignment",
      targetId: assignment.id,
      groupId,
      details: { classId: assignment.classId, title: assignment.title },
    });
  });
}
