/**
 * What the job registry's claim costs per wake, on each database it runs on:
 * - a won attempt: the claim upsert and the release update around a run (the run itself excluded);
 * - a lost attempt: what every other instance pays per wake (the claim upsert that returns no
 *   row, then the read of when the job is next claimable).
 * Every instance wakes about once per interval per job, so N instances add ~2N of these
 * statements per interval: at the sweeper's 10 s, a few per second for a large deployment.
 * Needs nothing; adds Postgres with BENCH_DATABASE_URL or TEST_DATABASE_URL.
 *
 *   bun bench/jobs.bench.ts
 */
import { createDb, type DbHandle, jobLeases } from "../packages/db/src/index.ts";
import { sql } from "../packages/db/node_modules/drizzle-orm";
import { claimLease, releaseLease, untilClaimable } from "../apps/api/src/lib/lease.ts";
import { cryptoIds } from "../apps/api/src/lib/clock.ts";

const SAMPLES = Number(process.env.BENCH_SAMPLES ?? 1000);

function summary(latencies: number[]) {
  const sorted = [...latencies].sort((a, b) => a - b);
  const at = (q: number) => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] ?? 0;
  return `p50 ${at(0.5).toFixed(3)} ms  p99 ${at(0.99).toFixed(3)} ms  max ${at(1).toFixed(3)} ms`;
}

async function measure(label: string, run: () => Promise<unknown>) {
  for (let i = 0; i < 50; i += 1) await run();
  const samples: number[] = [];
  for (let i = 0; i < SAMPLES; i += 1) {
    const t = performance.now();
    await run();
    samples.push(performance.now() - t);
  }
  console.log(`${label.padEnd(34)} ${summary(samples)}`);
}

/** What the registry does around a run: a won attempt is claim + release, a lost one claim + read. */
async function bench(label: string, handle: DbHandle) {
  await handle.migrate();
  const namespace = `bench-${cryptoIds.token(4)}`;
  const free = `${namespace}:free`;
  await measure(`${label} won attempt (claim+release)`, async () => {
    if (!(await claimLease(handle.db, { name: free, holder: "bench", leaseMs: 60_000, force: true }))) throw new Error("lost a free lease");
    await releaseLease(handle.db, { name: free, holder: "bench", intervalMs: 60_000, outcome: "ok", error: null });
  });
  const held = `${namespace}:held`;
  await handle.db.insert(jobLeases).values({ name: held, holder: "other", leasedUntil: sql`now() + interval '1 hour'` });
  await measure(`${label} lost attempt (claim+read)`, async () => {
    if (await claimLease(handle.db, { name: held, holder: "bench", leaseMs: 60_000 })) throw new Error("claimed a held lease");
    await untilClaimable(handle.db, held);
  });
}

const inThread = await createDb({ embedded: "in-thread" });
await bench("pglite in-thread", inThread);
await inThread.close();
const processDb = await createDb({ embedded: "process" });
await bench("pglite process", processDb);
await processDb.close();
const url = process.env.BENCH_DATABASE_URL || process.env.TEST_DATABASE_URL;
if (url) {
  const pg = await createDb({ url, maxConnections: 4 });
  await bench("postgres", pg);
  await pg.close();
} else {
  console.log("postgres: not measured (set BENCH_DATABASE_URL or TEST_DATABASE_URL)");
}
