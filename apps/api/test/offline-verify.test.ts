import { describe, expect, test } from "bun:test";
import { verifyToken } from "@clerk/backend";
import { importPKCS8, SignJWT } from "jose";
import { generateDevKeyPair } from "../src/auth/dev-keys.ts";
import { createOfflineVerifier, orgOfClaims } from "../src/auth/offline-verify.ts";

// Its own kid: the SDK caches a PEM's key by kid for the whole process.
const keys = await generateDevKeyPair(`offline-${crypto.randomUUID().slice(0, 8)}`);
const other = await generateDevKeyPair(keys.kid);
const PARTIES = ["https://app.example"];
const now = () => Math.floor(Date.now() / 1000);

async function sign(claims: Record<string, unknown>, opts: { pem?: string; header?: Record<string, unknown> } = {}) {
  const key = await importPKCS8(opts.pem ?? keys.privatePem, "RS256");
  return new SignJWT(claims).setProtectedHeader({ alg: "RS256", kid: keys.kid, typ: "JWT", ...opts.header }).sign(key);
}

const base = () => ({ sub: "user_1", sid: "sess_1", iat: now() - 10, nbf: now() - 10, exp: now() + 600, v: 2 });

/** Clerk's own offline verification of the same token: the reference every case is held to. */
async function clerkSays(token: string, authorizedParties: string[]) {
  try {
    await verifyToken(token, { jwtKey: keys.publicPem, authorizedParties });
    return { ok: true as const };
  } catch (err) {
    return { ok: false as const, reason: (err as { reason?: string }).reason ?? "thrown" };
  }
}

describe("offline token verification (the key imported once) agrees with Clerk's SDK", () => {
  const cases: Array<[string, () => Promise<string>]> = [
    ["a valid token", () => sign(base())],
    ["expired beyond the clock skew", () => sign({ ...base(), exp: now() - 30 })],
    ["expired within the clock skew", () => sign({ ...base(), exp: now() - 2 })],
    ["not active yet", () => sign({ ...base(), nbf: now() + 60 })],
    ["issued in the future", () => sign({ ...base(), iat: now() + 60 })],
    ["no exp", () => sign({ sub: "user_1", iat: now() })],
    ["no sub", () => sign({ ...base(), sub: undefined })],
    ["a non-numeric nbf", () => sign({ ...base(), nbf: "soon" })],
    ["another key under the same kid", () => sign(base(), { pem: other.privatePem })],
    ["another token type", () => sign(base(), { header: { typ: "at+jwt" } })],
    ["an authorized party not on the list", () => sign({ ...base(), azp: "https://evil.example" })],
    ["an authorized party on the list", () => sign({ ...base(), azp: PARTIES[0] })],
    [
      "a payload swapped after signing",
      async () => {
        const [h, , s] = (await sign(base())).split(".");
        const [, p] = (await sign({ ...base(), sub: "user_admin" }, { pem: other.privatePem })).split(".");
        return `${h}.${p}.${s}`;
      },
    ],
  ];

  for (const parties of [[], PARTIES]) {
    for (const [name, make] of cases) {
      test(`${name} (authorized parties: ${parties.length ? "set" : "none"})`, async () => {
        const token = await make();
        const ours = await createOfflineVerifier(keys.publicPem, parties)(token);
        const theirs = await clerkSays(token, parties);
        expect(ours.ok).toBe(theirs.ok);
        if (!ours.ok && !theirs.ok) expect(ours.reason).toBe(theirs.reason);
      });
    }
  }

  test("a session still pending is refused (Clerk's getAuth signs it out)", async () => {
    const token = await sign({ ...base(), sts: "pending" });
    expect(await createOfflineVerifier(keys.publicPem)(token)).toEqual({ ok: false, reason: "session-token-pending" });
    expect((await createOfflineVerifier(keys.publicPem)(await sign({ ...base(), sts: "active" }))).ok).toBe(true);
  });

  test("many verifications at once, long and short, good and tampered, each get their own answer (the signed text's buffer is shared)", async () => {
    const verify = createOfflineVerifier(keys.publicPem);
    const tokens = await Promise.all(
      Array.from({ length: 60 }, async (_, i) => {
        // Every third one is longer than the buffer's first size, so it grows while others verify.
        const token = await sign({ ...base(), sub: `user_${i}`, ...(i % 3 === 0 ? { note: "x".repeat(900 + i) } : {}) });
        if (i % 4 !== 1) return { token, sub: `user_${i}`, ok: true };
        // The payload swapped for another's: the signature no longer matches the text.
        const [h, , s] = token.split(".");
        const forged = `${h}.${btoa(JSON.stringify({ ...base(), sub: "user_admin" }))
          .replace(/=+$/, "")
          .replace(/\+/g, "-")
          .replace(/\//g, "_")}.${s}`;
        return { token: forged, sub: null, ok: false };
      }),
    );
    const results = await Promise.all(tokens.map((t) => verify(t.token)));
    results.forEach((r, i) => {
      const want = tokens[i];
      expect(r.ok).toBe(want?.ok ?? true);
      if (r.ok) expect(r.subject).toBe(want?.sub ?? "");
      else expect(r.reason).toBe("token-invalid-signature");
    });
  });

  test("garbage is refused, never thrown", async () => {
    const verify = createOfflineVerifier(keys.publicPem);
    for (const bad of ["", "a.b", "a.b.c", "eyJhbGciOiJSUzI1NiJ9.e30.!!!", `${btoa('{"alg":"RS256"}')}.${btoa("not json")}.abc`]) {
      expect((await verify(bad)).ok).toBe(false);
    }
  });

  test("the organisation is read as Clerk's auth object reads it (v2 `o` with the org: prefix restored, v1 org_*)", () => {
    expect(orgOfClaims({ v: 2, o: { id: "org_1", slg: "north", rol: "admin" } })).toEqual({ id: "org_1", slug: "north", role: "org:admin" });
    expect(orgOfClaims({ v: 2 })).toBeNull();
    expect(orgOfClaims({ org_id: "org_2", org_slug: "south", org_role: "org:member" })).toEqual({ id: "org_2", slug: "south", role: "org:member" });
    expect(orgOfClaims({ v: 2, o: { id: 5 } })).toBeNull();
  });
});
