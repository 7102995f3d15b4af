/**
 * What an idle authenticated socket keeps on the server's heap, counted with `bun:jsc`'s
 * `heapStats` after full collections: the app runs in this process (PGlite, in-process bus: no
 * servers needed), the sockets are opened by a client in another process (bench/idle/heap-client.ts)
 * so only the server's objects are counted. `BENCH_IDLE_SOCKETS` sockets, each of its own user (as
 * a class of students connects), in three rounds after a warm-up: `first` (users this instance has
 * not seen: their setup caches count), `again` (the same users reconnecting), and `swept` (the
 * `again` sockets still open once the setup caches' entries expired: what an idle socket keeps for
 * as long as it is idle). Prints live objects, heap bytes and RSS per socket, the object types that
 * grew, and the RSS growth without a forced collection (as the live bench reads it).
 * `bench/idle/items.ts` prices each kept item on its own.
 *   bun bench/idle-heap.bench.ts
 */
import { heapStats } from "bun:jsc";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createTestDb, makeUser } from "../packages/db/src/testing/index.ts";
import { createApp } from "../apps/api/src/app.ts";
import { bunServeOptions } from "../apps/api/src/bun-serve.ts";
import { attachServer } from "../apps/api/src/realtime/bun.ts";
import { createLogger } from "../apps/api/src/lib/logger.ts";
import { testDeps } from "../apps/api/test/helpers/deps.ts";
import { tokenFor } from "../apps/api/test/helpers/auth.ts";
import { spawnHeapClient } from "./idle/drive-client.ts";
import { rerunWithRuntimeOptions } from "./idle/start-server.ts";

rerunWithRuntimeOptions();
const SOCKETS = Number(process.env.BENCH_IDLE_SOCKETS ?? 1000);
const WARM = Math.max(100, Math.ceil(SOCKETS / 10));

function settled() {
  for (let i = 0; i < 3; i++) Bun.gc(true);
  const h = heapStats();
  return { objects: h.objectCount, heapBytes: h.heapSize, types: h.objectTypeCounts as Record<string, number>, rssKb: process.memoryUsage().rss / 1024 };
}

/** RSS read the way the live bench reads B's: after a pause, the median of five reads, no collection forced. */
async function uncollectedRssKb(pauseMs: number) {
  await Bun.sleep(pauseMs);
  const reads: number[] = [];
  for (let i = 0; i < 5; i++) {
    reads.push(process.memoryUsage().rss / 1024);
    await Bun.sleep(100);
  }
  return reads.sort((a, b) => a - b)[2] ?? 0;
}

function grown(before: Record<string, number>, after: Record<string, number>, n: number): string {
  return Object.entries(after)
    .map(([type, count]) => [type, (count - (before[type] ?? 0)) / n] as const)
    .filter(([, d]) => Math.abs(d) >= 0.05)
    .sort((a, b) => b[1] - a[1])
    .slice(0, 12)
    .map(([type, d]) => `${type} ${d.toFixed(2)}`)
    .join(", ");
}

const dir = mkdtempSync(join(tmpdir(), "rapt-idle-heap-"));
const db = await createTestDb();
// A logger that keeps nothing: the test deps' memory logger would grow with every request.
const deps = await testDeps(db, { logger: createLogger({ level: "error", sink: () => undefined }) });
const app = createApp(deps);
const server = Bun.serve({ port: 0, hostname: "127.0.0.1", ...bunServeOptions(app, deps) });
attachServer(app.realtime, server as never);
const sweepMs = 2 * deps.config.live.accessCacheMs + 1000;
try {
  const users = await Promise.all(Array.from({ length: WARM + SOCKETS }, () => makeUser(db.db, { status: "active" })));
  const tokens = await Promise.all(users.map((u) => tokenFor(u, { expiresInSeconds: 3600 })));
  const client = (from: number, to: number) => spawnHeapClient(dir, `http://127.0.0.1:${server.port}`, `ws://127.0.0.1:${server.port}`, tokens.slice(from, to));
  // Warm-up round on users of its own: JIT, pools, prepared statements, caches.
  const warm = client(0, WARM);
  await warm.ask("open", "opened");
  await warm.ask("close", "closed");
  warm.proc.kill();
  await Bun.sleep(sweepMs);
  const measured = client(WARM, WARM + SOCKETS);
  const line = (round: string, before: ReturnType<typeof settled>, after: ReturnType<typeof settled>, extra = "") =>
    console.log(
      `[idle-heap] ${round}: ${SOCKETS} sockets of ${SOCKETS} users: ${((after.objects - before.objects) / SOCKETS).toFixed(2)} live objects and ${((after.heapBytes - before.heapBytes) / SOCKETS).toFixed(0)} B of heap each, RSS ${((after.rssKb - before.rssKb) / SOCKETS).toFixed(2)} KB each after full collections${extra}; grew per socket: ${grown(before.types, after.types, SOCKETS)}`,
    );
  for (const round of ["first", "again"]) {
    const before = settled();
    await measured.ask("open", "opened");
    const uncollected = await uncollectedRssKb(2500);
    const after = settled();
    line(round, before, after, ` (${((uncollected - before.rssKb) / SOCKETS).toFixed(1)} KB each without a forced collection)`);
    if (round === "again") {
      await Bun.sleep(sweepMs);
      line("swept", before, settled());
    }
    await measured.ask("close", "closed");
    await Bun.sleep(1000);
  }
  measured.proc.kill();
} finally {
  await app.realtime.shutdown(100);
  server.stop(true);
  await db.close();
  rmSync(dir, { recursive: true, force: true });
}
