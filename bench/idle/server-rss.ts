/**
 * RSS per idle socket of the real server (`apps/api/src/server.ts`'s `main`) in this process, on
 * Postgres and Redis as the live bench's instance B runs: `BENCH_IDLE_WARM` warm-up setups (users
 * of their own, closed again), then `BENCH_IDLE_SOCKETS` sockets of users not seen before, opened
 * by a client in another process (bench/idle/heap-client.ts). Prints the growth read the live
 * bench's way (2.5 s later, no collection forced), again 2 s after they close, then after a full collection, and the JSC heap
 * and its external memory at each point: what part of the live bench's figure is garbage.
 *   BENCH_DATABASE_URL=postgres://… [BENCH_REDIS_URL=redis://…] bun bench/idle/server-rss.ts
 */
import { fullGC, heapStats } from "bun:jsc";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { loadOrCreateDevKeys } from "../../apps/api/src/auth/dev-keys.ts";
import { main } from "../../apps/api/src/server.ts";
import { createBenchDatabase } from "../live/infra.ts";
import { seedScene } from "../live/scene.ts";
import { spawnHeapClient } from "./drive-client.ts";

const SOCKETS = Number(process.env.BENCH_IDLE_SOCKETS ?? 1000);
const WARM = Number(process.env.BENCH_IDLE_WARM ?? 1000);
const REDIS = process.env.BENCH_REDIS_URL ?? "redis://127.0.0.1:6396";

const dir = mkdtempSync(join(tmpdir(), "rapt-idle-rss-"));
const db = await createBenchDatabase();
if ("error" in db) {
  console.log(`SKIP idle server RSS: ${db.error}`);
  process.exit(0);
}
const rssKb = () => process.memoryUsage().rss / 1024;
async function settledRssKb(ms: number) {
  await Bun.sleep(ms);
  const reads: number[] = [];
  for (let i = 0; i < 5; i++) {
    reads.push(rssKb());
    await Bun.sleep(100);
  }
  return reads.sort((a, b) => a - b)[2] ?? 0;
}
const heap = () => {
  const h = heapStats();
  return `heap ${Math.round(h.heapSize / 1024)} KB (capacity ${Math.round(h.heapCapacity / 1024)} KB), external ${Math.round(h.extraMemorySize / 1024)} KB`;
};

let stop: (() => Promise<void>) | null = null;
try {
  const keys = await loadOrCreateDevKeys(join(dir, "data"));
  const scene = await seedScene({ databaseUrl: db.url, keys, students: WARM + SOCKETS, watchersPerSession: 1, rates: [] });
  const tokens = scene.students.map((s) => s.user.token);
  const server = await main({
    env: {
      ...process.env,
      NODE_ENV: "development",
      HOST: "127.0.0.1",
      PORT: "0",
      LOG_LEVEL: "warn",
      DATA_DIR: join(dir, "data"),
      DATABASE_URL: db.url,
      REDIS_URL: REDIS,
      SEED_ON_EMPTY: "false",
    },
  });
  stop = () => server.stop();
  const client = (list: string[]) => spawnHeapClient(dir, server.url, server.url.replace("http", "ws"), list);
  if (WARM > 0) {
    const warm = client(tokens.slice(0, WARM));
    await warm.ask("open", "opened");
    await warm.ask("close", "closed");
    warm.proc.kill();
  }
  const measured = client(tokens.slice(WARM, WARM + SOCKETS));
  const before = await settledRssKb(1500);
  console.log(`[idle-rss] before: RSS ${Math.round(before)} KB, ${heap()}`);
  // The reducer's collections of the start-up and warm-up are not the burst's.
  const reducedBefore = { ...server.memory };
  await measured.ask("open", "opened");
  const after = await settledRssKb(2500);
  console.log(
    `[idle-rss] ${SOCKETS} sockets after ${WARM} warm-up setups: RSS +${((after - before) / SOCKETS).toFixed(1)} KB each 2.5 s later (the live bench's reading), ${heap()}`,
  );
  const m = server.memory;
  console.log(
    `[idle-rss] memory reducer (MEMORY_REDUCER_QUIET_MS=${process.env.MEMORY_REDUCER_QUIET_MS ?? "default"}) since the burst began: ${m.collections - reducedBefore.collections} collections, pause ${(m.pauseMs - reducedBefore.pauseMs).toFixed(1)} ms, CPU ${(m.cpuMs - reducedBefore.cpuMs).toFixed(1)} ms; ${reducedBefore.collections} before it`,
  );
  await measured.ask("close", "closed");
  const closed = await settledRssKb(2000);
  const r = server.memory;
  console.log(
    `[idle-rss] closed, 2 s later (the live bench's reading): RSS +${((closed - before) / SOCKETS).toFixed(1)} KB per socket above before, ${heap()}; reducer ${r.collections - reducedBefore.collections} collections since the burst`,
  );
  fullGC();
  const collected = await settledRssKb(1000);
  console.log(`[idle-rss] after a full collection: RSS +${((collected - before) / SOCKETS).toFixed(1)} KB each, ${heap()}`);
  measured.proc.kill();
} finally {
  await stop?.();
  await db.drop();
  rmSync(dir, { recursive: true, force: true });
}
