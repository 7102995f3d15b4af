import { PGlite } from "@electric-sql/pglite";
import { ltree } from "@electric-sql/pglite/contrib/ltree";
import { sql } from "drizzle-orm";
import type { PgDatabase, PgQueryResultHKT } from "drizzle-orm/pg-core";
import { drizzle as drizzlePglite } from "drizzle-orm/pglite";
import { migrate as migratePglite } from "drizzle-orm/pglite/migrator";
import { drizzle as drizzlePostgres } from "drizzle-orm/postgres-js";
import { migrate as migratePostgres } from "drizzle-orm/postgres-js/migrator";
import { fileURLToPath } from "node:url";
import postgres from "postgres";
import * as schema from "./schema/index.ts";

export type Schema = typeof schema;
/** The drizzle database both drivers produce; services only ever see this type. */
export type Db = PgDatabase<PgQueryResultHKT, Schema>;
/** A transaction handle or the database itself: services accept either. */
export type DbOrTx = Parameters<Parameters<Db["transaction"]>[0]>[0] | Db;

export interface DbConfig {
  /** postgres:// URL; when absent an embedded PGlite is used. */
  url?: string | undefined;
  /** PGlite data directory; absent = in memory (tests). */
  dataDir?: string | undefined;
  /** Pool size for postgres-js. */
  maxConnections?: number;
  /** PGlite only: start from a dumped data directory (tests clone one migrated template). */
  loadDataDir?: Blob | undefined;
}

export interface DbHandle {
  db: Db;
  driver: "postgres" | "pglite";
  /** Apply the committed migrations in drizzle/ (safe to call from several instances at once). */
  migrate(): Promise<void>;
  ping(): Promise<void>;
  close(): Promise<void>;
  /** PGlite only: the whole data directory as a tarball, to clone this database. */
  dump?(): Promise<Blob>;
}

export const MIGRATIONS_FOLDER = fileURLToPath(new URL("../../../drizzle", import.meta.url));
// Any constant works; it only has to be the same on every instance.
const MIGRATION_LOCK_KEY = 727_274_101;

/** Builds the database: postgres-js when a URL is given, else PGlite with ltree. Reads no environment. */
export async function createDb(config: DbConfig = {}): Promise<DbHandle> {
  if (config.url) return createPostgres(config.url, config.maxConnections ?? 10);
  return createPglite(config.dataDir, config.loadDataDir);
}

async function createPglite(dataDir: string | undefined, loadDataDir: Blob | undefined): Promise<DbHandle> {
  const options = { extensions: { ltree }, ...(loadDataDir ? { loadDataDir } : {}) };
  const client = dataDir ? new PGlite(dataDir, options) : new PGlite(options);
  await client.waitReady;
  const db = drizzlePglite(client, { schema }) as unknown as Db;
  return {
    db,
    driver: "pglite",
    async migrate() {
      await migratePglite(drizzlePglite(client, { schema }), { migrationsFolder: MIGRATIONS_FOLDER });
    },
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

async function createPostgres(url: string, max: number): Promise<DbHandle> {
  const client = postgres(url, { max, onnotice: () => {}, connect_timeout: 5 });
  const db = drizzlePostgres(client, { schema }) as unknown as Db;
  return {
    db,
    driver: "postgres",
    async migrate() {
      // A session-level advisory lock on a single dedicated connection serialises instances that
      // start together; the migrator itself runs all pending files in one transaction.
      const lockClient = postgres(url, { max: 1, onnotice: () => {}, connect_timeout: 5 });
      try {
        await lockClient`select pg_advisory_lock(${MIGRATION_LOCK_KEY})`;
        await migratePostgres(drizzlePostgres(lockClient, { schema }), { migrationsFolder: MIGRATIONS_FOLDER });
        await lockClient`select pg_advisory_unlock(${MIGRATION_LOCK_KEY})`;
      } finally {
        await lockClient.end({ timeout: 5 });
      }
    },
    async ping() {
      await db.execute(sql`select 1`);
    },
    async close() {
      await client.end({ timeout: 5 });
    },
  };
}
