import { ConflictError, NotFoundError } from "@raptscallions/core";
import { type DbOrTx, type GroupRole, groupMembers, groupPath, groups, users } from "@raptscallions/db";
import { and, eq, isNull } from "drizzle-orm";
import { recordAudit } from "../audit/record.ts";
import type { Principal, ServiceContext } from "../context.ts";
import { loadLiveUser } from "../users/live-user.ts";
import { assertValidModuleSettings } from "../module-settings.ts";
import { assertValidNotificationSettings, restoreNotificationSecrets } from "./notification-config.ts";
import { loadGroup } from "./scope.ts";
import { assertValidPrivacySettings } from "./privacy-config.ts";

/*
 * Group and group-membership writes without a person's permission check (see classes/cores.ts
 * for the pattern): write.ts and members.ts check their actor, then call these; a job or sync
 * calls them with a system context. They run in the caller's transaction; a slug or membership
 * that already exists makes the insert fail with a unique violation, which aborts that
 * transaction — callers translate it (`isUniqueViolation`) once the transaction has ended.
 */

/** Module, notification and privacy settings inherited down the tree are checked when saved, not when a chat turn reads them. */
export function checkModuleSettings(settings: Record<string, unknown> | undefined, opts: { allowRedacted?: boolean } = {}) {
  if (settings && "modules" in settings) assertValidModuleSettings(settings.modules);
  if (settings && "notifications" in settings) assertValidNotificationSettings(settings.notifications, opts);
  if (settings && "privacy" in settings) assertValidPrivacySettings(settings.privacy);
}

/** A group under a live parent, or a root when `parentId` is null. */
export async function createGroupCore(
  tx: DbOrTx,
  ctx: ServiceContext<Principal>,
  input: { parentId: string | null; name: string; slug: string; kind: (typeof groups.$inferInsert)["kind"]; settings?: Record<string, unknown> | undefined },
) {
  checkModuleSettings(input.settings);
  let parentPath: string | null = null;
  if (input.parentId) {
    const parent = await loadGroup(tx, input.parentId);
    if (!parent) throw new NotFoundError("Group");
    parentPath = parent.path;
  }
  const id = ctx.ids.uuid();
  const [row] = await tx
    .insert(groups)
    .values({ id, parentId: input.parentId, path: groupPath(id, parentPath), name: input.name, slug: input.slug, kind: input.kind, settings: input.settings })
    .returning();
  if (!row) throw new Error("insert returned no row");
  await recordAudit(tx, ctx, {
    action: "group.create",
    targetType: "group",
    targetId: row.id,
    groupId: row.id,
    details: { name: row.name, slug: row.slug, kind: row.kind, parentId: row.parentId },
  });
  return row;
}

/** Renames, re-slugs or replaces the settings of a live group (`undefined` leaves a field as it is). */
export async function updateGroupCore(
  tx: DbOrTx,
  ctx: ServiceContext<Principal>,
  input: { id: string; name?: string | undefined; slug?: string | undefined; settings?: Record<string, unknown> | undefined },
) {
  const group = await loadGroup(tx, input.id);
  if (!group) throw new NotFoundError("Group");
  const settings = restoreNotificationSecrets(input.settings, group.settings);
  checkModuleSettings(settings);
  const [row] = await tx.update(groups).set({ name: input.name, slug: input.slug, settings }).where(eq(groups.id, group.id)).returning();
  // Groups are never deleted (tombstones), and this one was just read in this transaction: an
  // UPDATE that returns no row is a database fault, never "not found" (a 404 here once hid an
  // embedded-database crash and dropped the change silently).
  if (!row) throw new Error("UPDATE groups … RETURNING returned no row for a group read in the same transaction");
  const changes: Record<string, unknown> = {};
  if (input.name !== undefined && input.name !== group.name) changes.name = { from: group.name, to: input.name };
  if (input.slug !== undefined && input.slug !== group.slug) changes.slug = { from: group.slug, to: input.slug };
  if (input.settings !== undefined) changes.settings = { keys: Object.keys(input.settings) };
  await recordAudit(tx, ctx, { action: "group.update", targetType: "group", targetId: group.id, groupId: group.id, details: changes });
  return row;
}

async function liveMembership(tx: DbOrTx, groupId: string, userId: string) {
  const [row] = await tx
    .select()
    .from(groupMembers)
    .where(and(eq(groupMembers.groupId, groupId), eq(groupMembers.userId, userId), isNull(groupMembers.deletedAt)));
  if (!row) throw new NotFoundError("Group member");
  return row;
}

/**
 * Makes a live user a member of a live group. A membership removed earlier (a tombstone) is
 * revived: calling this is an explicit decision, unlike a late Clerk webhook, which must not.
 */
export async function addGroupMemberCore(tx: DbOrTx, ctx: ServiceContext<Principal>, input: { groupId: string; userId: string; role: GroupRole }) {
  const group = await loadGroup(tx, input.groupId);
  if (!group) throw new NotFoundError("Group");
  const user = await loadLiveUser(tx, input.userId);
  const [existing] = await tx
    .select()
    .from(groupMembers)
    .where(and(eq(groupMembers.groupId, group.id), eq(groupMembers.userId, user.id)));
  if (existing && !existing.deletedAt) throw new ConflictError("This user is already a member of the group");
  const [member] = existing
    ? await tx
        .update(groupMembers)
        .set({ role: input.role, deletedAt: null, createdAt: ctx.clock.now() })
        .where(and(eq(groupMembers.groupId, group.id), eq(groupMembers.userId, user.id)))
        .returning()
    : await tx.insert(groupMembers).values({ groupId: group.id, userId: user.id, role: input.role }).returning();
  if (!member) throw new Error("membership write returned no row");
  await recordAudit(tx, ctx, {
    action: "group.member.add",
    targetType: "group_member",
    targetId: `${group.id}:${user.id}`,
    groupId: group.id,
    details: { userId: user.id, role: input.role },
  });
  return { member, user };
}

/**
 * Changes a live membership's role. `changed` tells the caller to publish a `role-changed`
 * revocation once its transaction has committed.
 */
export async function updateGroupMemberRoleCore(tx: DbOrTx, ctx: ServiceContext<Principal>, input: { groupId: string; userId: string; role: GroupRole }) {
  const before = await liveMembership(tx, input.groupId, input.userId);
  const [member] = await tx
    .update(groupMembers)
    .set({ role: input.role })
    .where(and(eq(groupMembers.groupId, input.groupId), eq(groupMembers.userId, input.userId)))
    .returning();
  const [user] = await tx.select().from(users).where(eq(users.id, input.userId));
  if (!member || !user) throw new NotFoundError("Group member");
  await recordAudit(tx, ctx, {
    action: "group.member.update",
    targetType: "group_member",
    targetId: `${input.groupId}:${input.userId}`,
    groupId: input.groupId,
    details: { userId: input.userId, role: { from: before.role, to: input.role } },
  });
  return { member, user, changed: before.role !== input.role };
}

/**
 * Removes a live membership as a tombstone, as the Clerk webhook does, so a late event cannot
 * revive it. The caller publishes a `membership-removed` revocation after its commit.
 */
export async function removeGroupMemberCore(tx: DbOrTx, ctx: ServiceContext<Principal>, input: { groupId: string; userId: string }) {
  const before = await liveMembership(tx, input.groupId, input.userId);
  await tx
    .update(groupMembers)
    .set({ deletedAt: ctx.clock.now() })
    .where(and(eq(groupMembers.groupId, input.groupId), eq(groupMembers.userId, input.userId)));
  await recordAudit(tx, ctx, {
    action: "group.member.remove",
    targetType: "group_member",
    targetId: `${input.groupId}:${input.userId}`,
    groupId: input.groupId,
    details: { userId: input.userId, role: before.role },
  });
  return before;
}
