import { NotFoundError } from "@raptscallions/core";
import { type DbOrTx, groups } from "@raptscallions/db";
import { and, eq, isNull, sql } from "drizzle-orm";
import { assertAllowed, assertVisible, policy } from "../../access/policy.ts";
import type { Actor } from "../../access/actor.ts";

/** The columns theme services read from a group. */
export interface ThemeGroup {
  id: string;
  name: string;
  path: string;
  theme: Record<string, unknown> | null;
}

const groupColumns = { id: groups.id, name: groups.name, path: groups.path, theme: groups.theme };

/**
 * Loads a live group the actor may see (404 otherwise — no existence leak). With `manage`, the
 * actor must also administer it (403 when visible but not theirs). `forUpdate` locks the row
 * so read-modify-write of its theme cannot lose a concurrent change.
 */
export async function loadGroupFor(db: DbOrTx, actor: Actor, groupId: string, opts: { manage?: boolean; forUpdate?: boolean } = {}): Promise<ThemeGroup> {
  const query = db
    .select(groupColumns)
    .from(groups)
    .where(and(eq(groups.id, groupId), isNull(groups.deletedAt)));
  const [group] = opts.forUpdate ? await query.for("update") : await query;
  if (!group) throw new NotFoundError("Group");
  assertVisible(policy.canViewGroup(actor, group), "Group");
  if (opts.manage) assertAllowed(policy.canManageGroup(actor, group), "Only an administrator of this group can change its theme");
  return group;
}

/** The group and its ancestors, root first (ltree `@>`: ancestor-or-self). */
export async function loadChain(db: DbOrTx, path: string): Promise<ThemeGroup[]> {
  return await db.select(groupColumns).from(groups).where(sql`${groups.path} @> ${path}::ltree`).orderBy(sql`nlevel(${groups.path})`);
}
