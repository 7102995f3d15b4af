import type { BlobStore } from "@raptscallions/blob";
import type { Bus, KeyValueStore } from "@raptscallions/bus";
import { type Db, type DbHandle, idsFromPath } from "@raptscallions/db";
import type { Context } from "hono";
import type { Actor } from "../access/actor.ts";
import type { AppDeps, AppEnv, LiveConfig } from "../deps.ts";
import type { AiService, AnswerRunner } from "../lib/ai-service.ts";
import type { Clock, IdGenerator } from "../lib/clock.ts";
import type { Logger } from "../lib/logger.ts";

/**
 * Who does work that no signed-in person asked for: a job of this server (`system`, named after
 * the job: "retention", "sweeper") or a sync from an outside source (`integration`, with the
 * source's own id and a display name: Clerk, a roster connection). It holds no roles; code that
 * runs for it calls service cores, which skip the person's permission checks, and audits under
 * its name.
 */
export type SystemActor = { kind: "system"; name: string } | { kind: "integration"; id: string; name: string };

/** Who a piece of work is done for: a signed-in person (`Actor`, kind "user") or the system. */
export type Principal = Actor | SystemActor;

/**
 * The one context every service call receives, whatever started it: a REST request, a
 * WebSocket frame, a webhook delivery, or (with a `SystemActor`) work without a person behind
 * it. Built only by {@link buildServiceContext}. `A` is who acts: a person by default; a service
 * that also serves the system says so in its signature (`ServiceContext<Principal>`), and a
 * public route's context has no one (`null`).
 */
export interface ServiceContext<A extends Principal | null = Actor> {
  actor: A;
  /** Joins log lines and audit rows of one request (or one socket frame). */
  requestId: string;
  /** The database as the actor may see it: row-level security keeps it to their districts. */
  db: Db;
  /**
   * The system scope, every district's rows. Only for what must look past the actor's reach:
   * a refusal that depends on rows outside it (erasure needs the person's whole footprint) and
   * work the server carries on for itself after the request. Each use says why.
   */
  systemDb: Db;
  clock: Clock;
  ids: IdGenerator;
  logger: Logger;
  /** Room fan-out across instances; also carries revocations after a commit. */
  bus: Bus;
  /** Shared short-lived state (tickets, the theme cache). */
  kv: KeyValueStore;
  /** Theme assets. */
  blob: BlobStore;
  /** The AI gateway: model resolution, limits, usage. */
  ai: AiService;
  /** This instance's answer runner (answers outlive the request that started them). */
  runner: AnswerRunner;
  /** Timings and bounds of the live path. */
  live: LiveConfig;
  instanceId: string;
}

/** The one builder: everything but who acts comes from the app's dependencies. */
export function buildServiceContext<A extends Principal | null>(deps: AppDeps, runner: AnswerRunner, who: { actor: A; requestId: string }): ServiceContext<A> {
  return {
    actor: who.actor,
    requestId: who.requestId,
    db: dbFor(deps.db, who.actor),
    systemDb: deps.db.db,
    clock: deps.clock,
    ids: deps.ids,
    logger: deps.logger,
    bus: deps.bus,
    kv: deps.kv,
    blob: deps.blob,
    ai: deps.ai,
    runner,
    live: deps.config.live,
    instanceId: deps.config.instanceId,
  };
}

/**
 * The database as the one acting may see it (row-level security, docs/privacy.md): a person gets
 * the districts of every group and class they belong to (a system admin: every district); the
 * system, an integration and a public request (which reads only what is public by design, such
 * as a theme asset) get the system scope.
 */
export function dbFor(db: DbHandle, actor: Principal | null): Db {
  if (actor === null || actor.kind !== "user" || actor.isSystemAdmin) return db.db;
  // An actor is never changed once loaded (a reload or a revocation makes a new one), and the
  // actor cache hands the same object to every request and socket of its user for a while: its
  // reach (a path split per membership, uuid checks, a sort) is worked out once per object.
  // Only a weak map entry per actor is added (no object of its own: every connected user has one).
  let byActor = scopedByActor.get(db);
  if (!byActor) {
    byActor = new WeakMap();
    scopedByActor.set(db, byActor);
  }
  let scoped = byActor.get(actor);
  if (!scoped) {
    scoped = db.scoped(reachOf(actor));
    byActor.set(actor, scoped);
  }
  return scoped;
}

const scopedByActor = new WeakMap<DbHandle, WeakMap<Actor, Db>>();

/**
 * The person's districts: the roots of their groups' and classes' paths, and the districts where
 * they own sessions or runs (a student who left still reads their own transcripts; the access
 * policy decides which of that district's rows they get, as everywhere).
 */
export function reachOf(actor: Actor): { tenantIds: string[]; userId: string | null } {
  const roots = new Set<string>();
  const rootOf = (path: string) => idsFromPath(path)[0];
  for (const g of actor.groupRoles) {
    const root = rootOf(g.path);
    if (root) roots.add(root);
  }
  for (const c of actor.classRoles.values()) {
    const root = rootOf(c.groupPath);
    if (root) roots.add(root);
  }
  for (const district of actor.recordDistricts ?? []) roots.add(district);
  // The person's own `users` row is visible through a membership in their reach whenever they
  // have one, so only someone without any needs the own-row setting. Leaving it out otherwise
  // lets every member of the same districts share one scoped handle and its prepared statements:
  // per person, a new student's first statements paid for building them.
  const member = actor.groupRoles.length > 0 || actor.classRoles.size > 0;
  return { tenantIds: [...roots], userId: member ? null : actor.userId };
}

/** The context of an authenticated request (after `requireUser`). */
export function serviceContext(c: Context<AppEnv>): ServiceContext {
  return buildServiceContext(c.var.deps, c.var.runner, { actor: c.var.actor, requestId: c.var.requestId });
}

/** The context of a public request: no one is signed in. */
export function publicContext(c: Context<AppEnv>): ServiceContext<null> {
  return buildServiceContext(c.var.deps, c.var.runner, { actor: null, requestId: c.var.requestId });
}

/** The context of work a system actor does in a request (a webhook delivery); jobs get theirs from the job registry. */
export function systemContext(c: Context<AppEnv>, actor: SystemActor): ServiceContext<SystemActor> {
  return buildServiceContext(c.var.deps, c.var.runner, { actor, requestId: c.var.requestId });
}
