import type { ClerkMembership } from "@raptscallions/core";
import { groupMembers } from "@raptscallions/db";
import { sql } from "drizzle-orm";
import { normaliseOrgRole } from "../../access/roles.ts";
import { applyOrgSnapshot, orgSnapshot } from "./clerk-orgs.ts";
import { ensureMembershipUser } from "./clerk-users.ts";
import type { Tx, WebhookContext } from "./context.ts";

function earliest(a: Date | null, b: Date | null): Date | null {
  if (!a || !b) return a ?? b;
  return a.getTime() <= b.getTime() ? a : b;
}

/**
 * organizationMembership.created / .updated / .deleted.
 *
 * The embedded organisation is a full snapshot with its own `updated_at`, so it is applied like an
 * organization.updated (creating the group when the organisation's own event has not arrived).
 * The user comes from `public_user_data` as a `pending` placeholder when unknown.
 *
 * The membership row is last-writer-wins by version (`updated_at`; a delete is dated by its event
 * time and wins a tie). Whatever wins, a membership of a deleted user or of a deleted organisation
 * stays tombstoned with the earlier of those deletion dates — the date in-order delivery gives it,
 * since the first deletion tombstones the live membership and the second finds it tombstoned —
 * and a late membership event cannot resurrect it.
 */
export async function applyMembership(ctx: WebhookContext, tx: Tx, m: ClerkMembership, tombstone: boolean, version: Date): Promise<boolean> {
  const { changed: orgChanged, group } = await applyOrgSnapshot(ctx, tx, orgSnapshot(m.organization));
  const user = await ensureMembershipUser(tx, m.public_user_data);

  const values = {
    groupId: group.id,
    userId: user.id,
    role: normaliseOrgRole(m.role, ctx.roleMap),
    clerkMembershipId: m.id,
    clerkUpdatedAt: version,
    deletedAt: tombstone ? version : earliest(user.deletedAt, group.deletedAt),
  };
  // Newer wins. On a tie only a delete applies, and only over a row that is not already this
  // delete's tombstone (deleted_at = clerk_updated_at marks a membership's own tombstone).
  const newer = sql`${groupMembers.clerkUpdatedAt} is null or ${groupMembers.clerkUpdatedAt} < excluded.clerk_updated_at`;
  const tieDelete = sql`(${groupMembers.clerkUpdatedAt} = excluded.clerk_updated_at and ${groupMembers.deletedAt} is distinct from excluded.deleted_at)`;
  const rows = await tx
    .insert(groupMembers)
    .values(values)
    .onConflictDoUpdate({
      target: [groupMembers.groupId, groupMembers.userId],
      set: {
        role: sql`excluded.role`,
        clerkMembershipId: sql`excluded.clerk_membership_id`,
        clerkUpdatedAt: sql`excluded.clerk_updated_at`,
        deletedAt: sql`excluded.deleted_at`,
      },
      setWhere: tombstone ? sql`${newer} or ${tieDelete}` : newer,
    })
    .returning({ groupId: groupMembers.groupId });
  return orgChanged || user.created || rows.length > 0;
}
