import { decodeJwt } from "@clerk/backend/jwt";

/** What the offline check says about a token: its claims, or the reason Clerk would give for refusing it. */
export type OfflineResult = { ok: true; subject: string; claims: Record<string, unknown> } | { ok: false; reason: string };

const RS256 = { name: "RSASSA-PKCS1-v1_5", hash: "SHA-256" } as const;
// Clerk's default clock skew for exp, nbf and iat.
const CLOCK_SKEW_MS = 5_000;

function pemToDer(pem: string): Uint8Array<ArrayBuffer> {
  const body = pem.replace(/-----(BEGIN|END) [A-Z ]+-----/g, "").replace(/\s+/g, "");
  return Uint8Array.from(atob(body), (c) => c.charCodeAt(0));
}

/** The first claim check Clerk's `verifyJwt` would fail, in its order, as its reason code; null when all pass. */
function claimsProblem(header: Record<string, unknown>, payload: Record<string, unknown>, authorizedParties: readonly string[], now: number): string | null {
  if (header.typ !== undefined && header.typ !== "JWT") return "token-invalid";
  if (header.alg !== "RS256") return "token-invalid-algorithm";
  if (typeof payload.sub !== "string") return "token-verification-failed";
  const azp = payload.azp;
  if (azp && authorizedParties.length > 0 && !authorizedParties.includes(azp as string)) return "token-invalid-authorized-parties";
  const { exp, nbf, iat } = payload;
  if (typeof exp !== "number") return "token-verification-failed";
  if (exp * 1000 <= now - CLOCK_SKEW_MS) return "token-expired";
  if (nbf !== undefined && typeof nbf !== "number") return "token-verification-failed";
  if (typeof nbf === "number" && nbf * 1000 > now + CLOCK_SKEW_MS) return "token-not-active-yet";
  if (iat !== undefined && typeof iat !== "number") return "token-verification-failed";
  if (typeof iat === "number" && iat * 1000 > now + CLOCK_SKEW_MS) return "token-iat-in-the-future";
  return null;
}

/**
 * Verifies a Clerk session token against the instance's PEM public key (`CLERK_JWT_KEY`, or the dev
 * key), the way `@clerk/backend` does offline: its decoding, then the claim checks of its `verifyJwt`
 * (header type and algorithm, `sub`, `azp` against the authorized parties, `exp`/`nbf`/`iat` with
 * its 5 s of clock skew), then the RS256 signature, and a `pending` session counts as signed out.
 *
 * The one difference is the key: the SDK converts and imports the PEM on every verification (a
 * noticeable share of a connection setup's CPU when a reconnect storm brings thousands of tokens
 * this instance has not seen); here it is imported once. The reason codes are Clerk's, so callers
 * report the same `reason` either way (the auth tests hold both to the same table).
 */
export function createOfflineVerifier(publicPem: string, authorizedParties: readonly string[] = []) {
  let key: Promise<CryptoKey> | null = null;
  const imported = () => {
    key ??= crypto.subtle.importKey("spki", pemToDer(publicPem), RS256, false, ["verify"]);
    return key;
  };
  const encoder = new TextEncoder();
  // The signed text's bytes, reused: WebCrypto copies its arguments' bytes when `verify` is called,
  // before it returns its promise, so one buffer serves every verification (concurrent ones too;
  // the tests verify many at once), where encoding each token's text took a new one (≈ 0.7 KB).
  let signed = new Uint8Array(1024);

  return async function verifyOffline(token: string, now = Date.now()): Promise<OfflineResult> {
    let jwt: ReturnType<typeof decodeJwt>;
    try {
      jwt = decodeJwt(token);
    } catch {
      return { ok: false, reason: "token-invalid" };
    }
    const header = jwt.header as unknown as Record<string, unknown>;
    const payload = jwt.payload as unknown as Record<string, unknown>;
    const problem = claimsProblem(header, payload, authorizedParties, now);
    if (problem) return { ok: false, reason: problem };
    let valid = false;
    try {
      const key = await imported();
      // The text signed is the token up to its second dot (header and payload as they came), ASCII.
      const text = token.slice(0, jwt.raw.header.length + 1 + jwt.raw.payload.length);
      if (signed.length < text.length) signed = new Uint8Array(text.length * 2);
      const { written } = encoder.encodeInto(text, signed);
      // The signature as decoded (a fresh array of its own): no copy of it either.
      valid = await crypto.subtle.verify(RS256, key, jwt.signature as Uint8Array<ArrayBuffer>, signed.subarray(0, written));
    } catch {
      return { ok: false, reason: "token-verification-failed" };
    }
    if (!valid) return { ok: false, reason: "token-invalid-signature" };
    // Clerk's `getAuth` treats a session still pending (tasks to complete) as signed out.
    if (payload.sts === "pending") return { ok: false, reason: "session-token-pending" };
    return typeof payload.sub === "string" ? { ok: true, subject: payload.sub, claims: payload } : { ok: false, reason: "token-verification-failed" };
  };
}

/** The organisation a verified token's claims name (session token v2 `o`, or v1 `org_*`), as Clerk's auth object reads it. */
export function orgOfClaims(claims: Record<string, unknown>): { id: string; slug: string | null; role: string | null } | null {
  const str = (v: unknown) => (typeof v === "string" && v.length > 0 ? v : null);
  if (claims.v === 2) {
    const o = claims.o;
    if (!o || typeof o !== "object") return null;
    const { id, slg, rol } = o as Record<string, unknown>;
    const orgId = str(id);
    if (!orgId) return null;
    const role = str(rol);
    return { id: orgId, slug: str(slg), role: role ? `org:${role}` : null };
  }
  const orgId = str(claims.org_id);
  return orgId ? { id: orgId, slug: str(claims.org_slug), role: str(claims.org_role) } : null;
}
