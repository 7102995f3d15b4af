import { ConflictError, type CreateGroupBody, type GroupDto, NotFoundError, type UpdateGroupBody } from "@raptscallions/core";
import { groupPath, groups } from "@raptscallions/db";
import { eq } from "drizzle-orm";
import { assertAllowed, policy } from "../../access/policy.ts";
import { recordAudit } from "../audit/record.ts";
import type { ServiceContext } from "../context.ts";
import { assertValidModuleSettings } from "../module-settings.ts";
import { isUniqueViolation } from "../query-helpers.ts";
import { toGroupDto } from "./dto.ts";
import { requireVisibleGroup } from "./scope.ts";

const slugTaken = (slug: string) => new ConflictError(`The slug "${slug}" is already used by another group`, { field: "slug" });

/** A child of a group the actor administers, or (system admins only) a new root. */
export async function createGroup({ ctx, input }: { ctx: ServiceContext; input: CreateGroupBody }): Promise<GroupDto> {
  checkModuleSettings(input.settings);
  try {
    return await ctx.db.transaction(async (tx) => {
      let parentPath: string | null = null;
      if (input.parentId) {
        const parent = await requireVisibleGroup({ db: tx, actor: ctx.actor }, input.parentId);
        assertAllowed(policy.canCreateGroupUnder(ctx.actor, parent), "Only admins of the parent group may add groups under it");
        parentPath = parent.path;
      } else {
        assertAllowed(policy.canCreateGroupUnder(ctx.actor, null), "Only system admins may create root groups");
      }
      const id = ctx.ids.uuid();
      const [row] = await tx
        .insert(groups)
        .values({
          id,
          parentId: input.parentId,
          path: groupPath(id, parentPath),
          name: input.name,
          slug: input.slug,
          kind: input.kind,
          settings: input.settings,
        })
        .returning();
      if (!row) throw new Error("insert returned no row");
      await recordAudit(tx, ctx, {
        action: "group.create",
        targetType: "group",
        targetId: row.id,
        groupId: row.id,
        details: { name: row.name, slug: row.slug, kind: row.kind, parentId: row.parentId },
      });
      return toGroupDto(row);
    });
  } catch (err) {
    if (isUniqueViolation(err)) throw slugTaken(input.slug);
    throw err;
  }
}

/** Module settings inherited down the tree are checked when saved, not when a chat turn reads them. */
function checkModuleSettings(settings: Record<string, unknown> | undefined) {
  if (settings && "modules" in settings) assertValidModuleSettings(settings.modules);
}

/** Renames, re-slugs or replaces the settings of a group the actor administers. */
export async function updateGroup({ ctx, input }: { ctx: ServiceContext; input: { id: string; body: UpdateGroupBody } }): Promise<GroupDto> {
  const { body } = input;
  checkModuleSettings(body.settings);
  try {
    return await ctx.db.transaction(async (tx) => {
      const group = await requireVisibleGroup({ db: tx, actor: ctx.actor }, input.id);
      assertAllowed(policy.canManageGroup(ctx.actor, group), "Only admins of this group may change it");
      const [row] = await tx
        .update(groups)
        .set({ name: body.name, slug: body.slug, settings: body.settings })
        .where(eq(groups.id, group.id))
        .returning();
      // Groups are never deleted (tombstones), and this one was just read in this transaction: an
      // UPDATE that returns no row is a database fault, never "not found" (a 404 here once hid an
      // embedded-database crash and dropped the change silently).
      if (!row) throw new Error("UPDATE groups … RETURNING returned no row for a group read in the same transaction");
      const changes: Record<string, unknown> = {};
      if (body.name !== undefined && body.name !== group.name) changes.name = { from: group.name, to: body.name };
      if (body.slug !== undefined && body.slug !== group.slug) changes.slug = { from: group.slug, to: body.slug };
      if (body.settings !== undefined) changes.settings = { keys: Object.keys(body.settings) };
      await recordAudit(tx, ctx, { action: "group.update", targetType: "group", targetId: group.id, groupId: group.id, details: changes });
      return toGroupDto(row);
    });
  } catch (err) {
    if (isUniqueViolation(err) && body.slug) throw slugTaken(body.slug);
    throw err;
  }
}

