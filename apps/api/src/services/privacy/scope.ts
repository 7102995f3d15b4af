import { ConflictError, ForbiddenError, NotFoundError } from "@raptscallions/core";
import { type DbOrTx, groups, users } from "@raptscallions/db";
import { type AnyColumn, eq, inArray, type SQL, sql } from "drizzle-orm";
import type { Actor } from "../../access/actor.ts";
import { adminSubtreeSql } from "../../access/policy-sql.ts";
import { isAdminOver, policy } from "../../access/policy.ts";

export type UserRow = typeof users.$inferSelect;

/** A student as the privacy operations see them: their row and every group they have data in. */
export interface StudentScope {
  user: UserRow;
  /** Groups the student belongs to or has records in (memberships, classes, sessions, runs). */
  touched: { id: string; path: string }[];
  /** The touched groups the actor administers (all of them for a system admin). */
  inReach: { id: string; path: string }[];
}

/**
 * Every group the person belongs to or has learning records in: live group memberships, class
 * memberships (the class's group), and the groups of their sessions and runs (a student taken out
 * of a class still has history there).
 */
function touchedGroupsSql(userId: string): SQL {
  return sql`(
    select gm.group_id from group_members gm where gm.user_id = ${userId} and gm.deleted_at is null
    union select c.group_id from class_members cm join classes c on c.id = cm.class_id where cm.user_id = ${userId}
    union select s.group_id from sessions s where s.student_id = ${userId}
    union select r.group_id from runs r where r.user_id = ${userId})`;
}

/** A staff role anywhere (group admin or teacher, class teacher): such accounts are not handled here. */
async function holdsStaffRole(db: DbOrTx, userId: string): Promise<boolean> {
  const [row] = await db
    .select({
      staff: sql<boolean>`exists(
        select 1 from group_members gm where gm.user_id = ${userId} and gm.deleted_at is null and gm.role <> 'member'
        union all select 1 from class_members cm where cm.user_id = ${userId} and cm.role = 'teacher')`,
    })
    .from(users)
    .where(eq(users.id, userId));
  return row?.staff === true;
}

/**
 * The student if the actor administers a group they have data in; otherwise 404, whether or not
 * the id exists (no existence leak). Only students: a person with a staff role anywhere (teacher,
 * admin, system admin) is refused with 409, since their accounts belong to the district's staff
 * processes (Clerk), not to a request about a child.
 */
export async function requireStudentInReach(db: DbOrTx, actor: Actor, userId: string): Promise<StudentScope> {
  const [user] = await db.select().from(users).where(eq(users.id, userId));
  if (!user) throw new NotFoundError("Student");
  const touched = await db
    .select({ id: groups.id, path: groups.path })
    .from(groups)
    .where(inArray(groups.id, touchedGroupsSql(userId)))
    .orderBy(sql`nlevel(${groups.path})`, groups.id);
  const inReach = touched.filter((g) => isAdminOver(actor, g.path));
  if (inReach.length === 0 && !actor.isSystemAdmin) throw new NotFoundError("Student");
  if (user.isSystemAdmin || (await holdsStaffRole(db, userId))) {
    throw new ConflictError("This person holds a staff role; only students are exported or erased here", { userId });
  }
  return { user, touched, inReach };
}

/** Erasure changes the person everywhere, so the actor must administer every group they have data in. */
export function assertWholeReach(actor: Actor, scope: StudentScope): void {
  const outside = scope.touched.filter((g) => !isAdminOver(actor, g.path));
  if (outside.length > 0) {
    throw new ForbiddenError("This student also has records in groups you do not administer; an admin over all of them (or a system admin) must erase", {
      outsideGroups: outside.length,
    });
  }
}

/** An export goes only to admins over the student's groups (see `policy.canExportStudent`). */
export function assertMayExport(actor: Actor, scope: StudentScope): void {
  if (!policy.canExportStudent(actor, { under13: scope.user.under13, groupPaths: scope.touched.map((g) => g.path) })) throw new NotFoundError("Student");
}

/** `column` (a group id) lies in a subtree the actor administers; always true for system admins. */
export function groupInReachSql(actor: Actor, column: AnyColumn | SQL): SQL {
  if (actor.isSystemAdmin) return sql`true`;
  return sql`${column} in (select g.id from ${groups} g where ${adminSubtreeSql(actor, sql`g.path`)})`;
}
