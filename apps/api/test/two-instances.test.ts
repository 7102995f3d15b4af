import { afterAll, describe, expect, test } from "bun:test";
import { mkdtempSync, readdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { loadOrCreateDevKeys, mintSessionToken } from "../src/auth/dev-keys.ts";
import { type ServerProcess, startServerProcess } from "./helpers/server-process.ts";

/**
 * The README's two-instance recipe: two real server processes started together on one Postgres,
 * one Redis and one fresh DATA_DIR (the shared dev key). Processes cannot share an embedded
 * PGlite, so this needs TEST_DATABASE_URL and TEST_REDIS_URL.
 */
const databaseUrl = process.env.TEST_DATABASE_URL;
const redisUrl = process.env.TEST_REDIS_URL;

const servers: ServerProcess[] = [];
const dataDirs: string[] = [];
afterAll(async () => {
  await Promise.all(servers.map((s) => s.stop()));
  for (const dir of dataDirs) rmSync(dir, { recursive: true, force: true });
});

describe.skipIf(!databaseUrl || !redisUrl)("two instances on one Postgres, Redis and DATA_DIR", () => {
  test("started together, both accept a `bun run token`-style token minted from the shared key", async () => {
    const dataDir = mkdtempSync(join(tmpdir(), "rapt-two-"));
    dataDirs.push(dataDir);
    const env = {
      NODE_ENV: "development",
      DATA_DIR: dataDir,
      DATABASE_URL: databaseUrl ?? "",
      REDIS_URL: redisUrl ?? "",
      SEED_ON_EMPTY: "true",
      LIVE_SWEEP_INTERVAL_MS: "600000",
      // A schedule of its own: a 10-minute sweep must not delay other suites' sweepers on this database.
      JOBS_NAMESPACE: `two-instances-${crypto.randomUUID()}`,
    };
    servers.push(...(await Promise.all([startServerProcess({ ...env, INSTANCE_ID: "recipe-a" }), startServerProcess({ ...env, INSTANCE_ID: "recipe-b" })])));
    expect(readdirSync(join(dataDir, "dev-auth"))).toEqual(["keys.json"]);

    const token = await mintSessionToken(await loadOrCreateDevKeys(dataDir), { userId: `user_dev_recipe_${crypto.randomUUID().slice(0, 8)}` });
    const ids: string[] = [];
    for (const server of servers) {
      const res = await fetch(`${server.baseUrl}/api/me`, { headers: { authorization: `Bearer ${token}` } });
      expect(res.status).toBe(200);
      ids.push(((await res.json()) as { user: { id: string } }).user.id);
    }
    expect(ids[1]).toBe(ids[0] ?? "missing");
  }, 240_000);
});
