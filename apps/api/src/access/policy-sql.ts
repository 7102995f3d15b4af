import { groups } from "@raptscallions/db";
import { type AnyColumn, or, type SQL, sql } from "drizzle-orm";
import type { Actor } from "./actor.ts";
import { adminRoots } from "./policy.ts";

// The SQL twins of the policy's group rules, for list queries that must filter in the database.
// They sit next to the policy so a change to one is made to both.

/** `ARRAY[$1::ltree, …]` for `<@` / `@>` against a list of paths. */
export function ltreeArray(paths: readonly string[]): SQL {
  return sql`ARRAY[${sql.join(
    paths.map((p) => sql`${p}::ltree`),
    sql`, `,
  )}]`;
}

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
