import { createDb, isEmpty, seed } from "@raptscallions/db";
import { mkdirSync } from "node:fs";
import { join } from "node:path";
import { createApp } from "./app.ts";
import { createAuthenticator, DEV_PUBLISHABLE_KEY, DEV_SECRET_KEY, loadOrCreateDevKeys } from "./auth/index.ts";
import { parseRoleMap } from "./auth/roles.ts";
import type { AppDeps } from "./deps.ts";
import { parseEnv } from "./env.ts";
import { cryptoIds, systemClock } from "./lib/clock.ts";
import { createLogger } from "./lib/logger.ts";
import { createMetrics } from "./lib/metrics.ts";
import { buildInfrastructure } from "./infra.ts";

const parsed = parseEnv(process.env);
if (!parsed.ok) {
  console.error(`Invalid environment:\n  ${parsed.problems.join("\n  ")}`);
  process.exit(1);
}
const env = parsed.env;
const instanceId = env.INSTANCE_ID ?? `api-${cryptoIds.token(6)}`;
const logger = createLogger({ level: env.LOG_LEVEL, base: { instance: instanceId } });

mkdirSync(env.DATA_DIR, { recursive: true });
const db = await createDb({
  url: env.DATABASE_URL,
  dataDir: env.DATABASE_URL ? undefined : join(env.DATA_DIR, "pg"),
  maxConnections: env.DATABASE_POOL_SIZE,
});
await db.migrate();
if (db.driver === "pglite" && env.SEED_ON_EMPTY && (await isEmpty(db.db))) {
  const scene = await seed(db.db);
  logger.info("seeded the empty embedded database", scene);
}

// Dev auth: the same Clerk verification path, with a local key pair kept in DATA_DIR.
const clerkConfigured = Boolean(env.CLERK_SECRET_KEY || env.CLERK_PUBLISHABLE_KEY || env.CLERK_JWT_KEY);
if (!clerkConfigured && env.NODE_ENV === "production") {
  console.error("Refusing to start: NODE_ENV=production needs CLERK_SECRET_KEY and CLERK_PUBLISHABLE_KEY (dev auth is off in production).");
  process.exit(1);
}
if (clerkConfigured && (!env.CLERK_SECRET_KEY || !env.CLERK_PUBLISHABLE_KEY)) {
  console.error("Invalid environment:\n  CLERK_SECRET_KEY and CLERK_PUBLISHABLE_KEY must be set together");
  process.exit(1);
}
let roleMap;
try {
  roleMap = parseRoleMap(env.CLERK_ROLE_MAP);
} catch (err) {
  console.error(`Invalid environment:\n  CLERK_ROLE_MAP: ${(err as Error).message}`);
  process.exit(1);
}
const devKeys = clerkConfigured ? null : await loadOrCreateDevKeys(env.DATA_DIR);
const auth = createAuthenticator(
  devKeys
    ? { mode: "dev", secretKey: DEV_SECRET_KEY, publishableKey: DEV_PUBLISHABLE_KEY, jwtKey: devKeys.publicPem }
    : {
        mode: "clerk",
        secretKey: env.CLERK_SECRET_KEY ?? "",
        publishableKey: env.CLERK_PUBLISHABLE_KEY ?? "",
        jwtKey: env.CLERK_JWT_KEY,
        authorizedParties: env.CLERK_AUTHORIZED_PARTIES,
      },
  roleMap,
);
if (devKeys) {
  logger.warn("DEV AUTH IS ON: tokens are verified against a local key in DATA_DIR; mint one with `bun run token -- <user>`", {
    keyDir: join(env.DATA_DIR, "dev-auth"),
  });
}

const infra = await buildInfrastructure(env, logger, instanceId);

const deps: AppDeps = {
  config: {
    instanceId,
    corsOrigins: env.CORS_ORIGINS,
    bodyLimitBytes: env.BODY_LIMIT_BYTES,
    uploadLimitBytes: env.UPLOAD_LIMIT_BYTES,
    metricsToken: env.METRICS_TOKEN,
    clerkWebhookSecret: env.CLERK_WEBHOOK_SIGNING_SECRET,
  },
  db,
  logger,
  clock: systemClock,
  ids: cryptoIds,
  metrics: createMetrics(),
  readiness: infra.readiness,
  auth,
  kv: infra.kv,
  blob: infra.blob,
};

const app = createApp(deps);
const server = Bun.serve({
  port: env.PORT,
  hostname: env.HOST,
  fetch: app.fetch,
  maxRequestBodySize: Math.max(env.BODY_LIMIT_BYTES, env.UPLOAD_LIMIT_BYTES) + 64 * 1024,
});
logger.info("listening", {
  url: `http://${env.HOST}:${server.port}`,
  database: db.driver,
  ...infra.describe,
});

let stopping = false;
async function shutdown(signal: string) {
  if (stopping) return;
  stopping = true;
  logger.info("shutting down", { signal });
  // stop(false): refuse new connections, let in-flight requests finish, then close pools.
  const forced = setTimeout(() => process.exit(1), 15_000);
  await server.stop(false);
  await infra.close();
  await db.close();
  clearTimeout(forced);
  logger.info("stopped");
  process.exit(0);
}
process.on("SIGTERM", () => void shutdown("SIGTERM"));
process.on("SIGINT", () => void shutdown("SIGINT"));
