import { sql } from "drizzle-orm";
import { boolean, index, jsonb, pgTable, primaryKey, text, uniqueIndex, uuid, type AnyPgColumn } from "drizzle-orm/pg-core";
import { createdAt, id, ltree, timestamps, tstz } from "./columns.ts";

export const USER_STATUSES = ["active", "pending", "suspended", "deleted"] as const;
export const GROUP_ROLES = ["admin", "teacher", "member"] as const;
export type GroupRole = (typeof GROUP_ROLES)[number];

export const users = pgTable(
  "users",
  {
    id: id(),
    clerkUserId: text("clerk_user_id").unique(),
    email: text("email"),
    name: text("name"),
    givenName: text("given_name"),
    familyName: text("family_name"),
    imageUrl: text("image_url"),
    /** `pending` = known only from a membership or token, not yet from a user.* webhook. */
    status: text("status", { enum: USER_STATUSES }).notNull().default("active"),
    isSystemAdmin: boolean("is_system_admin").notNull().default(false),
    /** The Clerk `updated_at` last applied: later webhooks win, earlier ones are ignored. */
    clerkUpdatedAt: tstz("clerk_updated_at"),
    /** Tombstone: set by user.deleted; personal data is anonymised, learning records stay. */
    deletedAt: tstz("deleted_at"),
    /** The student information system's id for the person (OneRoster `identifier`), set by a roster sync. */
    sisId: text("sis_id"),
    /** Under 13 according to Clerk (`public_metadata.under13`); null when Clerk has not said. */
    under13Clerk: boolean("under13_clerk"),
    /** Under 13 according to a roster sync (the OneRoster user's grades); null when no roster said. */
    under13Roster: boolean("under13_roster"),
    /** Either source says under 13: no chat text leaves the app, and stricter retention applies. */
    under13: boolean("under13").notNull().generatedAlwaysAs(sql`coalesce(under13_clerk, false) or coalesce(under13_roster, false)`),
    /** Set when an admin erased the person (see docs/privacy.md): the row is a nameless tombstone. */
    erasedAt: tstz("erased_at"),
    ...timestamps(),
  },
  (t) => [index("users_email_idx").on(t.email), index("users_email_lower_idx").on(sql`lower(${t.email})`), index("users_sis_id_idx").on(t.sisId)],
);

export const groups = pgTable(
  "groups",
  {
    id: id(),
    parentId: uuid("parent_id").references((): AnyPgColumn => groups.id, { onDelete: "restrict" }),
    /** Materialised path of ids from the root, for subtree/ancestor queries with GiST. */
    path: ltree("path").notNull(),
    name: text("name").notNull(),
    slug: text("slug").notNull(),
    kind: text("kind", { enum: ["district", "school", "department", "organization"] })
      .notNull()
      .default("organization"),
    clerkOrgId: text("clerk_org_id").unique(),
    /**
     * The parent organisation named in Clerk's public_metadata, kept even while that parent is
     * unknown here, so the group can be re-parented when the parent's webhook arrives.
     */
    clerkParentOrgId: text("clerk_parent_org_id"),
    /** The slug Clerk gives the organisation; `slug` differs when another group holds it. */
    clerkSlug: text("clerk_slug"),
    clerkUpdatedAt: tstz("clerk_updated_at"),
    deletedAt: tstz("deleted_at"),
    /**
     * The OneRoster org this group stands for: set by a roster sync on groups it creates, or from
     * the Clerk organisation's `public_metadata.sourcedId`, so a sync matches that group instead of
     * creating a second one.
     */
    sisSourcedId: text("sis_sourced_id"),
    /** The roster connection that created the group (null: Clerk or a person made it). */
    rosterConnectionId: uuid("roster_connection_id"),
    settings: jsonb("settings").$type<Record<string, unknown>>().notNull().default({}),
    theme: jsonb("theme").$type<Record<string, unknown> | null>(),
    ...timestamps(),
  },
  (t) => [
    uniqueIndex("groups_slug_key").on(t.slug),
    index("groups_parent_idx").on(t.parentId),
    index("groups_clerk_parent_idx").on(t.clerkParentOrgId),
    index("groups_clerk_slug_idx").on(t.clerkSlug),
    index("groups_path_gist").using("gist", t.path),
    index("groups_sis_sourced_idx").on(t.sisSourcedId),
  ],
);

export const groupMembers = pgTable(
  "group_members",
  {
    groupId: uuid("group_id")
      .notNull()
      .references(() => groups.id, { onDelete: "cascade" }),
    userId: uuid("user_id")
      .notNull()
      .references(() => users.id, { onDelete: "cascade" }),
    role: text("role", { enum: GROUP_ROLES }).notNull(),
    clerkMembershipId: text("clerk_membership_id"),
    clerkUpdatedAt: tstz("clerk_updated_at"),
    /** Tombstone for organizationMembership.deleted so a late update cannot resurrect it. */
    deletedAt: tstz("deleted_at"),
    createdAt: createdAt(),
  },
  (t) => [
    primaryKey({ columns: [t.groupId, t.userId] }),
    index("group_members_user_idx").on(t.userId).where(sql`${t.deletedAt} is null`),
    // Row-level security asks per person whether they belong (or belonged) to a district.
    index("group_members_user_all_idx").on(t.userId),
  ],
);
