import { AppError } from "@raptscallions/core";
import { classMembers, classes, type DbOrTx, groupMembers, groups, users } from "@raptscallions/db";
import { and, eq, isNull, sql } from "drizzle-orm";
import type { Actor } from "../../access/actor.ts";

/** The root of a group's tree (its district): the first label of its ltree path. */
function rootOf(groupPath: string): string {
  return groupPath.split(".")[0] ?? groupPath;
}

function notInReach(userId: string): AppError {
  return new AppError("USER_NOT_IN_REACH", "Only people who already belong somewhere in this group's district can be enrolled", { details: { userId } });
}

/**
 * The user, if a group at `groupPath` may enrol them (as a group member or into one of its
 * classes): a live user with a live membership of a live group, or a class membership, anywhere
 * in the tree under the same root (the district). System admins may enrol any live user. People
 * join a district through its Clerk organisations (or a system admin), never by an id typed in
 * elsewhere. Unknown, deleted and out-of-reach users are refused alike, so the refusal tells the
 * caller nothing about who the id belongs to.
 */
export async function requireUserInReach(db: DbOrTx, actor: Actor, userId: string, groupPath: string) {
  const [user] = await db
    .select()
    .from(users)
    .where(and(eq(users.id, userId), isNull(users.deletedAt)));
  if (!user) throw notInReach(userId);
  if (actor.isSystemAdmin) return user;
  const inTree = sql`${groups.path} <@ ${rootOf(groupPath)}::ltree`;
  const [viaGroup] = await db
    .select({ groupId: groupMembers.groupId })
    .from(groupMembers)
    .innerJoin(groups, eq(groups.id, groupMembers.groupId))
    .where(and(eq(groupMembers.userId, userId), isNull(groupMembers.deletedAt), isNull(groups.deletedAt), inTree))
    .limit(1);
  if (viaGroup) return user;
  const [viaClass] = await db
    .select({ classId: classMembers.classId })
    .from(classMembers)
    .innerJoin(classes, eq(classes.id, classMembers.classId))
    .innerJoin(groups, eq(groups.id, classes.groupId))
    .where(and(eq(classMembers.userId, userId), isNull(groups.deletedAt), inTree))
    .limit(1);
  if (viaClass) return user;
  throw notInReach(userId);
}
