import type { PGlite } from "@electric-sql/pglite";
import { sql } from "drizzle-orm";
import type { PgDatabase, PgQueryResultHKT } from "drizzle-orm/pg-core";
import { drizzle as drizzlePglite } from "drizzle-orm/pglite";
import { migrate as migratePglite } from "drizzle-orm/pglite/migrator";
import { drizzle as drizzlePostgres } from "drizzle-orm/postgres-js";
import { migrate as migratePostgres } from "drizzle-orm/postgres-js/migrator";
import { fileURLToPath } from "node:url";
import postgres from "postgres";
import { openGuardedPglite } from "./pglite/guarded.ts";
import { type EmbeddedState, PgliteHostClient, type PgliteHostOptions } from "./pglite/host-client.ts";
import * as schema from "./schema/index.ts";
import { APP_ROLE, scopedPgliteClient, scopedPostgresClient, scopeKey, type TenantScope } from "./scope.ts";
import { openSystemLanes } from "./system-lanes.ts";
import { openTenantLanes } from "./tenant-lanes.ts";

export type Schema = typeof schema;
/** The drizzle database both drivers produce; services only ever see this type. */
export type Db = PgDatabase<PgQueryResultHKT, Schema>;
/** A transaction handle or the database itself: services accept either. */
export type DbOrTx = Parameters<Parameters<Db["transaction"]>[0]>[0] | Db;

export interface DbConfig {
  /** postgres:// URL; when absent an embedded PGlite is used. */
  url?: string | undefined;
  /**
   * Postgres only: the URL migrations run on, as the tables' owner. Absent: `url` itself (whose
   * role must then own the tables). Either way the app's own connections act as `rapt_app`.
   */
  migrationUrl?: string | undefined;
  /** PGlite data directory; absent = in memory (tests). */
  dataDir?: string | undefined;
  /** Pool size for postgres-js. */
  maxConnections?: number;
  /** PGlite only: start from a dumped data directory (tests clone one migrated template). */
  loadDataDir?: Blob | undefined;
  /**
   * Longest a statement may run (default 15 s; 0 = no limit). Postgres: `statement_timeout` on
   * every pooled connection. PGlite in its own process: a watchdog that kills and restarts that
   * process. Either way the caller gets DATABASE_TIMEOUT (503).
   */
  statementTimeoutMs?: number;
  /** Postgres only: `lock_timeout` (default 10 s; 0 = no limit). */
  lockTimeoutMs?: number;
  /** Postgres only: `idle_in_transaction_session_timeout` (default 60 s; 0 = no limit). */
  idleInTransactionTimeoutMs?: number;
  /**
   * PGlite only. `process` (the default) runs it in a child process so a stuck statement cannot
   * block the caller's event loop and can be timed out; `in-thread` runs it on the caller's thread
   * (faster to start, no watchdog: what the test suite uses for its many short-lived databases).
   */
  embedded?: "process" | "in-thread";
  /** PGlite process only: told when the process is killed or restarted (for logs). */
  onEmbeddedEvent?: PgliteHostOptions["onEvent"];
}

export interface DbHandle {
  /**
   * The system scope: every district's rows. For work no person asked for (jobs, webhooks,
   * syncs, the answer runner) and for resolving who a person is before their reach is known.
   */
  db: Db;
  /**
   * The database as seen by one person's reach: row-level security shows and accepts only rows
   * of their districts. Instances are cached per scope, so prepared statements are reused.
   */
  scoped(scope: TenantScope): Db;
  driver: "postgres" | "pglite";
  /** Apply the committed migrations in drizzle/ (safe to call from several instances at once). */
  migrate(): Promise<void>;
  /**
   * Opens every pooled connection now. Otherwise a connection opens when a burst first needs it,
   * and that burst's requests wait for the connect, and its memory (a few hundred KB a
   * connection) lands among theirs. Postgres only; nothing to open for PGlite.
   */
  warm(): Promise<void>;
  ping(): Promise<void>;
  close(): Promise<void>;
  /** PGlite only: the whole data directory as a tarball, to clone this database. */
  dump?(): Promise<Blob>;
  /** PGlite process only: whether it is serving, restarting after a stuck statement, or down. */
  embeddedState?(): { state: EmbeddedState; problem?: string | undefined };
}

export const DEFAULT_STATEMENT_TIMEOUT_MS = 15_000;
export const DEFAULT_LOCK_TIMEOUT_MS = 10_000;
export const DEFAULT_IDLE_IN_TRANSACTION_TIMEOUT_MS = 60_000;

export const MIGRATIONS_FOLDER = fileURLToPath(new URL("../../../drizzle", import.meta.url));
// Any constant works; it only has to be the same on every instance.
const MIGRATION_LOCK_KEY = 727_274_101;

/**
 * Builds the database: postgres-js when a URL is given, else PGlite with ltree (in a child process
 * unless `embedded: "in-thread"`). Reads no environment.
 */
export async function createDb(config: DbConfig = {}): Promise<DbHandle> {
  if (config.url) {
    return createPostgres(config.url, {
      max: config.maxConnections ?? 10,
      statementTimeoutMs: config.statementTimeoutMs ?? DEFAULT_STATEMENT_TIMEOUT_MS,
      lockTimeoutMs: config.lockTimeoutMs ?? DEFAULT_LOCK_TIMEOUT_MS,
      idleInTransactionTimeoutMs: config.idleInTransactionTimeoutMs ?? DEFAULT_IDLE_IN_TRANSACTION_TIMEOUT_MS,
      migrationUrl: config.migrationUrl,
    });
  }
  if (config.embedded === "in-thread") return createPgliteInThread(config.dataDir, config.loadDataDir);
  return createPgliteProcess({
    dataDir: config.dataDir,
    loadDataDir: config.loadDataDir,
    statementTimeoutMs: config.statementTimeoutMs ?? DEFAULT_STATEMENT_TIMEOUT_MS,
    onEvent: config.onEmbeddedEvent,
  });
}

async function createPgliteInThread(dataDir: string | undefined, loadDataDir: Blob | undefined): Promise<DbHandle> {
  const client = await openGuardedPglite({ dataDir, loadDataDir });
  const db = drizzlePglite({ client, schema }) as unknown as Db;
  return {
    db,
    scoped: scopeCache((scope) => drizzlePglite({ client: scopedPgliteClient(client, scope), schema }) as unknown as Db),
    driver: "pglite",
    async migrate() {
      await migratePglite(drizzlePglite({ client, schema }), { migrationsFolder: MIGRATIONS_FOLDER });
    },
    async warm() {},
    async ping() {
      await client.query("select 1");
    },
    async close() {
      if (!client.closed) await client.close();
    },
    async dump() {
      return (await client.dumpDataDir("none")) as Blob;
    },
  };
}

async function createPgliteProcess(options: PgliteHostOptions): Promise<DbHandle> {
  const client = await PgliteHostClient.start(options);
  // drizzle's pglite driver only calls query() and transaction(), which the host client provides.
  const asPglite = client as unknown as PGlite;
  const db = drizzlePglite({ client: asPglite, schema }) as unknown as Db;
  return {
    db,
    scoped: scopeCache((scope) => drizzlePglite({ client: scopedPgliteClient(asPglite, scope), schema }) as unknown as Db),
    driver: "pglite",
    async migrate() {
      await migratePglite(drizzlePglite({ client: asPglite, schema }), { migrationsFolder: MIGRATIONS_FOLDER });
    },
    async warm() {},
    ping: () => client.ping(),
    close: () => client.close(),
    dump: () => client.dump(),
    embeddedState: () => ({ state: client.state, problem: client.problem }),
  };
}

interface PostgresLimits {
  max: number;
  statementTimeoutMs: number;
  lockTimeoutMs: number;
  idleInTransactionTimeoutMs: number;
  migrationUrl: string | undefined;
}

async function createPostgres(url: string, limits: PostgresLimits): Promise<DbHandle> {
  // Two pools, both acting as the app role (`role` is a setting like any other: SET ROLE before
  // the first statement, so the owner's rights are never used by app code). The system pool's
  // connections carry the system reach for their whole life; the tenant pool's carry none, so a
  // statement that reaches it without a scope sees no tenant row at all.
  const connectionOptions = (reach: string | undefined) => ({
    onnotice: () => {},
    connect_timeout: 5,
    // Sent in the startup packet, so every pooled connection has them before its first statement.
    connection: {
      statement_timeout: limits.statementTimeoutMs,
      lock_timeout: limits.lockTimeoutMs,
      idle_in_transaction_session_timeout: limits.idleInTransactionTimeoutMs,
      role: APP_ROLE,
      ...(reach === undefined ? {} : { "rapt.reach": reach }),
    } as Record<string, string | number>,
  });
  // Both pools are lanes of one connection each, so the statements of one event-loop turn share a
  // socket write instead of spreading over every idle connection (system-lanes.ts).
  const systemLanes = openSystemLanes(url, limits.max, connectionOptions("*"));
  const tenantLanes = openTenantLanes(url, limits.max, connectionOptions(undefined));
  const db = drizzlePostgres(systemLanes.sql, { schema }) as unknown as Db;
  const migrationUrl = limits.migrationUrl ?? url;
  return {
    db,
    scoped: scopeCache((scope) => drizzlePostgres(scopedPostgresClient(tenantLanes, scope), { schema }) as unknown as Db),
    driver: "postgres",
    async migrate() {
      // A session-level advisory lock on a single dedicated connection serialises instances that
      // start together; the migrator itself runs all pending files in one transaction. This
      // connection keeps the server's default limits: waiting for the lock and building indexes
      // may rightly take longer than a request's statement.
      const lockClient = postgres(migrationUrl, { max: 1, onnotice: () => {}, connect_timeout: 5 });
      try {
        await lockClient`select pg_advisory_lock(${MIGRATION_LOCK_KEY})`;
        await migratePostgres(drizzlePostgres(lockClient, { schema }), { migrationsFolder: MIGRATIONS_FOLDER });
        await lockClient`select pg_advisory_unlock(${MIGRATION_LOCK_KEY})`;
      } finally {
        await lockClient.end({ timeout: 5 });
      }
    },
    async warm() {
      await Promise.all([systemLanes.connectAll(), tenantLanes.connectAll()]);
    },
    async ping() {
      await db.execute(sql`select 1`);
    },
    async close() {
      await Promise.all([systemLanes.end({ timeout: 5 }), tenantLanes.end({ timeout: 5 })]);
    },
  };
}

// Bounded: one entry per distinct reach (a person, or everyone of one district set).
const SCOPE_CACHE_SIZE = 512;

/** One drizzle instance per scope, least recently used dropped first. */
function scopeCache(build: (scope: TenantScope) => Db): (scope: TenantScope) => Db {
  const cache = new Map<string, Db>();
  return (scope) => {
    const key = scopeKey(scope);
    let db = cache.get(key);
    if (db) {
      cache.delete(key);
    } else {
      db = build(scope);
      if (cache.size >= SCOPE_CACHE_SIZE) {
        const oldest = cache.keys().next().value;
        if (oldest !== undefined) cache.delete(oldest);
      }
    }
    cache.set(key, db);
    return db;
  };
}
