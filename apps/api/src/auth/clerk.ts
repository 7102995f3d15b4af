import { UnauthenticatedError } from "@raptscallions/core";
import { clerkMiddleware, getAuth } from "@hono/clerk-auth";
import type { Context, MiddlewareHandler } from "hono";
import { createHash } from "node:crypto";
import { LRUCache } from "lru-cache";
import { PROFILE_CLAIMS, type TokenIdentity } from "../access/identity.ts";
import { staleSweep } from "../lib/stale-sweep.ts";
import { createOfflineVerifier, orgOfClaims } from "./offline-verify.ts";

export type { TokenIdentity } from "../access/identity.ts";

/** How this instance verifies Clerk session tokens. Dev auth uses the same path with a local key. */
export interface AuthConfig {
  secretKey: string;
  publishableKey: string;
  /** PEM public key: verify offline, never calling Clerk. */
  jwtKey?: string | undefined;
  authorizedParties?: string[] | undefined;
  mode: "clerk" | "dev";
}

// Only a compact JWS reaches the SDK: other bearer shapes (API keys, machine tokens) would make it
// call Clerk's API, and garbage in the signature segment makes it throw (SyntaxError: Unexpected end of data).
const JWT_SHAPE = /^[A-Za-z0-9_-]{2,}\.[A-Za-z0-9_-]{2,}\.[A-Za-z0-9_-]{2,}$/;

function bearerToken(c: Context): string | null {
  const header = c.req.header("authorization");
  if (!header) return null;
  const match = /^Bearer\s+(\S+)\s*$/i.exec(header);
  return match?.[1] ?? "";
}

/** Verified tokens remembered at most this long, and never past their own `exp`. */
const VERIFIED_TTL_MS = 10 * 60_000;
const VERIFIED_MAX = 10_000;
/** How often expired tokens are dropped (Clerk's session tokens live a minute). */
const VERIFIED_SWEEP_MS = 60_000;

/**
 * The cache key of a token: its SHA-256, not the token (a session token is 600–1,000 characters,
 * held for as long as it is remembered, once per connected user). A cryptographic digest, so no
 * token can be made to hit another one's entry.
 */
function tokenKey(token: string): string {
  return createHash("sha256").update(token).digest("base64");
}

/**
 * Verifies the bearer token with @hono/clerk-auth and returns the identity, or throws 401.
 * Isolated here: the rest of the app only ever sees `TokenIdentity`.
 *
 * A token that verified is remembered until its `exp` (keyed by the whole token's digest, so only
 * the very same token hits): verification depends on nothing but the token, the configured keys
 * and the time, and a client reconnecting presents the same token again and again. Whether its
 * user may still act is not part of this; every caller asks the database (or the actor cache,
 * which revocations clear) for that.
 */
export function createTokenVerifier(config: AuthConfig) {
  const verified = new LRUCache<string, RememberedToken>({ max: VERIFIED_MAX, ttl: VERIFIED_TTL_MS, ttlAutopurge: false });
  const sweep = staleSweep(verified, VERIFIED_SWEEP_MS);
  const parties = config.authorizedParties ?? [];
  // With a PEM key (production's CLERK_JWT_KEY, or the dev key) tokens are checked offline with
  // the key imported once; without one, the SDK fetches Clerk's JWKS.
  const offline = config.jwtKey ? createOfflineVerifier(config.jwtKey, parties) : null;
  // Passing options stops the middleware reading env, so every key is passed explicitly.
  const middleware = offline
    ? null
    : (withoutDeprecationBanner(() =>
        clerkMiddleware({
          secretKey: config.secretKey,
          publishableKey: config.publishableKey,
          ...(parties.length > 0 ? { authorizedParties: parties } : {}),
        }),
      ) as unknown as MiddlewareHandler);

  return async function verify(c: Context): Promise<TokenIdentity> {
    const token = bearerToken(c);
    if (token === null) throw new UnauthenticatedError("Missing Authorization: Bearer <session token>");
    if (!JWT_SHAPE.test(token)) throw new UnauthenticatedError("Malformed session token", { reason: "token-malformed" });
    // A remembered token passed every check below when it was verified: the very same token
    // (same digest) needs none of them again.
    const key = tokenKey(token);
    const known = verified.get(key);
    if (known) {
      if (known.exp * 1000 > Date.now()) return recalled(known);
      verified.delete(key);
    }
    if (!hasSaneHeader(token)) throw new UnauthenticatedError("Unsupported session token", { reason: "token-invalid-algorithm" });
    const identity = offline ? await verifyWithKey(offline, token) : await verifyWithSdk(c, token, middleware);
    // The SDK only checks `azp` when the token carries one; a configured list means it must.
    const azp = identity.claims.azp;
    if (parties.length > 0 && (typeof azp !== "string" || !parties.includes(azp))) {
      throw new UnauthenticatedError("Token was not issued for an authorized party", {
        reason: "token-invalid-authorized-parties",
      });
    }
    const exp = identity.claims.exp;
    const untilExpiry = typeof exp === "number" ? exp * 1000 - Date.now() : 0;
    if (untilExpiry > 0) {
      verified.set(key, remembered(identity, exp as number), { ttl: Math.min(untilExpiry, VERIFIED_TTL_MS) });
      sweep.armed();
    }
    return identity;
  };

  async function verifyWithKey(verifyOffline: ReturnType<typeof createOfflineVerifier>, token: string): Promise<TokenIdentity> {
    const result = await verifyOffline(token);
    if (!result.ok) throw new UnauthenticatedError("Invalid or expired session token", { reason: normaliseReason(result.reason) });
    const { claims } = result;
    return {
      clerkUserId: result.subject,
      org: orgOfClaims(claims),
      claims,
    };
  }

  async function verifyWithSdk(c: Context, token: string, middleware: MiddlewareHandler | null): Promise<TokenIdentity> {
    if (!middleware) throw new UnauthenticatedError("Invalid session token", { reason: "token-invalid" });
    // The API authenticates by bearer token only; cookies are ignored (no CSRF surface, no
    // handshake redirects), so the SDK sees a request carrying nothing but the header.
    const original = c.req.raw;
    c.req.raw = new Request(original.url, { method: "GET", headers: { authorization: `Bearer ${token}` } });
    let reason: string | null = null;
    try {
      const res = await middleware(c, async () => {});
      if (res instanceof Response) throw new UnauthenticatedError("Session token was not accepted", { reason: "handshake" });
      reason = c.res.headers.get("x-clerk-auth-reason");
    } catch (err) {
      if (err instanceof UnauthenticatedError) throw err;
      throw new UnauthenticatedError("Invalid session token", { reason: "token-invalid" });
    } finally {
      c.req.raw = original;
      // Clerk's diagnostic headers are for us, not for the client.
      for (const h of ["x-clerk-auth-reason", "x-clerk-auth-status", "x-clerk-auth-message"]) c.res.headers.delete(h);
    }

    const auth = withoutDeprecationBanner(() => getAuth(c));
    if (!auth?.userId) {
      throw new UnauthenticatedError("Invalid or expired session token", { reason: normaliseReason(reason) });
    }
    return {
      clerkUserId: auth.userId,
      org: auth.orgId ? { id: auth.orgId, slug: auth.orgSlug ?? null, role: auth.orgRole ?? null } : null,
      claims: (auth.sessionClaims ?? {}) as Record<string, unknown>,
    };
  }
}

const DEPRECATION_BANNER = 'Clerk - DEPRECATION WARNING: "@hono/clerk-auth"';

/**
 * @hono/clerk-auth prints a multi-line deprecation banner with console.warn the first time each
 * export is called (outside NODE_ENV test/production), which breaks the one-JSON-object-per-line
 * log. The package is our chosen integration and the notice is known (README), so exactly that
 * banner is dropped; any other warning printed meanwhile passes through. The calls are
 * synchronous, so nothing else can run while console.warn is swapped.
 */
function withoutDeprecationBanner<T>(call: () => T): T {
  const warn = console.warn;
  console.warn = (...args: unknown[]) => {
    if (typeof args[0] === "string" && args[0].startsWith(DEPRECATION_BANNER)) return;
    warn(...args);
  };
  try {
    return call();
  } finally {
    console.warn = warn;
  }
}

function normaliseReason(reason: string | null): string {
  if (!reason) return "token-invalid";
  if (reason.includes("expired")) return "token-expired";
  if (reason.includes("not-active") || reason.includes("iat-in-the-future")) return "token-not-active-yet";
  return reason.startsWith("token-") ? reason : "token-invalid";
}

/**
 * What a remembered token keeps: its identity and, of its claims, `exp` and the profile claims
 * provisioning reads, not the whole decoded payload (issuer, times, session and version fields;
 * the session id `sid` is read by nothing, so no identity carries it apart from the claims),
 * as one object: held once per connected user for up to 10 min, allocated amid a setup's garbage,
 * where each object kept keeps a heap block from being freed (bench/README.md, idle-heap.bench.ts).
 * A token without profile claims (Clerk's default session token) keeps no second object for them.
 */
export interface RememberedToken {
  clerkUserId: string;
  org: TokenIdentity["org"];
  exp: number;
  /** The profile claims the token carried (`PROFILE_CLAIMS`), or null for none. */
  profile: Record<string, unknown> | null;
}

export function remembered(identity: TokenIdentity, exp: number): RememberedToken {
  let profile: Record<string, unknown> | null = null;
  for (const name of PROFILE_CLAIMS) {
    if (identity.claims[name] === undefined) continue;
    profile ??= {};
    profile[name] = identity.claims[name];
  }
  return { clerkUserId: identity.clerkUserId, org: identity.org, exp, profile };
}

/** A remembered token's identity, built afresh for the request (its claims object is the request's, not kept). */
export function recalled(known: RememberedToken): TokenIdentity {
  return { clerkUserId: known.clerkUserId, org: known.org, claims: known.profile ? { ...known.profile, exp: known.exp } : { exp: known.exp } };
}

/** Rejects `alg: none` and symmetric algorithms before the SDK sees them. */
function hasSaneHeader(token: string): boolean {
  try {
    const segment = token.split(".")[0] ?? "";
    const header = JSON.parse(atob(segment.replaceAll("-", "+").replaceAll("_", "/"))) as { alg?: unknown };
    return header.alg === "RS256";
  } catch {
    return false;
  }
}
