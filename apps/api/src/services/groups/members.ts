import { type AddGroupMemberBody, ConflictError, cursorParts, decodeCursor, type GroupMemberDto, type Page, type PageQuery, toPage } from "@raptscallions/core";
import { type DbOrTx, type GroupRole, groupMembers, users } from "@raptscallions/db";
import { and, asc, eq, isNull } from "drizzle-orm";
import { z } from "zod";
import { assertAllowed, policy } from "../../access/policy.ts";
import type { ServiceContext } from "../context.ts";
import { publishRevocation } from "../realtime/revocation.ts";
import { afterCursor, isUniqueViolation, timestampKey } from "../query-helpers.ts";
import { addGroupMemberCore, removeGroupMemberCore, updateGroupMemberRoleCore } from "./cores.ts";
import { toGroupMemberDto } from "./dto.ts";
import { requireUserInReach } from "./reach.ts";
import { requireVisibleGroup } from "./scope.ts";

const byCreated = z.tuple([cursorParts.timestamp, cursorParts.uuid]);

async function managedGroup(ctx: ServiceContext, db: DbOrTx, id: string) {
  const group = await requireVisibleGroup({ db, actor: ctx.actor }, id);
  assertAllowed(policy.canManageGroup(ctx.actor, group), "Only admins of this group may manage its members");
  return group;
}

/** Members of a group (not of its subtree), oldest first. Admins of the group only. */
export async function listGroupMembers({ ctx, input }: { ctx: ServiceContext; input: { id: string } & PageQuery }): Promise<Page<GroupMemberDto>> {
  const group = await managedGroup(ctx, ctx.db, input.id);
  const where = [eq(groupMembers.groupId, group.id), isNull(groupMembers.deletedAt)];
  if (input.cursor) where.push(afterCursor([groupMembers.createdAt, groupMembers.userId], decodeCursor(input.cursor, byCreated)));
  const rows = await ctx.db
    .select({ member: groupMembers, user: users, key: timestampKey(groupMembers.createdAt) })
    .from(groupMembers)
    .innerJoin(users, eq(users.id, groupMembers.userId))
    .where(and(...where))
    .orderBy(asc(groupMembers.createdAt), asc(groupMembers.userId))
    .limit(input.limit + 1);
  const page = toPage(rows, input.limit, (r) => [r.key, r.member.userId]);
  return { items: page.items.map((r) => toGroupMemberDto(r.member, r.user)), nextCursor: page.nextCursor };
}

/**
 * Adds a user the group may reach (someone already in its district; see reach.ts) to a group,
 * reviving a removed membership (see `addGroupMemberCore`).
 */
export async function addGroupMember({ ctx, input }: { ctx: ServiceContext; input: { id: string; body: AddGroupMemberBody } }): Promise<GroupMemberDto> {
  const { userId, role } = input.body;
  try {
    return await ctx.db.transaction(async (tx) => {
      const group = await managedGroup(ctx, tx, input.id);
      const user = await requireUserInReach(tx, ctx.actor, userId, group.path);
      const { member } = await addGroupMemberCore(tx, ctx, { groupId: group.id, userId: user.id, role });
      return toGroupMemberDto(member, user);
    });
  } catch (err) {
    if (isUniqueViolation(err)) throw new ConflictError("This user is already a member of the group");
    throw err;
  }
}

export async function updateGroupMemberRole({ ctx, input }: { ctx: ServiceContext; input: { id: string; userId: string; role: GroupRole } }): Promise<GroupMemberDto> {
  const updated = await ctx.db.transaction(async (tx) => {
    const group = await managedGroup(ctx, tx, input.id);
    return updateGroupMemberRoleCore(tx, ctx, { groupId: group.id, userId: input.userId, role: input.role });
  });
  if (updated.changed) await publishRevocation(ctx, { userId: input.userId, reason: "role-changed", groupId: input.id });
  return toGroupMemberDto(updated.member, updated.user);
}

/** Removes a membership as a tombstone, as the Clerk webhook does, so a late event cannot revive it. */
export async function removeGroupMember({ ctx, input }: { ctx: ServiceContext; input: { id: string; userId: string } }): Promise<void> {
  await ctx.db.transaction(async (tx) => {
    const group = await managedGroup(ctx, tx, input.id);
    await removeGroupMemberCore(tx, ctx, { groupId: group.id, userId: input.userId });
  });
  await publishRevocation(ctx, { userId: input.userId, reason: "membership-removed", groupId: input.id });
}
