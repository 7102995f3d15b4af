/**
 * What an idle authenticated socket keeps on the server's heap, counted with `bun:jsc`'s
 * `heapStats` after a full collection: the app runs in this process (PGlite, in-process bus: no
 * servers needed), the sockets are opened by a client in another process (bench/idle/heap-client.ts)
 * so only the server's objects are counted. Prints live objects and heap bytes per socket, the
 * object types that grew, and RSS per socket, for `BENCH_IDLE_SOCKETS` sockets over
 * `BENCH_IDLE_USERS` users, opened twice (the second round after closing the first).
 *   bun bench/idle-heap.bench.ts
 */
import { heapStats } from "bun:jsc";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createTestDb, makeUser } from "../packages/db/src/testing/index.ts";
import { createApp } from "../apps/api/src/app.ts";
import { bunServeOptions } from "../apps/api/src/bun-serve.ts";
import { attachServer } from "../apps/api/src/realtime/bun.ts";
import { createLogger } from "../apps/api/src/lib/logger.ts";
import { testDeps } from "../apps/api/test/helpers/deps.ts";
import { tokenFor } from "../apps/api/test/helpers/auth.ts";

const SOCKETS = Number(process.env.BENCH_IDLE_SOCKETS ?? 1000);
const USERS = Number(process.env.BENCH_IDLE_USERS ?? 250);

function settled() {
  for (let i = 0; i < 3; i++) Bun.gc(true);
  const h = heapStats();
  return { objects: h.objectCount, heapBytes: h.heapSize, types: h.objectTypeCounts as Record<string, number>, rssKb: process.memoryUsage().rss / 1024 };
}

function grown(before: Record<string, number>, after: Record<string, number>, n: number): string {
  return Object.entries(after)
    .map(([type, count]) => [type, (count - (before[type] ?? 0)) / n] as const)
    .filter(([, d]) => d >= 0.05)
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
try {
  const users = await Promise.all(Array.from({ length: USERS }, () => makeUser(db.db, { status: "active" })));
  const tokens = await Promise.all(
    Array.from({ length: SOCKETS }, (_, i) => tokenFor(users[i % users.length] as { clerkUserId: string | null }, { expiresInSeconds: 3600 })),
  );
  const file = join(dir, "tokens.txt");
  writeFileSync(file, tokens.join("\n"));
  const client = Bun.spawn([process.execPath, join(import.meta.dir, "idle/heap-client.ts"), `http://127.0.0.1:${server.port}`, `ws://127.0.0.1:${server.port}`, file], {
    stdin: "pipe",
    stdout: "pipe",
    stderr: "inherit",
  });
  const lines = client.stdout.pipeThrough(new TextDecoderStream()).getReader();
  const ask = async (cmd: string, answer: string) => {
    client.stdin.write(`${cmd}\n`);
    client.stdin.flush();
    let buffered = "";
    while (!buffered.includes(answer)) {
      const { value, done } = await lines.read();
      if (done) throw new Error(`client exited before "${answer}"`);
      buffered += value;
    }
  };
  // Warm-up round: JIT, pools, prepared statements, caches.
  await ask("open", "opened");
  await ask("close", "closed");
  await Bun.sleep(6000); // the actor cache and lingering state expire
  for (const round of ["first", "again"]) {
    const before = settled();
    await ask("open", "opened");
    await Bun.sleep(1000);
    const after = settled();
    console.log(
      `[idle-heap] ${round}: ${SOCKETS} sockets over ${USERS} users: ${((after.objects - before.objects) / SOCKETS).toFixed(2)} live objects and ${((after.heapBytes - before.heapBytes) / SOCKETS / 1024).toFixed(2)} KB of heap each, RSS ${((after.rssKb - before.rssKb) / SOCKETS).toFixed(1)} KB each after a full GC; grew per socket: ${grown(before.types, after.types, SOCKETS)}`,
    );
    await ask("close", "closed");
    await Bun.sleep(6000);
  }
  client.kill();
} finally {
  await app.realtime.shutdown(100);
  server.stop(true);
  await db.close();
  rmSync(dir, { recursive: true, force: true });
}
