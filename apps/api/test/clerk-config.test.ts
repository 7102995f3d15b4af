import { afterAll, describe, expect, test } from "bun:test";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createAuthenticator, DEV_PUBLISHABLE_KEY } from "../src/auth/index.ts";
import { generateDevKeyPair, loadOrCreateDevKeys, mintSessionToken } from "../src/auth/dev-keys.ts";
import { parseEnv } from "../src/env.ts";
import { useHarness } from "./helpers/harness.ts";
import { startServerProcess } from "./helpers/server-process.ts";

const h = useHarness();

/** `/api/me` through the production Clerk path (mode "clerk", offline jwtKey) with this key. */
async function meWithKey(jwtKey: string | undefined, token: string): Promise<number> {
  const auth = createAuthenticator({ mode: "clerk", secretKey: "sk_test_unused", publishableKey: DEV_PUBLISHABLE_KEY, jwtKey });
  const { app } = await h.withApp({ deps: { auth } });
  return (await app.request("/api/me", { headers: { authorization: `Bearer ${token}` } })).status;
}

describe("CLERK_JWT_KEY", () => {
  test("a key given on one line with \\n escapes verifies tokens like the multi-line PEM", async () => {
    // Unique kids: the Clerk SDK caches a local key per token kid for the life of the process.
    const pair = await generateDevKeyPair(`one-line-${crypto.randomUUID()}`);
    const oneLine = pair.publicPem.trim().replaceAll("\n", "\\n");
    expect(oneLine).not.toContain("\n");
    const parsed = parseEnv({ CLERK_JWT_KEY: oneLine });
    if (!parsed.ok) throw new Error(parsed.problems.join("; "));
    expect(parsed.env.CLERK_JWT_KEY).toBe(pair.publicPem.trim());
    const token = await mintSessionToken(pair, { userId: `user_oneline_${crypto.randomUUID().slice(0, 8)}` });
    expect(await meWithKey(parsed.env.CLERK_JWT_KEY, token)).toBe(200);

    // What the SDK makes of the escaped form unaided: every token refused.
    const raw = await generateDevKeyPair(`raw-${crypto.randomUUID()}`);
    const rawToken = await mintSessionToken(raw, { userId: `user_raw_${crypto.randomUUID().slice(0, 8)}` });
    expect(await meWithKey(raw.publicPem.trim().replaceAll("\n", "\\n"), rawToken)).toBe(401);
  });

  test("quotes, CRLF and indentation are tolerated; anything that is not a PEM public key is a bad key", async () => {
    const pair = await generateDevKeyPair();
    const pem = pair.publicPem.trim();
    for (const variant of [`"${pem.replaceAll("\n", "\\n")}"`, pem.replaceAll("\n", "\r\n"), `  ${pem.replaceAll("\n", "\n  ")}\n`]) {
      const parsed = parseEnv({ CLERK_JWT_KEY: variant });
      expect(parsed.ok && parsed.env.CLERK_JWT_KEY).toBe(pem);
    }
    for (const bad of ["not a key", pair.privatePem]) {
      const parsed = parseEnv({ CLERK_JWT_KEY: bad });
      expect(parsed.ok).toBe(false);
      if (!parsed.ok) expect(parsed.problems.join()).toContain("CLERK_JWT_KEY");
    }
    const unset = parseEnv({ CLERK_JWT_KEY: "" });
    expect(unset.ok && unset.env.CLERK_JWT_KEY).toBeUndefined();
  });
});

describe("server.ts output", () => {
  const dataDir = mkdtempSync(join(tmpdir(), "rapt-jsonlog-"));
  afterAll(() => rmSync(dataDir, { recursive: true, force: true }));

  test("every line on stdout and stderr is one JSON object, including after the first verified token", async () => {
    // NODE_ENV=development: Clerk prints its deprecation banner in neither test nor production.
    const server = await startServerProcess({ NODE_ENV: "development", DATA_DIR: dataDir, DATABASE_URL: "", REDIS_URL: "", LOG_LEVEL: "info", SEED_ON_EMPTY: "false" });
    try {
      const token = await mintSessionToken(await loadOrCreateDevKeys(dataDir), { userId: "user_dev_teacher" });
      const me = await fetch(`${server.baseUrl}/api/me`, { headers: { authorization: `Bearer ${token}` } });
      expect(me.status).toBe(200);
    } finally {
      expect(await server.stop()).toBe(0);
    }
    const lines = `${server.output.stdout}\n${server.output.stderr}`.split("\n").filter((l) => l.trim() !== "");
    expect(lines.some((l) => l.includes('"msg":"request"'))).toBe(true);
    const notJson = lines.filter((l) => {
      try {
        const value: unknown = JSON.parse(l);
        return typeof value !== "object" || value === null || Array.isArray(value);
      } catch {
        return true;
      }
    });
    expect(notJson).toEqual([]);
  }, 180_000);
});
