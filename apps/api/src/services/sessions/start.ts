import { AppError, NotFoundError } from "@raptscallions/core";
import { assignments, classes, groups, sessions, tools } from "@raptscallions/db";
import { eq } from "drizzle-orm";
import { assertAllowed, assertVisible, policy } from "../../access/policy.ts";
import type { ServiceContext } from "../context.ts";
import { classRoom, publishBestEffort } from "../rooms.ts";
import { createSubmissionAttempt } from "../submissions/create-attempt.ts";
import { toSessionDto } from "./dto.ts";

export type StartSessionInput =
  | { toolId: string; classId?: string | undefined; assignmentId?: undefined; title?: string | undefined }
  | { assignmentId: string; toolId?: undefined; classId?: undefined; title?: string | undefined };

/**
 * A student starts a chat: with a tool they may use (optionally in one of their classes), or from
 * an assignment — which pins the assignment's tool version and respects its available/close times
 * and max attempts (each start is a new attempt, recorded as an in-progress submission).
 */
export async function startSession({ ctx, input }: { ctx: ServiceContext; input: StartSessionInput }) {
  const now = ctx.clock.now();
  const created = await ctx.db.transaction(async (tx) => {
    if (input.assignmentId) {
      const [row] = await tx
        .select({ a: assignments, classGroupId: classes.groupId, groupPath: groups.path })
        .from(assignments)
        .innerJoin(classes, eq(classes.id, assignments.classId))
        .innerJoin(groups, eq(groups.id, classes.groupId))
        .where(eq(assignments.id, input.assignmentId));
      if (!row) throw new NotFoundError("Assignment");
      assertVisible(policy.canViewClass(ctx.actor, { id: row.a.classId, groupPath: row.groupPath }), "Assignment");
      assertAllowed(policy.isStudentOf(ctx.actor, row.a.classId), "Only students of the class can start this assignment");
      const a = row.a;
      const [session] = await tx
        .insert(sessions)
        .values({
          toolId: a.toolId,
          toolVersion: a.toolVersion,
          studentId: ctx.actor.userId,
          groupId: row.classGroupId,
          classId: a.classId,
          assignmentId: a.id,
          title: input.title ?? a.title,
          startedAt: now,
        })
        .returning();
      if (!session) throw new AppError("INTERNAL", "insert returned nothing");
      // Window, attempts (under the assignment row lock) and the in-progress submission; a refusal
      // rolls the session back with it.
      await createSubmissionAttempt(tx, ctx, { assignmentId: a.id, studentId: ctx.actor.userId, sessionId: session.id, now });
      return session;
    }

    const toolId = input.toolId;
    if (!toolId) throw new AppError("VALIDATION_FAILED", "toolId or assignmentId is required");
    const [tool] = await tx.select({ t: tools, groupPath: groups.path }).from(tools).innerJoin(groups, eq(groups.id, tools.groupId)).where(eq(tools.id, toolId));
    if (!tool || tool.t.archivedAt) throw new NotFoundError("Tool");
    assertVisible(policy.canUseTool(ctx.actor, { groupPath: tool.groupPath, createdBy: tool.t.createdBy }), "Tool");
    if (tool.t.kind !== "chat") throw new AppError("VALIDATION_FAILED", "Only chat tools start sessions");
    let groupId = tool.t.groupId;
    let classId: string | null = null;
    if (input.classId) {
      const membership = ctx.actor.classRoles.get(input.classId);
      assertVisible(membership !== undefined, "Class");
      assertAllowed(membership?.role === "student", "Only students of the class start sessions in it");
      classId = input.classId;
      groupId = membership?.groupId ?? groupId;
    }
    const [session] = await tx
      .insert(sessions)
      .values({
        toolId: tool.t.id,
        toolVersion: tool.t.latestVersion,
        studentId: ctx.actor.userId,
        groupId,
        classId,
        title: input.title ?? tool.t.name,
        startedAt: now,
      })
      .returning();
    if (!session) throw new AppError("INTERNAL", "insert returned nothing");
    return session;
  });

  const dto = toSessionDto(created);
  if (created.classId) {
    await publishBestEffort(ctx.bus, ctx.logger, classRoom(created.classId), "session.started", { session: dto });
  }
  return dto;
}
