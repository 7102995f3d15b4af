import { UnauthenticatedError } from "@raptscallions/core";
import { type Db, groupMembers, groups, preparedOn, users } from "@raptscallions/db";
import { and, eq, isNull, sql } from "drizzle-orm";
import { isActiveUser } from "../../access/actor.ts";
import type { ProfileClaim, TokenIdentity } from "../../access/identity.ts";
import { normaliseOrgRole, type RoleMap } from "../../access/roles.ts";
import { adoptRosterUser } from "./adopt-roster-user.ts";

// Only the profile claims: a remembered token keeps no others (access/identity.ts).
function claimString(claims: Record<string, unknown>, key: ProfileClaim): string | null {
  const v = claims[key];
  return typeof v === "string" && v.length > 0 && v.length <= 320 ? v : null;
}

// Every authenticated request whose identity is not cached starts here: prepared once.
function prepareUserByClerkId(db: Db) {
  return db
    .select()
    .from(users)
    .where(eq(users.clerkUserId, sql.placeholder("clerkUserId")))
    .prepare("user_by_clerk_id");
}

function userByClerkId(db: Db, clerkUserId: string) {
  return preparedOn(db, "user_by_clerk_id", prepareUserByClerkId).execute({ clerkUserId });
}

/**
 * Finds the database user for a verified token, creating a `pending` one when Clerk knows the
 * user but the webhook has not arrived yet; the webhook later fills in the profile (it wins by
 * `updated_at`). The token's organisation resolves to its group; a membership the token proves
 * is recorded when none is known, never overriding or resurrecting what webhooks wrote.
 */
export async function provisionFromToken(db: Db, identity: TokenIdentity, roleMap: RoleMap): Promise<{ userId: string; activeGroupId: string | null }> {
  let [user] = await userByClerkId(db, identity.clerkUserId);
  if (!user && (await adoptRosterUser(db, { clerkUserId: identity.clerkUserId, email: claimString(identity.claims, "email") }))) {
    [user] = await userByClerkId(db, identity.clerkUserId);
  }
  if (!user) {
    const c = identity.claims;
    const given = claimString(c, "given_name") ?? claimString(c, "first_name");
    const family = claimString(c, "family_name") ?? claimString(c, "last_name");
    await db
      .insert(users)
      .values({
        clerkUserId: identity.clerkUserId,
        status: "pending",
        email: claimString(c, "email"),
        givenName: given,
        familyName: family,
        name: claimString(c, "name") ?? ([given, family].filter(Boolean).join(" ") || null),
        imageUrl: claimString(c, "picture") ?? claimString(c, "image_url"),
      })
      .onConflictDoNothing({ target: users.clerkUserId });
    [user] = await userByClerkId(db, identity.clerkUserId);
  }
  if (!user) throw new UnauthenticatedError("Could not resolve the signed-in user");
  if (!isActiveUser(user)) {
    throw new UnauthenticatedError("This account is no longer active", { reason: "user-inactive" });
  }

  let activeGroupId: string | null = null;
  if (identity.org) {
    const [group] = await db
      .select({ id: groups.id })
      .from(groups)
      .where(and(eq(groups.clerkOrgId, identity.org.id), isNull(groups.deletedAt)));
    if (group) {
      activeGroupId = group.id;
      await db
        .insert(groupMembers)
        .values({ groupId: group.id, userId: user.id, role: normaliseOrgRole(identity.org.role, roleMap) })
        .onConflictDoNothing();
    }
  }
  return { userId: user.id, activeGroupId };
}
