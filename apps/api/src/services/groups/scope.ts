import { type DbOrTx, groups } from "@raptscallions/db";
import { and, eq, isNull } from "drizzle-orm";
import type { Actor } from "../../access/actor.ts";
import { policy } from "../../access/policy.ts";
import { NotFoundError } from "@raptscallions/core";

export type GroupRow = typeof groups.$inferSelect;

/** A live (not deleted) group, or undefined. */
export async function loadGroup(db: DbOrTx, id: string): Promise<GroupRow | undefined> {
  const [row] = await db
    .select()
    .from(groups)
    .where(and(eq(groups.id, id), isNull(groups.deletedAt)));
  return row;
}

/** The group if the actor may see it; otherwise 404, whether or not it exists. */
export async function requireVisibleGroup(ctx: { db: DbOrTx; actor: Actor }, id: string): Promise<GroupRow> {
  const group = await loadGroup(ctx.db, id);
  if (!group || !policy.canViewGroup(ctx.actor, group)) throw new NotFoundError("Group");
  return group;
}
