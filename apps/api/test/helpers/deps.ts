import { createDirectoryBlobStore } from "@raptscallions/blob";
import { createMemoryBus, createMemoryKeyValueStore, createMemoryPresence } from "@raptscallions/bus";
import type { DbHandle } from "@raptscallions/db";
import { createModerationClient } from "@raptscallions/gateway";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createTestDb } from "@raptscallions/db/testing";
import { type AppDeps, defaultLiveConfig } from "../../src/deps.ts";
import { cryptoIds, systemClock } from "../../src/lib/clock.ts";
import { createMemoryLogger } from "../../src/lib/logger.ts";
import { createMetrics } from "../../src/lib/metrics.ts";
import { createDevSignIn } from "../../src/auth/dev-sign-in.ts";
import { testAuthenticator, testKeys } from "./auth.ts";
import { createDevOutbox } from "../../src/lib/notify/mail.ts";
import { defaultNotificationSettings } from "../../src/lib/notify/settings.ts";
import { createTestAiService } from "./ai.ts";

/**
 * Dependencies for an app under test: the given database (PGlite, or Postgres when
 * TEST_DATABASE_URL is set), a memory logger, fresh metrics. Override any part.
 */
export async function testDeps(db: DbHandle, overrides: Partial<AppDeps> = {}): Promise<AppDeps & { logger: ReturnType<typeof createMemoryLogger> }> {
  const logger = createMemoryLogger();
  const auth = overrides.auth ?? (await testAuthenticator());
  const testAi = createTestAiService(db, { logger });
  return {
    config: {
      instanceId: `test-${cryptoIds.token(4)}`,
      corsOrigins: ["https://app.example.test"],
      bodyLimitBytes: 64 * 1024,
      uploadLimitBytes: 2 * 1024 * 1024,
      metricsToken: undefined,
      live: defaultLiveConfig(),
    },
    db,
    logger,
    clock: systemClock,
    ids: cryptoIds,
    metrics: createMetrics(),
    readiness: [],
    auth,
    kv: createMemoryKeyValueStore(),
    bus: createMemoryBus().node(),
    presence: createMemoryPresence(),
    blob: createDirectoryBlobStore({ root: mkdtempSync(join(tmpdir(), "rapt-blobs-")) }),
    // The real AiService on an in-process dev model; see helpers/ai.ts (pinDevModel) for models.
    ai: testAi.ai,
    // The dev model's moderation test double, for groups that turn the moderation stage on.
    moderation: createModerationClient({ baseUrl: "http://dev-model.test/v1", fetch: (url, init) => Promise.resolve(testAi.devApp.request(url, init)) }),
    // Dev auth's sign-in routes (/api/dev), as a server on dev auth mounts them, so every sweep covers them.
    devSignIn: createDevSignIn({ keys: await testKeys(), nodeEnv: "test" }),
    // The embedded mail default; suites that send for real pass their own (a test SMTP server).
    notifications: defaultNotificationSettings(createDevOutbox(logger)),
    ...overrides,
  } as AppDeps & { logger: ReturnType<typeof createMemoryLogger> };
}

export { createTestDb };
