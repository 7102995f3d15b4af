import { createDb, type DbHandle } from "../client.ts";

/**
 * A migrated database for one test file: embedded PGlite in memory by default, the real Postgres
 * named by `TEST_DATABASE_URL` when set (CI sets it). Factories make unique rows, so files can
 * share one Postgres without truncating.
 */
export async function createTestDb(): Promise<DbHandle> {
  // Test-only entry point: the one place in packages/db that looks at the environment.
  const url = process.env.TEST_DATABASE_URL || undefined;
  const handle = await createDb({ url, maxConnections: 5 });
  await handle.migrate();
  return handle;
}
