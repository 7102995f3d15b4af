import type { CursorValue } from "@raptscallions/core";
import { type AnyColumn, type Placeholder, type SQL, sql } from "drizzle-orm";

/**
 * Keyset condition for the page after a cursor: `(k1, k2) > (v1, v2)` (or `<` when sorting
 * descending). A row-value comparison keeps ties on the sort key ordered by the trailing id.
 */
export function afterCursor(keys: (SQL | AnyColumn)[], values: readonly CursorValue[], direction: "asc" | "desc" = "asc"): SQL {
  const op = direction === "asc" ? sql`>` : sql`<`;
  return sql`(${sql.join(keys, sql`, `)}) ${op} (${sql.join(
    values.map((v) => sql`${v}`),
    sql`, `,
  )})`;
}

/**
 * A timestamp as fixed-format UTC text with microseconds, so a cursor carries the exact value
 * Postgres compares (a JS Date would round to milliseconds and skip or repeat rows).
 */
export function timestampKey(column: AnyColumn): SQL<string> {
  return sql<string>`to_char(${column} at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"')`;
}

/** Postgres SQLSTATE of a failed query; drizzle wraps the driver's error in `cause`. */
export function pgErrorCode(err: unknown): string | undefined {
  for (let e: unknown = err, depth = 0; e && depth < 4; depth += 1) {
    if (typeof e === "object" && "code" in e && typeof e.code === "string" && /^[0-9A-Z]{5}$/.test(e.code)) return e.code;
    e = typeof e === "object" && "cause" in e ? e.cause : undefined;
  }
  return undefined;
}

/** The constraint a failed query violated (postgres-js `constraint_name`, PGlite `constraint`). */
function pgConstraint(err: unknown): string | undefined {
  for (let e: unknown = err, depth = 0; e && depth < 4; depth += 1) {
    if (typeof e === "object") {
      const named = (e as { constraint_name?: unknown; constraint?: unknown }).constraint_name ?? (e as { constraint?: unknown }).constraint;
      if (typeof named === "string") return named;
    }
    e = typeof e === "object" && "cause" in e ? e.cause : undefined;
  }
  return undefined;
}

/** A unique violation, optionally of one named constraint (index). */
export const isUniqueViolation = (err: unknown, constraint?: string) => pgErrorCode(err) === "23505" && (constraint === undefined || pgConstraint(err) === constraint);
export const isForeignKeyViolation = (err: unknown) => pgErrorCode(err) === "23503";

/** `Date` → ISO string for DTOs (null stays null). */
export function iso(d: Date): string;
export function iso(d: Date | null): string | null;
export function iso(d: Date | null): string | null {
  return d ? d.toISOString() : null;
}

/** A value a shared SQL fragment is keyed by: another table's column, a placeholder, or SQL. */
export type QueryKey = AnyColumn | Placeholder | SQL;

/**
 * Each key wrapped in its own SQL: in a select from one table drizzle writes the columns of a
 * field's own SQL without their table, and an outer `sessions.id` would then read as the inner
 * table's `id`. Wrapped, a column keeps its table.
 */
export function qualified<K extends Record<string, QueryKey>>(keys: K): { [P in keyof K]: SQL } {
  return Object.fromEntries(Object.entries(keys).map(([name, key]) => [name, sql`${key}`])) as { [P in keyof K]: SQL };
}
