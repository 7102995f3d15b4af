import { UnauthenticatedError } from "@raptscallions/core";
import type { Context, MiddlewareHandler } from "hono";
import type { ActorCache } from "../services/realtime/actor-cache.ts";
import { loadActor } from "../access/actor.ts";
import type { AppEnv } from "../deps.ts";
import { provisionFromToken } from "../services/users/provision.ts";

/**
 * Resolves the actor behind a request's bearer token (verify → provision → load roles). With
 * `actors`, the provisioned user and their roles may come from that short-lived cache (cleared by
 * revocations): for connection setup, where one user asks again within seconds.
 */
export async function authenticate(c: Context<AppEnv>, actors?: ActorCache) {
  const { auth, db } = c.var.deps;
  const identity = await auth.verify(c);
  let actor: Awaited<ReturnType<typeof loadActor>>;
  if (actors) {
    const org = identity.org;
    const principal = await actors.principal({ clerkUserId: identity.clerkUserId, orgId: org?.id ?? null, orgRole: org?.role ?? null }, async () => {
      // Without an organisation to record, a known user needs nothing from provisioning but their
      // id: their actor, loaded by Clerk id, is one statement where the two steps would be two.
      // The actor (no active group) is the principal itself: the cache keeps it as it is.
      const known = org ? null : await actors.byClerkId(db.db, identity.clerkUserId);
      return known ?? provisionFromToken(db.db, identity, auth.roleMap);
    });
    actor = (await actors.actor(db.db, principal.userId, principal.activeGroupId)).actor;
  } else {
    const { userId, activeGroupId } = await provisionFromToken(db.db, identity, auth.roleMap);
    actor = await loadActor(db.db, userId, activeGroupId);
  }
  if (!actor) throw new UnauthenticatedError("This account is no longer active", { reason: "user-inactive" });
  return actor;
}

const authenticating = new WeakSet<MiddlewareHandler<AppEnv>>();

/** Whether `handler` is one of the middlewares below (the OpenAPI document marks such routes as secured). */
export function isAuthenticating(handler: unknown): boolean {
  return typeof handler === "function" && authenticating.has(handler as MiddlewareHandler<AppEnv>);
}

/** Every protected route mounts this: no actor, no entry (401 in the error shape). */
export const requireUser: MiddlewareHandler<AppEnv> = async (c, next) => {
  c.set("actor", await authenticate(c));
  await next();
};
authenticating.add(requireUser);

/** `requireUser` for connection setup: the actor may come from `actors` (see `authenticate`). */
export function requireUserCached(actors: ActorCache): MiddlewareHandler<AppEnv> {
  const handler: MiddlewareHandler<AppEnv> = async (c, next) => {
    c.set("actor", await authenticate(c, actors));
    await next();
  };
  authenticating.add(handler);
  return handler;
}
