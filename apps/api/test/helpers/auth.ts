import { createAuthenticator, DEV_PUBLISHABLE_KEY, DEV_SECRET_KEY, mintSessionToken } from "../../src/auth/index.ts";
import { type DevKeyPair, generateDevKeyPair, type SessionTokenInput } from "../../src/auth/dev-keys.ts";
import type { Authenticator } from "../../src/deps.ts";

// One key pair per test process: the Clerk SDK caches local keys by `kid` module-wide.
let keysPromise: Promise<DevKeyPair> | undefined;
export function testKeys(): Promise<DevKeyPair> {
  keysPromise ??= generateDevKeyPair("test-key");
  return keysPromise;
}

/** The production verification path (@hono/clerk-auth, offline jwtKey) with the test key. */
export async function testAuthenticator(opts: { authorizedParties?: string[] } = {}): Promise<Authenticator> {
  const keys = await testKeys();
  return createAuthenticator({
    mode: "dev",
    secretKey: DEV_SECRET_KEY,
    publishableKey: DEV_PUBLISHABLE_KEY,
    jwtKey: keys.publicPem,
    authorizedParties: opts.authorizedParties,
  });
}

/** A session token for a user row (or a Clerk user id). */
export async function tokenFor(user: { clerkUserId: string | null } | string, opts: Omit<SessionTokenInput, "userId"> = {}): Promise<string> {
  const userId = typeof user === "string" ? user : user.clerkUserId;
  if (!userId) throw new Error("tokenFor: user has no Clerk id");
  return mintSessionToken(await testKeys(), { userId, ...opts });
}

export async function authHeader(user: { clerkUserId: string | null } | string, opts: Omit<SessionTokenInput, "userId"> = {}) {
  return { authorization: `Bearer ${await tokenFor(user, opts)}` };
}
