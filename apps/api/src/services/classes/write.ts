import { type ClassDto, type CreateClassBody, NotFoundError, type UpdateClassBody } from "@raptscallions/core";
import { classMembers, classes, type DbOrTx } from "@raptscallions/db";
import { eq } from "drizzle-orm";
import { assertAllowed, isAdminOver, policy } from "../../access/policy.ts";
import { recordAudit } from "../audit/record.ts";
import type { ServiceContext } from "../context.ts";
import { requireVisibleGroup } from "../groups/scope.ts";
import { requireVisibleClass, toClassDto } from "./scope.ts";

/**
 * Creates a class in a group. A teacher who creates one becomes its teacher (otherwise they
 * could not manage what they just made); an admin does not join it.
 */
export async function createClass({ ctx, input }: { ctx: ServiceContext; input: CreateClassBody }): Promise<ClassDto> {
  return ctx.db.transaction(async (tx) => {
    const group = await requireVisibleGroup({ db: tx, actor: ctx.actor }, input.groupId);
    assertAllowed(policy.canCreateClassIn(ctx.actor, group), "Only admins and teachers of this group may create classes in it");
    const [row] = await tx.insert(classes).values({ groupId: group.id, name: input.name, term: input.term ?? null }).returning();
    if (!row) throw new Error("insert returned no row");
    const joinsAsTeacher = !isAdminOver(ctx.actor, group.path);
    if (joinsAsTeacher) await tx.insert(classMembers).values({ classId: row.id, userId: ctx.actor.userId, role: "teacher" });
    await recordAudit(tx, ctx, {
      action: "class.create",
      targetType: "class",
      targetId: row.id,
      groupId: group.id,
      details: { name: row.name, term: row.term, creatorJoinedAsTeacher: joinsAsTeacher },
    });
    return toClassDto(row);
  });
}

/** The class if the actor may manage it: 404 when not visible, 403 when visible but not theirs to manage. */
export async function managedClass(ctx: ServiceContext, tx: DbOrTx, id: string) {
  const found = await requireVisibleClass({ db: tx, actor: ctx.actor }, id);
  assertAllowed(policy.canManageClass(ctx.actor, { id: found.cls.id, groupPath: found.groupPath }), "Only this class's teachers and admins may change it");
  return found;
}

export async function updateClass({ ctx, input }: { ctx: ServiceContext; input: { id: string; body: UpdateClassBody } }): Promise<ClassDto> {
  return ctx.db.transaction(async (tx) => {
    const { cls } = await managedClass(ctx, tx, input.id);
    const [row] = await tx.update(classes).set({ name: input.body.name, term: input.body.term }).where(eq(classes.id, cls.id)).returning();
    if (!row) throw new NotFoundError("Class");
    await recordAudit(tx, ctx, {
      action: "class.update",
      targetType: "class",
      targetId: cls.id,
      groupId: cls.groupId,
      details: { before: { name: cls.name, term: cls.term }, after: { name: row.name, term: row.term } },
    });
    return toClassDto(row);
  });
}

/** Archives a class (idempotent): it keeps its history but takes no new members or assignments. */
export async function archiveClass({ ctx, input }: { ctx: ServiceContext; input: { id: string } }): Promise<ClassDto> {
  return ctx.db.transaction(async (tx) => {
    const { cls } = await managedClass(ctx, tx, input.id);
    if (cls.archivedAt) return toClassDto(cls);
    const [row] = await tx.update(classes).set({ archivedAt: ctx.clock.now() }).where(eq(classes.id, cls.id)).returning();
    if (!row) throw new NotFoundError("Class");
    await recordAudit(tx, ctx, { action: "class.archive", targetType: "class", targetId: cls.id, groupId: cls.groupId });
    return toClassDto(row);
  });
}
