/**
 * Redis and Postgres for the live bench: use what BENCH_REDIS_URL / BENCH_DATABASE_URL name, start a
 * throw-away Redis when none is named, and give every run a fresh database that is dropped after.
 * Both must be on loopback: the bench never talks to another machine.
 */
import { SQL } from "bun";
import { connectRedis } from "../../packages/bus/src/index.ts";
import { type Child, spawnChild } from "./procs.ts";

export const DEFAULT_DATABASE_URL = "postgres://rapt:rapt@127.0.0.1:5432/rapt";
export const DEFAULT_REDIS_PORT = 6396;

const LOOPBACK = new Set(["127.0.0.1", "localhost", "[::1]", "::1"]);

export function assertLoopback(url: string, what: string): void {
  const host = new URL(url).hostname;
  if (!LOOPBACK.has(host)) throw new Error(`${what} must point at a loopback address, got ${host}`);
}

/** Resolves once Redis at `url` answers PING, or returns false after `timeoutMs`. */
export async function redisAnswers(url: string, timeoutMs = 2000): Promise<boolean> {
  const client = connectRedis(url, "commands", { connectionName: "bench-probe" });
  client.on("error", () => {});
  try {
    const deadline = Date.now() + timeoutMs;
    while (Date.now() < deadline) {
      if (client.status === "ready") {
        await client.ping();
        return true;
      }
      await Bun.sleep(50);
    }
    return false;
  } catch {
    return false;
  } finally {
    client.disconnect();
  }
}

export interface RedisHandle {
  url: string;
  /** Our own redis-server, when we started one. */
  child: Child | null;
}

/**
 * BENCH_REDIS_URL when set; otherwise a Redis on 127.0.0.1:6396 — reused if one already answers
 * there, else started as our child (not daemonised, so it dies with the bench). Null: no Redis.
 */
export async function ensureRedis(logDir: string): Promise<RedisHandle | null> {
  const named = process.env.BENCH_REDIS_URL;
  if (named) {
    assertLoopback(named, "BENCH_REDIS_URL");
    return (await redisAnswers(named)) ? { url: named, child: null } : null;
  }
  const url = `redis://127.0.0.1:${DEFAULT_REDIS_PORT}`;
  if (await redisAnswers(url, 500)) return { url, child: null };
  if (!Bun.which("redis-server")) return null;
  const child = spawnChild("redis", ["redis-server", "--port", String(DEFAULT_REDIS_PORT), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"], { logDir });
  if (await redisAnswers(url, 5000)) return { url, child };
  await child.stop();
  return null;
}

export interface BenchDatabase {
  url: string;
  name: string;
  drop(): Promise<void>;
}

/** Creates `rapt_bench_<stamp>` on the server of `adminUrl` (BENCH_DATABASE_URL); an error when Postgres is not there. */
export async function createBenchDatabase(adminUrl = process.env.BENCH_DATABASE_URL ?? DEFAULT_DATABASE_URL): Promise<BenchDatabase | { error: string }> {
  assertLoopback(adminUrl, "BENCH_DATABASE_URL");
  const name = `rapt_bench_${new Date().toISOString().replace(/\D/g, "").slice(0, 14)}_${crypto.randomUUID().slice(0, 6)}`;
  const admin = new SQL(adminUrl, { max: 1, connectionTimeout: 3 });
  try {
    await admin`select 1`;
    // The name is generated above (digits, letters, underscores), never user input.
    await admin.unsafe(`create database ${name}`);
  } catch (err) {
    await admin.close().catch(() => {});
    return { error: `Postgres at ${adminUrl.replace(/\/\/[^@]*@/, "//…@")} is not usable: ${(err as Error).message}` };
  }
  await admin.close();
  const url = new URL(adminUrl);
  url.pathname = `/${name}`;
  return {
    url: url.toString(),
    name,
    async drop() {
      const again = new SQL(adminUrl, { max: 1, connectionTimeout: 3 });
      try {
        await again.unsafe(`drop database if exists ${name} with (force)`);
      } finally {
        await again.close();
      }
    },
  };
}
