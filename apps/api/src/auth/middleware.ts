import { UnauthenticatedError } from "@raptscallions/core";
import type { Context, MiddlewareHandler } from "hono";
import { loadActor } from "../access/actor.ts";
import type { AppEnv } from "../deps.ts";
import { provisionFromToken } from "../services/users/provision.ts";

/** Resolves the actor behind a request's bearer token (verify → provision → load roles). */
export async function authenticate(c: Context<AppEnv>) {
  const { auth, db } = c.var.deps;
  const identity = await auth.verify(c);
  const { userId, activeGroupId } = await provisionFromToken(db.db, identity, auth.roleMap);
  const actor = await loadActor(db.db, userId, activeGroupId);
  if (!actor) throw new UnauthenticatedError("This account is no longer active", { reason: "user-inactive" });
  return actor;
}

/** Every protected route mounts this: no actor, no entry (401 in the error shape). */
export const requireUser: MiddlewareHandler<AppEnv> = async (c, next) => {
  c.set("actor", await authenticate(c));
  await next();
};
