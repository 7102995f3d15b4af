import { ConflictError, type CreateGroupBody, type GroupDto, type UpdateGroupBody } from "@raptscallions/core";
import { assertAllowed, policy } from "../../access/policy.ts";
import type { ServiceContext } from "../context.ts";
import { isUniqueViolation } from "../query-helpers.ts";
import { checkModuleSettings, createGroupCore, updateGroupCore } from "./cores.ts";
import { toGroupDto } from "./dto.ts";
import { requireVisibleGroup } from "./scope.ts";

const slugTaken = (slug: string) => new ConflictError(`The slug "${slug}" is already used by another group`, { field: "slug" });

/** A child of a group the actor administers, or (system admins only) a new root. */
export async function createGroup({ ctx, input }: { ctx: ServiceContext; input: CreateGroupBody }): Promise<GroupDto> {
  // Before any permission check, as before the split: bad settings are a 400 whoever sends them.
  checkModuleSettings(input.settings);
  try {
    return await ctx.db.transaction(async (tx) => {
      if (input.parentId) {
        const parent = await requireVisibleGroup({ db: tx, actor: ctx.actor }, input.parentId);
        assertAllowed(policy.canCreateGroupUnder(ctx.actor, parent), "Only admins of the parent group may add groups under it");
      } else {
        assertAllowed(policy.canCreateGroupUnder(ctx.actor, null), "Only system admins may create root groups");
      }
      const row = await createGroupCore(tx, ctx, {
        parentId: input.parentId ?? null,
        name: input.name,
        slug: input.slug,
        kind: input.kind,
        settings: input.settings,
      });
      return toGroupDto(row);
    });
  } catch (err) {
    if (isUniqueViolation(err)) throw slugTaken(input.slug);
    throw err;
  }
}

/** Renames, re-slugs or replaces the settings of a group the actor administers. */
export async function updateGroup({ ctx, input }: { ctx: ServiceContext; input: { id: string; body: UpdateGroupBody } }): Promise<GroupDto> {
  const { body } = input;
  checkModuleSettings(body.settings, { allowRedacted: true });
  try {
    return await ctx.db.transaction(async (tx) => {
      const group = await requireVisibleGroup({ db: tx, actor: ctx.actor }, input.id);
      assertAllowed(policy.canManageGroup(ctx.actor, group), "Only admins of this group may change it");
      return toGroupDto(await updateGroupCore(tx, ctx, { id: group.id, name: body.name, slug: body.slug, settings: body.settings }));
    });
  } catch (err) {
    if (isUniqueViolation(err) && body.slug) throw slugTaken(body.slug);
    throw err;
  }
}
