import type { Bus } from "@raptscallions/bus";
import type { Db, DbOrTx } from "@raptscallions/db";
import type { RoleMap } from "../../access/roles.ts";
import type { Clock, IdGenerator } from "../../lib/clock.ts";
import type { Logger } from "../../lib/logger.ts";
import type { Semaphore } from "../../lib/semaphore.ts";

/**
 * What the Clerk sync services receive. There is no actor: the caller is Clerk, authenticated by
 * the Svix signature before any service runs.
 */
export interface WebhookContext {
  db: Db;
  clock: Clock;
  ids: IdGenerator;
  logger: Logger;
  /** Post-commit revocations go out on it, so every instance re-checks the user's sockets. */
  bus: Bus;
  requestId: string;
  /** Custom Clerk organisation roles → ours (`CLERK_ROLE_MAP`). */
  roleMap: RoleMap;
  /** Bounds how many webhook transactions run at once on this instance (CLERK_WEBHOOK_CONCURRENCY). */
  slots: Semaphore;
}

/** A transaction handle (the sync only ever writes inside the one transaction of a delivery). */
export type Tx = DbOrTx;
