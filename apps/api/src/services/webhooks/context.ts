import type { DbOrTx } from "@raptscallions/db";
import type { RoleMap } from "../../access/roles.ts";
import type { Semaphore } from "../../lib/semaphore.ts";
import type { ServiceContext, SystemActor } from "../context.ts";

/**
 * What the Clerk sync services receive: the service context with the integration as its actor
 * (no person is behind a delivery; Clerk is authenticated by the Svix signature before any
 * service runs). Post-commit revocations go out on `bus`, so every instance re-checks the user's
 * sockets.
 */
export interface WebhookContext extends ServiceContext<SystemActor> {
  /** Custom Clerk organisation roles → ours (`CLERK_ROLE_MAP`). */
  roleMap: RoleMap;
  /** Bounds how many webhook transactions run at once on this instance (CLERK_WEBHOOK_CONCURRENCY). */
  slots: Semaphore;
}

/** A transaction handle (the sync only ever writes inside the one transaction of a delivery). */
export type Tx = DbOrTx;
