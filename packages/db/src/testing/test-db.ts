import { createDb, type DbHandle } from "../client.ts";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

// Migrating a fresh PGlite costs seconds; cloning a migrated template costs a fraction of one.
// One template per test process (bun runs every file in one process).
let template: Promise<Blob> | undefined;

/** The migrated embedded database as a tarball, for tests that start PGlite themselves. */
export function embeddedTemplate(): Promise<Blob> {
  template ??= migratedTemplate();
  return template;
}

async function migratedTemplate(): Promise<Blob> {
  const handle = await createDb({ embedded: "in-thread" });
  await handle.migrate();
  if (!handle.dump) throw new Error("PGlite handle cannot dump");
  const blob = await handle.dump();
  await handle.close();
  return blob;
}

/**
 * A migrated database for one test file: embedded PGlite in memory by default (a clone of one
 * migrated template), the real Postgres named by `TEST_DATABASE_URL` when set (CI sets it).
 * Factories make unique rows, so files can share one Postgres without truncating.
 */
export async function createTestDb(): Promise<DbHandle> {
  // Test-only entry point: the one place in packages/db that looks at the environment.
  const url = process.env.TEST_DATABASE_URL || undefined;
  if (url) {
    const handle = await createDb({ url, maxConnections: 5 });
    await handle.migrate();
    return handle;
  }
  const handle = await createDb({ embedded: "in-thread", loadDataDir: await embeddedTemplate() });
  // Already migrated in the template; this only confirms the journal is complete.
  await handle.migrate();
  return handle;
}

/**
 * A second handle on the test database with ONE connection and tight limits, for tests of what
 * happens while that connection is stuck. Postgres: a pool of one with the given timeouts.
 * Embedded: the server's mode — PGlite in its own process, in a fresh data directory seeded with
 * a copy of `source` (so it restarts like the server's after its watchdog fires).
 */
export async function createLimitedTestDb(source: DbHandle, limits: { statementTimeoutMs: number; lockTimeoutMs?: number }): Promise<DbHandle> {
  const url = process.env.TEST_DATABASE_URL || undefined;
  if (url) return createDb({ url, maxConnections: 1, statementTimeoutMs: limits.statementTimeoutMs, lockTimeoutMs: limits.lockTimeoutMs ?? 0 });
  if (!source.dump) throw new Error("the source database cannot be copied");
  const dir = mkdtempSync(join(tmpdir(), "rapt-pglite-"));
  const handle = await createDb({ embedded: "process", dataDir: join(dir, "pg"), loadDataDir: await source.dump(), statementTimeoutMs: limits.statementTimeoutMs });
  return {
    ...handle,
    async close() {
      await handle.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
