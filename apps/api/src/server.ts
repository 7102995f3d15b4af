import { createDb, seedIfEmpty } from "@raptscallions/db";
import { bundledClassifier } from "@raptscallions/modules";
import { MemoryLimitStore, RedisLimitStore } from "@raptscallions/gateway";
import { mkdirSync } from "node:fs";
import { join } from "node:path";
import { loadConsole } from "@raptscallions/web";
import { createApp } from "./app.ts";
import { createDevSignIn } from "./auth/dev-sign-in.ts";
import { createAuthenticator, DEV_PUBLISHABLE_KEY, DEV_SECRET_KEY, loadOrCreateDevKeys } from "./auth/index.ts";
import { parseRoleMap, type RoleMap } from "./access/roles.ts";
import { bunServeOptions } from "./bun-serve.ts";
import { type AppDeps, defaultLiveConfig } from "./deps.ts";
import { parseEnv } from "./env.ts";
import { runtimeEnvMismatches } from "./runtime-options.ts";
import { buildInfrastructure } from "./infra.ts";
import { appJobs, createJobRegistry, type JobRegistry } from "./jobs/index.ts";
import { cryptoIds, systemClock } from "./lib/clock.ts";
import { createLogger, type Logger } from "./lib/logger.ts";
import { type MemoryReducerStats, startMemoryReducer } from "./lib/memory-reducer.ts";
import { createMetrics } from "./lib/metrics.ts";
import { attachServer } from "./realtime/bun.ts";
import { buildGatewayClient, buildModerationClient, createAiService, embeddedGatewayUrl } from "./services/ai/index.ts";
import { defaultRetentionConfig } from "./services/retention/index.ts";
import { defaultRosterConfig } from "./lib/roster-config.ts";
import { defaultInsightsConfig } from "./lib/insights-config.ts";
import { openOneRosterRestSource } from "./services/roster/settings.ts";
import { createNotificationDispatcher } from "./services/notifications/dispatcher.ts";
import { createDevOutbox, createSmtpTransport } from "./lib/notify/mail.ts";
import { defaultNotificationSettings } from "./lib/notify/settings.ts";

/** A configuration the server refuses to start with; the entry point prints it and exits 1. */
export class StartupError extends Error {}

/** A running server: what tests and the entry point hold on to. */
export interface ServerHandle {
  /** `http://host:port` with the port actually bound (PORT=0 picks a free one). */
  url: string;
  port: number;
  deps: AppDeps;
  jobs: JobRegistry;
  logger: Logger;
  /** The memory reducer's collections so far (see lib/memory-reducer.ts). */
  memory: MemoryReducerStats;
  /**
   * Stops in order: jobs (awaited, bounded), live sockets and answers (4012, then a grace period),
   * the HTTP server (in-flight requests finish), then Redis, S3 and the database. Idempotent.
   */
  stop(): Promise<void>;
}

/** The environment's settings that need no I/O, checked before anything is opened. */
function checkStartup(source: Record<string, string | undefined>) {
  const parsed = parseEnv(source);
  if (!parsed.ok) throw new StartupError(`Invalid environment:\n  ${parsed.problems.join("\n  ")}`);
  const env = parsed.env;
  // The built-in dev model has canned replies and no limits of its own: production needs a gateway.
  if (!env.AI_GATEWAY_URL && env.NODE_ENV === "production") {
    throw new StartupError("Refusing to start: NODE_ENV=production needs AI_GATEWAY_URL (the built-in dev model is not served in production).");
  }
  const clerkConfigured = Boolean(env.CLERK_SECRET_KEY || env.CLERK_PUBLISHABLE_KEY || env.CLERK_JWT_KEY);
  if (!clerkConfigured && env.NODE_ENV === "production") {
    throw new StartupError("Refusing to start: NODE_ENV=production needs CLERK_SECRET_KEY and CLERK_PUBLISHABLE_KEY (dev auth is off in production).");
  }
  if (clerkConfigured && (!env.CLERK_SECRET_KEY || !env.CLERK_PUBLISHABLE_KEY)) {
    throw new StartupError("Invalid environment:\n  CLERK_SECRET_KEY and CLERK_PUBLISHABLE_KEY must be set together");
  }
  let roleMap: RoleMap;
  try {
    roleMap = parseRoleMap(env.CLERK_ROLE_MAP);
  } catch (err) {
    throw new StartupError(`Invalid environment:\n  CLERK_ROLE_MAP: ${(err as Error).message}`);
  }
  return { env, clerkConfigured, roleMap };
}

/**
 * Starts the whole server from an environment (default `process.env`): database (migrated, and
 * seeded when embedded), Redis/S3 or their embedded stand-ins, the app on `Bun.serve`, the live
 * runtime and the background jobs. Installs no signal handlers and never exits the process, so
 * a test can start it in process and `stop()` it.
 */
export async function main(options: { env?: Record<string, string | undefined> } = {}): Promise<ServerHandle> {
  const { env, clerkConfigured, roleMap } = checkStartup(options.env ?? process.env);
  const instanceId = env.INSTANCE_ID ?? `api-${cryptoIds.token(6)}`;
  const logger = createLogger({ level: env.LOG_LEVEL, base: { instance: instanceId } });
  // What was opened so far, closed in reverse if a later step fails.
  const opened: (() => Promise<unknown>)[] = [];
  const closeOpened = async () => {
    for (const close of opened.reverse()) await close().catch((err: unknown) => logger.error("close after a failed start", { err }));
  };

  try {
    mkdirSync(env.DATA_DIR, { recursive: true });
    const db = await createDb({
      url: env.DATABASE_URL,
      migrationUrl: env.DATABASE_MIGRATION_URL,
      dataDir: env.DATABASE_URL ? undefined : join(env.DATA_DIR, "pg"),
      maxConnections: env.DATABASE_POOL_SIZE,
      statementTimeoutMs: env.DATABASE_STATEMENT_TIMEOUT_MS,
      lockTimeoutMs: env.DATABASE_LOCK_TIMEOUT_MS,
      idleInTransactionTimeoutMs: env.DATABASE_IDLE_IN_TRANSACTION_TIMEOUT_MS,
      // PGlite runs in a child process: a stuck statement is killed by the watchdog, never the API's event loop.
      embedded: "process",
      onEmbeddedEvent: (event) => (event.type === "restarted" ? logger.info("embedded database restarted", event) : logger.error("embedded database stopped", event)),
    });
    opened.push(() => db.close());
    await db.migrate();
    // Every pooled connection opens now, not inside the first burst of requests (which would wait
    // for the connects and hold their memory among the sockets they open).
    await db.warm();
    // Unset: only the embedded database is seeded. A Postgres is seeded only when asked to
    // (SEED_ON_EMPTY=true), and then once however many instances start together.
    if (env.SEED_ON_EMPTY ?? db.driver === "pglite") {
      const scene = await seedIfEmpty(db.db);
      if (scene) logger.info("seeded the empty database", { driver: db.driver, ...scene });
    }

    // The safety classifier's weights are parsed once per process; doing it here keeps that cost
    // (tens of ms, more under load) off the first student's message.
    const classifierStarted = performance.now();
    bundledClassifier();
    logger.debug("safety classifier loaded", { ms: Math.round(performance.now() - classifierStarted) });

    // Dev auth: the same Clerk verification path, with a local key pair kept in DATA_DIR.
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
    opened.push(() => infra.close());

    // AI: a remote gateway when AI_GATEWAY_URL is set; otherwise this server serves the dev model at
    // /v1 and reaches it over HTTP like a remote one (the URL is known once Bun.serve has a port).
    const metrics = createMetrics();
    const embeddedDevModel = env.AI_GATEWAY_URL ? undefined : { tokensPerSecond: env.AI_DEV_TOKENS_PER_SECOND, apiKey: cryptoIds.token(32) };
    const gatewayConfig = {
      gatewayUrl: env.AI_GATEWAY_URL,
      apiKey: embeddedDevModel ? embeddedDevModel.apiKey : env.AI_API_KEY,
      firstTokenTimeoutMs: env.AI_FIRST_TOKEN_TIMEOUT_MS,
      idleTimeoutMs: env.AI_IDLE_TIMEOUT_MS,
      maxRetries: env.AI_MAX_RETRIES,
    };
    let boundPort: number = env.PORT;
    const embeddedUrl = () => embeddedGatewayUrl(env.HOST, boundPort);
    const gateway = buildGatewayClient(gatewayConfig, embeddedUrl);
    const moderation = buildModerationClient(gatewayConfig, embeddedUrl);
    const ai = createAiService({
      db: db.db,
      client: gateway,
      // One reserve touches the user's and every group's counters in one script: on a Cluster
      // they share a hash tag (one slot). A turn runs one script, so one slot carries the load.
      limits: infra.redis ? new RedisLimitStore(infra.redis, { keyPrefix: infra.redisCluster ? "rapt:{limits}:" : "rapt:limits:" }) : new MemoryLimitStore(),
      defaultModel: env.AI_DEFAULT_MODEL,
      clock: systemClock,
      logger,
      metrics,
    });

    const mail = env.SMTP_URL ? createSmtpTransport(env.SMTP_URL, { maxConnections: env.SMTP_POOL_SIZE }) : createDevOutbox(logger);
    opened.push(() => mail.close());

    const deps: AppDeps = {
      config: {
        instanceId,
        corsOrigins: env.CORS_ORIGINS,
        bodyLimitBytes: env.BODY_LIMIT_BYTES,
        uploadLimitBytes: env.UPLOAD_LIMIT_BYTES,
        metricsToken: env.METRICS_TOKEN,
        clerkWebhookSecret: env.CLERK_WEBHOOK_SIGNING_SECRET,
        clerkWebhookConcurrency: env.CLERK_WEBHOOK_CONCURRENCY,
        devModel: embeddedDevModel,
        retention: defaultRetentionConfig({
          defaultDays: env.RETENTION_DAYS ?? null,
          under13Days: env.RETENTION_UNDER13_DAYS,
          mode: env.RETENTION_MODE,
          intervalMs: env.RETENTION_INTERVAL_MS,
          batchSize: env.RETENTION_BATCH_SIZE,
        }),
        roster: defaultRosterConfig({
          key: env.ROSTER_CREDENTIALS_KEY,
          previousKeys: env.ROSTER_CREDENTIALS_PREVIOUS_KEYS,
          uploadLimitBytes: env.ROSTER_UPLOAD_LIMIT_BYTES,
          pollIntervalMs: env.ROSTER_POLL_INTERVAL_MS,
          openRestSource: openOneRosterRestSource,
        }),
        insights: defaultInsightsConfig({
          summaryIntervalMs: env.SUMMARY_INTERVAL_MS,
          summaryMaxAttempts: env.SUMMARY_MAX_ATTEMPTS,
          stuckAfterSeconds: env.ATTENTION_STUCK_AFTER_SECONDS,
          silentAfterSeconds: env.ATTENTION_SILENT_AFTER_SECONDS,
          attentionDebounceMs: env.ATTENTION_DEBOUNCE_MS,
        }),
        live: defaultLiveConfig({
          coalesceMs: env.LIVE_COALESCE_MS,
          coalesceGridMs: env.LIVE_COALESCE_GRID_MS,
          // An eighth of the replay buffer: late joiners and the sweeper replay from a checkpoint.
          checkpointEvents: Math.min(250, Math.floor(env.LIVE_REPLAY_LIMIT / 8)),
          staleAfterMs: env.LIVE_STALE_AFTER_MS,
          sweepIntervalMs: env.LIVE_SWEEP_INTERVAL_MS,
          heartbeatMs: env.LIVE_HEARTBEAT_MS,
          maxBufferedBytes: env.LIVE_MAX_BUFFERED_BYTES,
          presenceTtlMs: env.LIVE_PRESENCE_TTL_MS,
          accessCacheMs: env.LIVE_ACCESS_CACHE_MS,
          viewAuditFlushMs: env.LIVE_VIEW_AUDIT_FLUSH_MS,
          feedLingerMs: env.LIVE_FEED_LINGER_MS,
          turnSliceMs: env.LIVE_TURN_SLICE_MS,
        }),
      },
      db,
      logger,
      clock: systemClock,
      ids: cryptoIds,
      metrics,
      readiness: infra.readiness,
      auth,
      kv: infra.kv,
      blob: infra.blob,
      bus: infra.bus,
      presence: infra.presence,
      ai,
      moderation,
      notifications: defaultNotificationSettings(mail, {
        from: env.MAIL_FROM,
        publicUrl: (env.PUBLIC_URL ?? `http://localhost:${env.PORT}`).replace(/\/+$/, ""),
        pollMs: env.NOTIFY_POLL_MS,
        maxAttempts: env.NOTIFY_MAX_ATTEMPTS,
        webhookTimeoutMs: env.NOTIFY_WEBHOOK_TIMEOUT_MS,
      }),
      devSignIn: createDevSignIn({ keys: devKeys, nodeEnv: env.NODE_ENV }),
      // Built by Bun's bundler on the first request to /app unless `bun apps/web/build.ts` prebuilt it.
      console: { load: () => loadConsole(), clerkPublishableKey: env.CLERK_PUBLISHABLE_KEY },
    };

    if (deps.config.roster?.devKey) {
      logger.warn("ROSTER_CREDENTIALS_KEY is unset: roster connection secrets are encrypted with the public development key");
    }
    const app = createApp(deps);
    const server = Bun.serve({ port: env.PORT, hostname: env.HOST, ...bunServeOptions(app, deps) });
    boundPort = server.port ?? env.PORT;
    opened.push(() => server.stop(true));
    attachServer(app.realtime, server);
    opened.push(() => app.realtime.shutdown(0));

    const jobs = createJobRegistry({ deps, runner: app.realtime.runner }, { namespace: env.JOBS_NAMESPACE });
    for (const job of appJobs(deps.config)) jobs.register(job);
    jobs.start();
    const notifications = deps.notifications ? createNotificationDispatcher(deps, deps.notifications) : null;
    // Never rejects (failures are logged and retried); the server does not wait for the first claim.
    void notifications?.start();

    // After a burst (a reconnect storm, a class arriving) the setups' garbage would otherwise keep
    // RSS at the burst's peak until the next one; collected only once the instance is quiet.
    const reducer = startMemoryReducer(
      {
        quietMs: env.MEMORY_REDUCER_QUIET_MS,
        growthBytes: env.MEMORY_REDUCER_GROWTH_MB * 1048576,
        growthShare: env.MEMORY_REDUCER_GROWTH_PERCENT / 100,
        youngGrowthBytes: env.MEMORY_REDUCER_YOUNG_KB * 1024,
      },
      logger,
    );
    opened.push(async () => reducer.stop());

    const url = `http://${env.HOST}:${boundPort}`;
    logger.info("listening", {
      url,
      database: db.driver,
      ai: env.AI_GATEWAY_URL ? "gateway" : "embedded dev model at /v1",
      jobs: jobs.names(),
      mail: mail.kind,
      ...infra.describe,
    });

    let stopping: Promise<void> | null = null;
    const stop = () => {
      stopping ??= (async () => {
        reducer.stop();
        // A job mid-run gets its signal aborted and a few seconds to reach a safe point.
        await Promise.all([jobs.stop(5_000), notifications?.stop(5_000)]);
        // Sockets get 4012 (reconnect elsewhere, resume by offset); answers get a grace period, then
        // are finalised as interrupted so no row stays streaming.
        await app.realtime.shutdown(10_000);
        // stop(false): refuse new connections, let in-flight requests finish, then close pools.
        await server.stop(false);
        await mail.close();
        await infra.close();
        await db.close();
        logger.info("stopped");
      })();
      return stopping;
    };
    return { url, port: boundPort, deps, jobs, logger, memory: reducer.stats, stop };
  } catch (err) {
    await closeOpened();
    throw err;
  }
}

if (import.meta.main) {
  let handle: ServerHandle;
  try {
    handle = await main();
  } catch (err) {
    if (!(err instanceof StartupError)) throw err;
    console.error(err.message);
    process.exit(1);
  }
  const running = handle;
  // JavaScriptCore reads its options only when the process starts: say so if it was started some other way.
  const mismatched = runtimeEnvMismatches(process.env);
  if (mismatched.length > 0) {
    running.logger.warn("started without the runtime options of apps/api/src/runtime-options.ts: start it with `bun run start` or the Docker image", {
      expected: mismatched,
    });
  }
  const shutdown = async (signal: string) => {
    running.logger.info("shutting down", { signal });
    const forced = setTimeout(() => process.exit(1), 15_000);
    await running.stop();
    clearTimeout(forced);
    process.exit(0);
  };
  process.on("SIGTERM", () => void shutdown("SIGTERM"));
  process.on("SIGINT", () => void shutdown("SIGINT"));
}
