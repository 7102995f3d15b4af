import { groups, users } from "@raptscallions/db";
import { type SQL, sql } from "drizzle-orm";
import type { RetentionConfig } from "../../lib/retention-config.ts";

// A setting of a million days is a typo, not a policy; capping keeps the interval arithmetic sane.
const MAX_DAYS = 36_500;

/** A group's own setting at `path` (e.g. `{retention,days}`), when it is a number ≥ 1 (CASE guards the cast). */
export const ownDays = (settings: SQL | typeof groups.settings, path: string) =>
  sql`case when jsonb_typeof(${settings} #> ${path}::text[]) = 'number'
        then least(floor((${settings} #>> ${path}::text[])::numeric), ${MAX_DAYS}) end`;

export const GENERAL_DAYS = "{retention,days}";
export const UNDER13_DAYS = "{privacy,under13RetentionDays}";

/** The nearest group (the group at `groupId`, then up the tree) that sets `path`, else null. */
function nearest(groupId: SQL, path: string): SQL {
  return sql`(select x.d from (
       select ${ownDays(sql`a.settings`, path)} as d, nlevel(a.path) as depth
       from ${groups} a
       where a.path @> (select g.path from ${groups} g where g.id = ${groupId})
     ) x where x.d >= 1 order by x.depth desc limit 1)`;
}

/**
 * Days a record of `studentId` in `groupId` is kept: the nearest `settings.retention.days`, else
 * the configured default (null: kept). For a student under 13 the stricter of that and the
 * under-13 period (the nearest `settings.privacy.under13RetentionDays`, else the configured
 * `under13Days`): their records are never kept longer than it, even where nothing else expires.
 */
export function effectiveDaysSql(groupId: SQL, studentId: SQL, config: RetentionConfig): SQL {
  const general = sql`coalesce(${nearest(groupId, GENERAL_DAYS)}, ${config.defaultDays}::numeric)`;
  const under13 = sql`coalesce(${nearest(groupId, UNDER13_DAYS)}, ${config.under13Days}::numeric)`;
  // least() skips nulls: with no general period the under-13 one applies alone.
  return sql`case when (select u.under13 from ${users} u where u.id = ${studentId}) then least(${general}, ${under13}) else ${general} end`;
}

/** The shortest period any row could have, or null when nothing can expire (lets the created_at indexes prune). */
export function shortestPossibleDays(config: RetentionConfig, overrideMins: (number | null)[]): number | null {
  const all = [config.defaultDays, config.under13Days, ...overrideMins].filter((d): d is number => d !== null && d >= 1);
  return all.length === 0 ? null : Math.min(...all);
}
