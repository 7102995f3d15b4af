import type { PGlite } from "@electric-sql/pglite";
import type { Sql, TransactionSql } from "postgres";
import type { TenantLanes } from "./tenant-lanes.ts";

/**
 * Whose rows a tenant-scoped statement may see and write (row-level security, see
 * docs/privacy.md): the districts (root group ids) a person belongs to, and the person
 * themselves (their own `users` row is visible even before they belong anywhere). The system
 * scope is not a `TenantScope`: it is the handle's plain `db`.
 */
export interface TenantScope {
  tenantIds: readonly string[];
  userId: string | null;
}

/** The Postgres role every app connection acts as; created and granted by the `rls` migration. */
export const APP_ROLE = "rapt_app";

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** The two settings the policies read, as values for `set_config`. Refuses anything but uuids. */
export function scopeSettings(scope: TenantScope): { reach: string; user: string } {
  for (const id of scope.tenantIds) if (!UUID.test(id)) throw new Error("tenant scope: not a uuid");
  if (scope.userId !== null && !UUID.test(scope.userId)) throw new Error("tenant scope: not a uuid");
  return { reach: `{${[...new Set(scope.tenantIds)].sort().join(",")}}`, user: scope.userId ?? "" };
}

/** A stable key for caching one drizzle instance per scope. */
export function scopeKey(scope: TenantScope): string {
  const { reach, user } = scopeSettings(scope);
  return `${reach}|${user}`;
}

/** The statement that sets a scope's two settings; `local` for a transaction's own. */
function setScopeStatement(scope: TenantScope, local: boolean): string {
  const { reach, user } = scopeSettings(scope);
  // uuids, commas and braces only (checked by scopeSettings), so inlining the values is safe, and
  // a statement without parameters goes as a simple query: no describe round trip, pipelined.
  return `select set_config('rapt.reach', '${reach}', ${local}), set_config('rapt.user', '${user}', ${local})`;
}

/**
 * A postgres-js client, as drizzle's postgres-js driver uses it (`unsafe`, `begin`, `options`),
 * on the tenant pool's lanes (tenant-lanes.ts), that runs every statement under the scope:
 *
 * - A standalone statement is its own implicit transaction (postgres-js closes every statement
 *   with a Sync), so a transaction-local setting would end before it ran. It goes to a lane that
 *   already holds this reach, session-level, or is preceded there by `set_config(..., false)` in
 *   the same write: at most one extra statement, never an extra round trip, and statements of
 *   concurrent requests pipelined on one connection as on a plain pool.
 * - A transaction the code opens (`db.transaction`) starts with `set_config(..., true)`, which
 *   ends with the transaction: the lane's session-level reach is back afterwards.
 *
 * Nothing else uses the tenant pool, so no statement runs there without its reach set first (and
 * a fresh connection has none: it sees no tenant row).
 */
export function scopedPostgresClient(lanes: TenantLanes, scope: TenantScope): Sql {
  const key = scopeKey(scope);
  const setSession = setScopeStatement(scope, false);
  const setLocal = setScopeStatement(scope, true);
  const client = {
    options: lanes.options,
    unsafe(query: string, params?: unknown[], options?: unknown) {
      // drizzle either awaits the query or calls `.values()` on it (array rows).
      let run: Promise<unknown> | undefined;
      const objects = () => {
        run ??= lanes.run(key, setSession, query, params, options, false);
        return run;
      };
      return {
        // biome-ignore lint/suspicious/noThenProperty: drizzle awaits what `unsafe` returns.
        then: (ok: (v: unknown) => unknown, fail?: (e: unknown) => unknown) => objects().then(ok, fail),
        values: () => lanes.run(key, setSession, query, params, options, true),
      };
    },
    begin(fn: (sql: TransactionSql) => Promise<unknown>) {
      return lanes.begin(async (sql) => {
        const set = sql.unsafe(setLocal);
        // Its failure aborts the transaction, so the first real statement fails too; the
        // rejection is read below, not left unhandled.
        set.catch(() => {});
        const result = await fn(sql);
        await set;
        return result;
      });
    },
  };
  return client as unknown as Sql;
}

/** The slice of a PGlite client (in-thread or host process) drizzle's pglite driver calls. */
type PgliteLike = Pick<PGlite, "query" | "transaction">;

/**
 * A PGlite client that runs every statement in a transaction under the app role (PGlite is a
 * superuser, and a superuser bypasses row-level security) with the scope set: the embedded
 * database enforces the same policies as Postgres.
 */
export function scopedPgliteClient(client: PgliteLike, scope: TenantScope): PGlite {
  const { reach, user } = scopeSettings(scope);
  // uuids and braces only (checked above), so inlining the values is safe.
  const enter = `set local role ${APP_ROLE}; select set_config('rapt.reach', '${reach}', true), set_config('rapt.user', '${user}', true)`;
  type Tx = Parameters<Parameters<PGlite["transaction"]>[0]>[0];
  const scoped = {
    query(query: string, params?: unknown[], options?: unknown) {
      return client.transaction(async (tx: Tx) => {
        await tx.exec(enter);
        return tx.query(query, params, options as never);
      });
    },
    transaction(fn: (tx: Tx) => Promise<unknown>) {
      return client.transaction(async (tx: Tx) => {
        await tx.exec(enter);
        return fn(tx);
      });
    },
  };
  return scoped as unknown as PGlite;
}
