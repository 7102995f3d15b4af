import type { BlobStore } from "@raptscallions/blob";
import type { Bus, KeyValueStore, Presence } from "@raptscallions/bus";
import type { DbHandle } from "@raptscallions/db";
import type { ModerationClient } from "@raptscallions/gateway";
import type { ConsoleBundle } from "@raptscallions/web";
import type { Context } from "hono";
import type { Actor } from "./access/actor.ts";
import type { TokenIdentity } from "./access/identity.ts";
import type { RoleMap } from "./access/roles.ts";
import type { AiService, AnswerRunner } from "./lib/ai-service.ts";
import { DEFAULT_TURN_SLICE_MS } from "./lib/cpu-slices.ts";
import type { InsightsConfig } from "./lib/insights-config.ts";
import type { RetentionConfig } from "./lib/retention-config.ts";
import type { RosterConfig } from "./lib/roster-config.ts";
import type { Clock, IdGenerator } from "./lib/clock.ts";
import type { Logger } from "./lib/logger.ts";
import type { Metrics } from "./lib/metrics.ts";
import type { NotificationSettings } from "./lib/notify/settings.ts";

/** Static settings of one app instance, already parsed and validated (see env.ts). */
export interface AppConfig {
  /** Identifies this instance in logs, stream ownership and presence. */
  instanceId: string;
  corsOrigins: string[];
  bodyLimitBytes: number;
  /** Largest theme asset file accepted; the upload route is exempt from `bodyLimitBytes`. */
  uploadLimitBytes: number;
  /** When set, `/metrics` requires `Authorization: Bearer <token>`. */
  metricsToken?: string | undefined;
  /** Timings and bounds of the live path (see `defaultLiveConfig`). */
  live: LiveConfig;
  /** `whsec_…`: enables `POST /api/webhooks/clerk`. */
  clerkWebhookSecret?: string | undefined;
  /** Clerk webhook transactions run at once on this instance (default 4); the rest wait without a connection. */
  clerkWebhookConcurrency?: number | undefined;
  /**
   * Serve the built-in dev model at `/v1` (no AI_GATEWAY_URL) to callers presenting `apiKey` as
   * a bearer token (this process's own gateway client). Unset in production, where the gateway is
   * remote and `/v1` must not exist.
   */
  devModel?: { tokensPerSecond: number; apiKey: string } | undefined;
  /** Message retention (server.ts runs the job); absent: contents are kept. */
  retention?: RetentionConfig | undefined;
  /** Roster sync (keys of connection secrets, upload limit, the REST client); absent: development defaults. */
  roster?: RosterConfig | undefined;
  /** Session summaries and the attention list; absent: the defaults (`defaultInsightsConfig`). */
  insights?: InsightsConfig | undefined;
}

/** Timings and bounds of the live path; tests shrink them, production keeps the defaults. */
export interface LiveConfig {
  /** Deltas arriving within this window go out as one frame and one publish. */
  coalesceMs: number;
  /**
   * The coalescing timers of all answers are due on a grid this fine (`flush-grid.ts`), so the
   * answers whose windows end together publish in one bus call; never longer than `coalesceMs`.
   * 0: each window ends exactly `coalesceMs` after its first token.
   */
  coalesceGridMs: number;
  /**
   * How often a streaming answer's text is written to its row at most (late joiners and the
   * sweeper start from it and replay the room's buffer after it).
   */
  checkpointMs: number;
  /**
   * A checkpoint is written sooner once the room moved this many events past the last one, so the
   * replay buffer (`LIVE_REPLAY_LIMIT` events) always reaches back to it with room to spare.
   */
  checkpointEvents: number;
  /** How often a generating instance proves it is alive, even while upstream stalls. */
  heartbeatMs: number;
  /** A streaming message whose heartbeat is older than this is finalised as interrupted. */
  staleAfterMs: number;
  sweepIntervalMs: number;
  presenceTtlMs: number;
  ticketTtlMs: number;
  /** A socket whose unsent bytes pass this is closed as a slow consumer (4008). */
  maxBufferedBytes: number;
  /** How often a long-lived connection re-checks its user and each room's access. */
  recheckIntervalMs: number;
  /**
   * How long connection setup may reuse a loaded user and roles (dropped at once by revocations;
   * this bounds staleness only if a revocation is lost). 0 turns the cache off.
   */
  accessCacheMs: number;
  /** Socket subscriptions' `session.view` audit rows are written in batches this often. */
  viewAuditFlushMs: number;
  /** How long a room's feed on an instance outlives its last local watcher (0: not at all). */
  feedLingerMs: number;
  /**
   * The turn starts' slices (`lib/cpu-slices.ts`): how long one event-loop task may spend on queued
   * turns' content modules before the rest wait for the next task (`DEFAULT_TURN_SLICE_MS` unless
   * set). 0 runs each turn's modules where it stands, however many arrive at once.
   */
  turnSliceMs: number;
}

export function defaultLiveConfig(overrides: Partial<LiveConfig> = {}): LiveConfig {
  return {
    coalesceMs: 40,
    coalesceGridMs: 5,
    checkpointMs: 5000,
    checkpointEvents: 250,
    heartbeatMs: 5000,
    staleAfterMs: 30_000,
    sweepIntervalMs: 10_000,
    presenceTtlMs: 30_000,
    ticketTtlMs: 30_000,
    maxBufferedBytes: 1024 * 1024,
    recheckIntervalMs: 60_000,
    accessCacheMs: 5_000,
    viewAuditFlushMs: 250,
    feedLingerMs: 5_000,
    turnSliceMs: DEFAULT_TURN_SLICE_MS,
    ...overrides,
  };
}

/** A named dependency `/ready` checks (database always; Redis and S3 when configured). */
export interface ReadinessCheck {
  name: string;
  check(): Promise<void>;
}

/**
 * Everything the app needs from the outside world, injected so that tests and the embedded
 * defaults can pass their own. The app never reads `process.env` and never starts a server.
 */
export interface AppDeps {
  config: AppConfig;
  db: DbHandle;
  logger: Logger;
  clock: Clock;
  ids: IdGenerator;
  metrics: Metrics;
  readiness: ReadinessCheck[];
  auth: Authenticator;
  /** Shared short-lived state: single-use tickets, caches (Redis when configured). */
  kv: KeyValueStore;
  /** Theme assets (S3 when configured, else a directory). */
  blob: BlobStore;
  /** Room fan-out across instances with offsets and replay (Redis when configured). */
  bus: Bus;
  /** Who is online in which room, across instances, with a TTL. */
  presence: Presence;
  /** The AI gateway as the live path sees it: model resolution, limits, usage. */
  ai: AiService;
  /**
   * The gateway's moderation endpoint, for groups that turn the safety moderation stage on.
   * Absent: such groups get the fail-safe policy on every turn (never a silent "safe").
   */
  moderation?: ModerationClient | undefined;
  /**
   * How alerts reach people: the mail transport (SMTP, or the dev outbox) and the dispatcher's
   * timings. Absent: outbox rows are written but nothing on this instance sends them.
   */
  notifications?: NotificationSettings | undefined;
  /** Dev auth outside production only: mounts `/api/dev` (see routes/dev). */
  devSignIn?: DevSignIn | undefined;
  /** Serves the web console at `/app`; absent, `/app` is not mounted. */
  console?: ConsoleConfig | undefined;
}

/** A seeded user that dev auth can sign in as (`bun run token -- <key>`, the console's picker). */
export interface DevUser {
  key: string;
  clerkUserId: string;
  email: string;
  name: string;
  /** What the person is for in the seeded scene, for a picker's label. */
  role: string;
  /** The Clerk organisation a real session of theirs would carry. */
  org?: { slug: string; clerkOrgId: string; role: string } | undefined;
}

/** Dev auth's sign-in for the console's picker: the seeded users and a token minted for one. */
export interface DevSignIn {
  users: readonly DevUser[];
  mint(user: DevUser): Promise<{ token: string; expiresAt: string }>;
}

export type { ConsoleBundle };

/** The web console at `/app`: where its files come from (built on first use) and how it signs in. */
export interface ConsoleConfig {
  /** Called on the first request to `/app` (and again after a failure), never at start-up. */
  load(): Promise<ConsoleBundle>;
  /** Set when Clerk is configured: the console loads Clerk's sign-in with it. */
  clerkPublishableKey?: string | undefined;
}

/** Verifies bearer tokens (Clerk, or dev auth through the same code path). */
export interface Authenticator {
  mode: "clerk" | "dev";
  verify(c: Context): Promise<TokenIdentity>;
  roleMap: RoleMap;
}

export type AppEnv = {
  Variables: {
    requestId: string;
    deps: AppDeps;
    /** This instance's answer runner, for the request's service context. */
    runner: AnswerRunner;
    actor: Actor;
  };
};
