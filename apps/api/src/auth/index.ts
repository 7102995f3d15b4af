import type { Authenticator } from "../deps.ts";
import { type AuthConfig, createTokenVerifier } from "./clerk.ts";
import type { RoleMap } from "../access/roles.ts";

export type { AuthConfig, TokenIdentity } from "./clerk.ts";
export { DEV_PUBLISHABLE_KEY, DEV_SECRET_KEY, loadOrCreateDevKeys, mintSessionToken } from "./dev-keys.ts";

/** The authenticator the app is given: Clerk in production, the same path with a local key in dev. */
export function createAuthenticator(config: AuthConfig, roleMap: RoleMap = {}): Authenticator {
  return { mode: config.mode, verify: createTokenVerifier(config), roleMap };
}
