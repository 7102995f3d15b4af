import type { ClerkMembership, ClerkUser } from "@raptscallions/core";
import { groupMembers, users } from "@raptscallions/db";
import { and, eq, isNull, sql } from "drizzle-orm";
import { adoptRosterUser } from "../users/adopt-roster-user.ts";
import type { Tx } from "./context.ts";

/** What a deleted user's row shows instead of their name. */
export const DELETED_USER_NAME = "Deleted user";

function text(v: string | null | undefined): string | null {
  const t = v?.trim();
  return t ? t : null;
}

/** The profile columns a Clerk user object maps to. */
export function userProfile(u: ClerkUser) {
  const emails = u.email_addresses ?? [];
  const primary = emails.find((e) => e.id && e.id === u.primary_email_address_id) ?? emails[0];
  const givenName = text(u.first_name);
  const familyName = text(u.last_name);
  return {
    email: text(primary?.email_address),
    name: [givenName, familyName].filter(Boolean).join(" ") || text(u.username),
    givenName,
    familyName,
    imageUrl: text(u.image_url) ?? text(u.profile_image_url),
    // Clerk's ban is the only suspension Clerk can tell us about; `locked` is a temporary lockout.
    status: u.banned ? ("suspended" as const) : ("active" as const),
    // Only an explicit `true` marks a child: the district's sign-up flow sets it (docs/privacy.md).
    under13Clerk: u.public_metadata?.under13 === true,
  };
}

/**
 * user.created / user.updated: last writer by `updated_at` wins; a deleted user stays deleted
 * (Clerk never reuses a user id, so nothing may bring the personal data back).
 * Returns whether the row changed.
 */
export async function upsertClerkUser(tx: Tx, u: ClerkUser): Promise<boolean> {
  const profile = userProfile(u);
  const version = new Date(u.updated_at);
  // A person the SIS rostered before they ever signed in: this event makes that row theirs.
  await adoptRosterUser(tx, { clerkUserId: u.id, email: profile.email });
  const rows = await tx
    .insert(users)
    .values({ clerkUserId: u.id, ...profile, clerkUpdatedAt: version })
    .onConflictDoUpdate({
      target: users.clerkUserId,
      set: { ...profile, clerkUpdatedAt: version },
      setWhere: sql`${users.deletedAt} is null and (${users.clerkUpdatedAt} is null or ${users.clerkUpdatedAt} < excluded.clerk_updated_at)`,
    })
    .returning({ id: users.id });
  return rows.length > 0;
}

/**
 * user.deleted: anonymise and tombstone (creating the tombstone if the user was never seen, so a
 * late user.created cannot bring them in), then tombstone their live memberships. Learning
 * records reference users.id and stay. The first deletion applied dates the tombstone.
 */
export async function deleteClerkUser(tx: Tx, clerkUserId: string, at: Date): Promise<boolean> {
  const anonymous = {
    email: null,
    name: DELETED_USER_NAME,
    givenName: null,
    familyName: null,
    imageUrl: null,
    status: "deleted" as const,
  };
  const rows = await tx
    .insert(users)
    .values({ clerkUserId, ...anonymous, deletedAt: at, clerkUpdatedAt: at })
    .onConflictDoUpdate({
      target: users.clerkUserId,
      set: { ...anonymous, deletedAt: at, clerkUpdatedAt: at },
      setWhere: sql`${users.deletedAt} is null`,
    })
    .returning({ id: users.id });
  const row = rows[0];
  if (!row) return false;
  // Memberships already tombstoned by their own delete event keep that event's date.
  await tx
    .update(groupMembers)
    .set({ deletedAt: at })
    .where(and(eq(groupMembers.userId, row.id), isNull(groupMembers.deletedAt)));
  return true;
}

/**
 * The user a membership names, creating a `pending` placeholder from `public_user_data` when the
 * user.* webhook has not arrived yet. The placeholder has no `clerkUpdatedAt`, so the first
 * user.* event replaces it whole; an existing row is never touched from here.
 */
export async function ensureMembershipUser(tx: Tx, data: ClerkMembership["public_user_data"]): Promise<{ id: string; deletedAt: Date | null; created: boolean }> {
  const givenName = text(data.first_name);
  const familyName = text(data.last_name);
  const identifier = text(data.identifier);
  if (identifier?.includes("@")) await adoptRosterUser(tx, { clerkUserId: data.user_id, email: identifier });
  const inserted = await tx
    .insert(users)
    .values({
      clerkUserId: data.user_id,
      status: "pending",
      givenName,
      familyName,
      name: [givenName, familyName].filter(Boolean).join(" ") || identifier,
      email: identifier?.includes("@") ? identifier : null,
      imageUrl: text(data.image_url) ?? text(data.profile_image_url),
    })
    .onConflictDoNothing({ target: users.clerkUserId })
    .returning({ id: users.id });
  const [row] = await tx.select({ id: users.id, deletedAt: users.deletedAt }).from(users).where(eq(users.clerkUserId, data.user_id));
  if (!row) throw new Error(`user ${data.user_id} vanished inside the webhook transaction`);
  return { ...row, created: inserted.length > 0 };
}
