import type { DbHandle } from "@raptscallions/db";
import { createTestDb } from "@raptscallions/db/testing";
import type { AppDeps } from "../../src/deps.ts";
import { cryptoIds, systemClock } from "../../src/lib/clock.ts";
import { createMemoryLogger } from "../../src/lib/logger.ts";
import { createMetrics } from "../../src/lib/metrics.ts";
import { testAuthenticator } from "./auth.ts";

/**
 * Dependencies for an app under test: the given database (PGlite, or Postgres when
 * TEST_DATABASE_URL is set), a memory logger, fresh metrics. Override any part.
 */
export async function testDeps(
  db: DbHandle,
  overrides: Partial<AppDeps> = {},
): Promise<AppDeps & { logger: ReturnType<typeof createMemoryLogger> }> {
  const logger = createMemoryLogger();
  const auth = overrides.auth ?? (await testAuthenticator());
  return {
    config: {
      instanceId: `test-${cryptoIds.token(4)}`,
      corsOrigins: ["https://app.example.test"],
      bodyLimitBytes: 64 * 1024,
      metricsToken: undefined,
    },
    db,
    logger,
    clock: systemClock,
    ids: cryptoIds,
    metrics: createMetrics(),
    readiness: [],
    auth,
    ...overrides,
  } as AppDeps & { logger: ReturnType<typeof createMemoryLogger> };
}

export { createTestDb };
