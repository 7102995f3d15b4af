import { type ErasureMode, type PrivacyLayer, privacyLayerSchema, ValidationError } from "@raptscallions/core";
import { type DbOrTx, groups } from "@raptscallions/db";
import { asc, sql } from "drizzle-orm";

/**
 * Anonymise unless a group says otherwise: a district that erases a student on a parent's request
 * usually still owes its teachers the class's history (grades, how a session went) and its
 * accounts the spend, and anonymising removes everything that says who the student was. `delete`
 * is one setting away for districts whose policy is to remove the records themselves.
 */
export const DEFAULT_ERASURE_MODE: ErasureMode = "anonymise";

/**
 * The privacy layers of a group and its ancestors folded root first (the nearest group wins per
 * key). A stored layer that does not parse (written before validation existed) is refused with a
 * 422 naming the group, rather than guessed at: erasure must do what the district decided.
 */
export async function resolvePrivacySettings(db: DbOrTx, groupId: string): Promise<PrivacyLayer> {
  const rows = await db
    .select({ id: groups.id, layer: sql<unknown>`${groups.settings} -> 'privacy'` })
    .from(groups)
    .where(sql`${groups.path} @> (select g.path from ${groups} g where g.id = ${groupId})`)
    .orderBy(asc(sql`nlevel(${groups.path})`));
  const out: PrivacyLayer = {};
  for (const { id, layer } of rows) {
    if (layer === null || layer === undefined) continue;
    const parsed = privacyLayerSchema.safeParse(layer);
    if (!parsed.success) throw new ValidationError(`Group ${id} has invalid privacy settings; fix them before erasing`, { groupId: id });
    Object.assign(out, Object.fromEntries(Object.entries(parsed.data).filter(([, v]) => v !== undefined)));
  }
  return out;
}

/**
 * The erasure mode for a student who belongs to several groups: `delete` if any of them resolves to
 * it (the stricter reading: one school's obligation to delete is not cancelled by another's default).
 */
export async function resolveErasureMode(db: DbOrTx, groupIds: readonly string[]): Promise<ErasureMode> {
  let mode: ErasureMode = DEFAULT_ERASURE_MODE;
  for (const id of new Set(groupIds)) {
    if ((await resolvePrivacySettings(db, id)).erasure === "delete") mode = "delete";
  }
  return mode;
}
