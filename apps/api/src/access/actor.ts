import type { ClassRole, Db, GroupRole } from "@raptscallions/db";
import { classMembers, classes, groupMembers, groups, users } from "@raptscallions/db";
import { and, eq, isNull } from "drizzle-orm";

/** The signed-in user with every role they hold, loaded once per request or connection. */
export interface Actor {
  /** Tells a person apart from the system acting on its own (see `Principal` in services/context.ts). */
  kind: "user";
  userId: string;
  clerkUserId: string | null;
  isSystemAdmin: boolean;
  /** Live group memberships with the group's ltree path. */
  groupRoles: { groupId: string; path: string; role: GroupRole }[];
  /** Class memberships with the class's group path. */
  classRoles: Map<string, { role: ClassRole; groupId: string; groupPath: string }>;
  /** The group of the organisation active in the token, if any. */
  activeGroupId: string | null;
}

/**
 * Whether a user row may act at all: not deleted and not suspended (a Clerk ban). Every entry
 * point (REST tokens, ticket redemption, socket open, the live re-check) asks this one question.
 */
export function isActiveUser(user: { deletedAt: Date | null; status: string }): boolean {
  return user.deletedAt === null && user.status !== "deleted" && user.status !== "suspended";
}

/** The user's roles, or null when the user is unknown, deleted or suspended. */
export async function loadActor(db: Db, userId: string, activeGroupId: string | null = null): Promise<Actor | null> {
  const [user] = await db.select().from(users).where(eq(users.id, userId));
  if (!user || !isActiveUser(user)) return null;
  const memberships = await db
    .select({ groupId: groupMembers.groupId, role: groupMembers.role, path: groups.path })
    .from(groupMembers)
    .innerJoin(groups, eq(groups.id, groupMembers.groupId))
    .where(and(eq(groupMembers.userId, userId), isNull(groupMembers.deletedAt), isNull(groups.deletedAt)));
  const classRows = await db
    .select({ classId: classMembers.classId, role: classMembers.role, groupId: classes.groupId, groupPath: groups.path })
    .from(classMembers)
    .innerJoin(classes, eq(classes.id, classMembers.classId))
    .innerJoin(groups, eq(groups.id, classes.groupId))
    .where(eq(classMembers.userId, userId));
  return {
    kind: "user",
    userId: user.id,
    clerkUserId: user.clerkUserId,
    isSystemAdmin: user.isSystemAdmin,
    groupRoles: memberships,
    classRoles: new Map(classRows.map((r) => [r.classId, { role: r.role, groupId: r.groupId, groupPath: r.groupPath }])),
    activeGroupId,
  };
}
