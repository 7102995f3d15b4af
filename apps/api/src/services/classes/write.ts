import type { ClassDto, CreateClassBody, UpdateClassBody } from "@raptscallions/core";
import type { DbOrTx } from "@raptscallions/db";
import { assertAllowed, isAdminOver, policy } from "../../access/policy.ts";
import type { ServiceContext } from "../context.ts";
import { requireVisibleGroup } from "../groups/scope.ts";
import { archiveClassCore, createClassCore, updateClassCore } from "./cores.ts";
import { requireVisibleClass, toClassDto } from "./scope.ts";

/*
 * A person's class writes: each checks what the actor may do, then calls the core (cores.ts),
 * in one transaction. Jobs and syncs call the cores directly with a system context.
 */

/**
 * Creates a class in a group. A teacher who creates one becomes its teacher (otherwise they
 * could not manage what they just made); an admin does not join it.
 */
export async function createClass({ ctx, input }: { ctx: ServiceContext; input: CreateClassBody }): Promise<ClassDto> {
  return ctx.db.transaction(async (tx) => {
    const group = await requireVisibleGroup({ db: tx, actor: ctx.actor }, input.groupId);
    assertAllowed(policy.canCreateClassIn(ctx.actor, group), "Only admins and teachers of this group may create classes in it");
    const joinsAsTeacher = !isAdminOver(ctx.actor, group.path);
    const row = await createClassCore(tx, ctx, {
      groupId: group.id,
      name: input.name,
      term: input.term ?? null,
      teacherId: joinsAsTeacher ? ctx.actor.userId : null,
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
    return toClassDto(await updateClassCore(tx, ctx, { id: cls.id, name: input.body.name, term: input.body.term }));
  });
}

/** Archives a class (idempotent): it keeps its history but takes no new members or assignments. */
export async function archiveClass({ ctx, input }: { ctx: ServiceContext; input: { id: string } }): Promise<ClassDto> {
  return ctx.db.transaction(async (tx) => {
    const { cls } = await managedClass(ctx, tx, input.id);
    return toClassDto(await archiveClassCore(tx, ctx, { id: cls.id }));
  });
}
