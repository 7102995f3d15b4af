import { type ClassDto, NotFoundError } from "@raptscallions/core";
import { classes, type DbOrTx, groups } from "@raptscallions/db";
import { eq, inArray, or, type SQL, sql } from "drizzle-orm";
import type { Actor } from "../../access/actor.ts";
import { policy } from "../../access/policy.ts";
import { adminSubtreeSql } from "../../access/policy-sql.ts";
import { iso } from "../query-helpers.ts";

export type ClassRow = typeof classes.$inferSelect;

/** SQL twin of `policy.canViewClass` over `classes` joined to its group. */
export function classVisibleSql(actor: Actor): SQL {
  if (actor.isSystemAdmin) return sql`true`;
  const ids = [...actor.classRoles.keys()];
  return or(adminSubtreeSql(actor, groups.path), ids.length > 0 ? inArray(classes.id, ids) : undefined) ?? sql`false`;
}

/** A class with its group's path, or undefined. */
export async function loadClass(db: DbOrTx, id: string): Promise<{ cls: ClassRow; groupPath: string } | undefined> {
  const [row] = await db.select({ cls: classes, groupPath: groups.path }).from(classes).innerJoin(groups, eq(groups.id, classes.groupId)).where(eq(classes.id, id));
  return row;
}

/** The class if the actor may see it; otherwise 404, whether or not it exists. */
export async function requireVisibleClass(ctx: { db: DbOrTx; actor: Actor }, id: string) {
  const found = await loadClass(ctx.db, id);
  if (!found || !policy.canViewClass(ctx.actor, { id: found.cls.id, groupPath: found.groupPath })) throw new NotFoundError("Class");
  return found;
}

export function toClassDto(c: ClassRow): ClassDto {
  return {
    id: c.id,
    groupId: c.groupId,
    name: c.name,
    term: c.term,
    archivedAt: iso(c.archivedAt),
    createdAt: iso(c.createdAt),
    updatedAt: iso(c.updatedAt),
  };
}
