import type { Bus } from "@raptscallions/bus";
import type { Db } from "@raptscallions/db";
import type { Context } from "hono";
import type { Actor } from "../access/actor.ts";
import type { AppEnv } from "../deps.ts";
import type { Clock, IdGenerator } from "../lib/clock.ts";
import type { Logger } from "../lib/logger.ts";

/** What every service call receives: who is asking, and the infrastructure to answer with. */
export interface ServiceContext {
  db: Db;
  actor: Actor;
  requestId: string;
  clock: Clock;
  ids: IdGenerator;
  logger: Logger;
  /** For what must reach every instance after a commit (revocations of live access). */
  bus: Bus;
}

/** Builds the service context of an authenticated request (after `requireUser`). */
export function serviceContext(c: Context<AppEnv>): ServiceContext {
  const deps = c.var.deps;
  return {
    db: deps.db.db,
    actor: c.var.actor,
    requestId: c.var.requestId,
    clock: deps.clock,
    ids: deps.ids,
    logger: deps.logger,
    bus: deps.bus,
  };
}
