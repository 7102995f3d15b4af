import type { DbHandle } from "@raptscallions/db";
import type { Context } from "hono";
import type { Actor } from "./access/actor.ts";
import type { TokenIdentity } from "./auth/clerk.ts";
import type { RoleMap } from "./auth/roles.ts";
import type { Clock, IdGenerator } from "./lib/clock.ts";
import type { Logger } from "./lib/logger.ts";
import type { Metrics } from "./lib/metrics.ts";

/** Static settings of one app instance, already parsed and validated (see env.ts). */
export interface AppConfig {
  /** Identifies this instance in logs, stream ownership and presence. */
  instanceId: string;
  corsOrigins: string[];
  bodyLimitBytes: number;
  /** When set, `/metrics` requires `Authorization: Bearer <token>`. */
  metricsToken?: string | undefined;
  /** `whsec_…`: enables `POST /api/webhooks/clerk`. */
  clerkWebhookSecret?: string | undefined;
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
    actor: Actor;
  };
};
