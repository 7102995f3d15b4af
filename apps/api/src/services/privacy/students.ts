import { cursorParts, decodeCursor, type ListPrivacyStudentsQuery, type Page, type PrivacyStudentDto, type PrivacyStudentSummaryDto, toPage } from "@raptscallions/core";
import { classes, classMembers, groupMembers, groups, users } from "@raptscallions/db";
import { and, asc, eq, inArray, isNull, type SQL, sql } from "drizzle-orm";
import { z } from "zod";
import { adminSubtreeSql } from "../../access/policy-sql.ts";
import { adminRoots, assertAllowed } from "../../access/policy.ts";
import type { ServiceContext } from "../context.ts";
import { afterCursor, iso } from "../query-helpers.ts";
import { requireStudentInReach } from "./scope.ts";
import { resolveErasureMode } from "./settings.ts";

const byId = z.tuple([cursorParts.uuid]);
const likeEscape = (s: string) => s.replace(/[\\%_]/g, (c) => `\\${c}`);

/**
 * Students the admin reaches (a student membership of a class, or a plain membership of a group,
 * in a subtree they administer), found by name or email. People with a staff role anywhere are
 * left out: these operations are about students.
 */
export async function listPrivacyStudents({ ctx, input }: { ctx: ServiceContext; input: ListPrivacyStudentsQuery }): Promise<Page<PrivacyStudentSummaryDto>> {
  assertAllowed(ctx.actor.isSystemAdmin || adminRoots(ctx.actor).length > 0, "Only admins may look up students' data");
  const reachGroup = adminSubtreeSql(ctx.actor, sql`g.path`);
  const where: SQL[] = [
    isNull(users.erasedAt),
    eq(users.isSystemAdmin, false),
    sql`(exists(select 1 from class_members cm join classes c on c.id = cm.class_id join groups g on g.id = c.group_id
          where cm.user_id = ${users.id} and cm.role = 'student' and ${reachGroup})
        or exists(select 1 from group_members gm join groups g on g.id = gm.group_id
          where gm.user_id = ${users.id} and gm.role = 'member' and gm.deleted_at is null and ${reachGroup}))`,
    sql`not exists(select 1 from group_members s where s.user_id = ${users.id} and s.deleted_at is null and s.role <> 'member')`,
    sql`not exists(select 1 from class_members t where t.user_id = ${users.id} and t.role = 'teacher')`,
  ];
  if (input.q) {
    const pattern = `%${likeEscape(input.q)}%`;
    where.push(sql`(${users.name} ilike ${pattern} or ${users.email} ilike ${pattern})`);
  }
  if (input.cursor) where.push(afterCursor([users.id], decodeCursor(input.cursor, byId)));
  const rows = await ctx.db
    .select({ id: users.id, name: users.name, email: users.email, under13: users.under13 })
    .from(users)
    .where(and(...where))
    .orderBy(asc(users.id))
    .limit(input.limit + 1);
  return toPage(rows, input.limit, (r) => [r.id]);
}

/** One student as the privacy page shows them: who, where (groups and classes the admin reaches), and what erasure would do. */
export async function getPrivacyStudent({ ctx, input }: { ctx: ServiceContext; input: { id: string } }): Promise<PrivacyStudentDto> {
  const scope = await requireStudentInReach(ctx.db, ctx.actor, input.id);
  const inReach = adminSubtreeSql(ctx.actor, groups.path);
  const memberOf = await ctx.db
    .select({ id: groups.id, name: groups.name, role: groupMembers.role })
    .from(groupMembers)
    .innerJoin(groups, eq(groups.id, groupMembers.groupId))
    .where(and(eq(groupMembers.userId, scope.user.id), isNull(groupMembers.deletedAt), inReach))
    .orderBy(asc(groups.name));
  const classRows = await ctx.db
    .select({ id: classes.id, name: classes.name, role: classMembers.role })
    .from(classMembers)
    .innerJoin(classes, eq(classes.id, classMembers.classId))
    .innerJoin(groups, eq(groups.id, classes.groupId))
    .where(and(eq(classMembers.userId, scope.user.id), inArray(classes.groupId, ctx.db.select({ id: groups.id }).from(groups).where(inReach))))
    .orderBy(asc(classes.name));
  return {
    id: scope.user.id,
    name: scope.user.name,
    email: scope.user.email,
    under13: scope.user.under13,
    erasedAt: iso(scope.user.erasedAt),
    groups: memberOf,
    classes: classRows,
    erasure: await resolveErasureMode(
      ctx.db,
      scope.touched.map((g) => g.id),
    ),
  };
}
