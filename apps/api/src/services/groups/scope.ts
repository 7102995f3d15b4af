import { type DbOrTx, groups } from "@raptscallions/db";
import { and, type AnyColumn, eq, isNull, or, type SQL, sql } from "drizzle-orm";
import type { Actor } from "../../access/actor.ts";
import { adminRoots, policy } from "../../access/policy.ts";
import { NotFoundError } from "@raptscallions/core";
import { ltreeArray } from "../query-helpers.ts";

/** Paths of every group the actor belongs to, directly or through a class. */
function membershipPaths(actor: Actor): string[] {
  return [...new Set([...actor.groupRoles.map((r) => r.path), ...[...actor.classRoles.values()].map((c) => c.groupPath)])];
}

/**
 * SQL twin of `policy.canViewGroup` (and of `canUseTool` for a tool's group): the actor
 * administers an ancestor-or-self of the path, or belongs somewhere at or below it.
 */
export function groupVisibleSql(actor: Actor, path: AnyColumn | SQL = groups.path): SQL {
  if (actor.isSystemAdmin) return sql`true`;
  const conds: SQL[] = [];
  const admin = adminRoots(actor);
  if (admin.length > 0) conds.push(sql`${path} <@ ${ltreeArray(admin)}`);
  const member = membershipPaths(actor);
  if (member.length > 0) conds.push(sql`${path} @> ${ltreeArray(member)}`);
  return or(...conds) ?? sql`false`;
}

/** SQL twin of `isAdminOver`: the path lies in a subtree the actor administers. */
export function adminSubtreeSql(actor: Actor, path: AnyColumn | SQL = groups.path): SQL {
  if (actor.isSystemAdmin) return sql`true`;
  const admin = adminRoots(actor);
  return admin.length > 0 ? sql`${path} <@ ${ltreeArray(admin)}` : sql`false`;
}

export type GroupRow = typeof groups.$inferSelect;

/** A live (not deleted) group, or undefined. */
export async function loadGroup(db: DbOrTx, id: string): Promise<GroupRow | undefined> {
  const [row] = await db.select().from(groups).where(and(eq(groups.id, id), isNull(groups.deletedAt)));
  return row;
}

/** The group if the actor may see it; otherwise 404, whether or not it exists. */
export async function requireVisibleGroup(ctx: { db: DbOrTx; actor: Actor }, id: string): Promise<GroupRow> {
  const group = await loadGroup(ctx.db, id);
  if (!group || !policy.canViewGroup(ctx.actor, group)) throw new NotFoundError("Group");
  return group;
}
