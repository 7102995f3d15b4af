/**
 * What running the embedded database in its own process costs, against PGlite on the caller's
 * thread (the test suite's mode, and the server's before the watchdog):
 * - start-up: createDb() to the first answered statement, from a fresh data directory (initdb) and
 *   from a migrated copy (what tests and restarts look like);
 * - statement latency: `select 1`, and a drizzle select of a group by id, one in flight;
 * - watchdog: how long a stuck statement takes to fail and the database to be serving again.
 * Needs nothing.
 *
 *   bun bench/database.bench.ts
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
// The root package depends on no workspace package, so drizzle is reached through packages/db.
import { eq, sql } from "../packages/db/node_modules/drizzle-orm";
import { createDb, type DbHandle, groups } from "../packages/db/src/index.ts";
import { makeGroup } from "../packages/db/src/testing/index.ts";

const SAMPLES = Number(process.env.BENCH_SAMPLES ?? 2000);
const dirs: string[] = [];
const freshDir = () => {
  const dir = mkdtempSync(join(tmpdir(), "rapt-bench-db-"));
  dirs.push(dir);
  return join(dir, "pg");
};

async function timed<T>(f: () => Promise<T>): Promise<[T, number]> {
  const t = performance.now();
  const value = await f();
  return [value, performance.now() - t];
}

function summary(latencies: number[]) {
  const sorted = [...latencies].sort((a, b) => a - b);
  const at = (q: number) => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] ?? 0;
  return `p50 ${at(0.5).toFixed(3)} ms  p99 ${at(0.99).toFixed(3)} ms  max ${at(1).toFixed(3)} ms`;
}

async function latency(handle: DbHandle, label: string) {
  const group = await makeGroup(handle.db, { kind: "district" });
  for (const [name, run] of [
    ["select 1", () => handle.db.execute(sql`select 1`)],
    ["group by id", () => handle.db.select().from(groups).where(eq(groups.id, group.id))],
  ] as const) {
    for (let i = 0; i < 100; i += 1) await run();
    const samples: number[] = [];
    for (let i = 0; i < SAMPLES; i += 1) samples.push((await timed(run))[1]);
    console.log(`${label.padEnd(10)} ${name.padEnd(12)} ${summary(samples)}`);
  }
}

const modes = ["in-thread", "process"] as const;
let template: Blob | undefined;
for (const embedded of modes) {
  const [fresh, freshMs] = await timed(async () => {
    const h = await createDb({ embedded, dataDir: freshDir() });
    await h.ping();
    return h;
  });
  await fresh.migrate();
  template ??= await fresh.dump?.();
  await fresh.close();
  const [copy, copyMs] = await timed(async () => {
    const h = await createDb({ embedded, loadDataDir: template });
    await h.ping();
    return h;
  });
  console.log(`${embedded.padEnd(10)} start: fresh data directory ${Math.round(freshMs)} ms, migrated copy ${Math.round(copyMs)} ms`);
  await latency(copy, embedded);
  await copy.close();
}

// The watchdog, as the server runs it: a persistent directory, a 1 s limit.
const watched = await createDb({ embedded: "process", dataDir: freshDir(), loadDataDir: template, statementTimeoutMs: 1000 });
const [, failedMs] = await timed(() => watched.db.execute(sql`select pg_sleep(60)`).catch(() => undefined));
const [, backMs] = await timed(async () => {
  while (watched.embeddedState?.().state !== "ready") await Bun.sleep(20);
  await watched.ping();
});
console.log(`watchdog   stuck statement failed after ${Math.round(failedMs)} ms; serving again ${Math.round(backMs)} ms later`);
await watched.close();
for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
