/**
 * Clerk webhook throughput on real Postgres, and what a burst of deliveries does to `/ready`.
 *
 * One app (the test harness's, as in the tests) on a postgres-js pool of DATABASE_POOL_SIZE's default (10)
 * receives Svix-signed Clerk deliveries through `app.request()` (no HTTP server: the receiver's own
 * cost, not Bun.serve's). Each run delivers a fresh mix of distinct events — new users, user
 * updates, new organisations (half under an earlier one), memberships — with 1, 8 and 32 in
 * flight, then redelivers already-applied ones (duplicates) with 8 in flight. `/ready` is polled
 * while idle and again, back to back, during the 32-in-flight run.
 *
 * Needs Postgres: BENCH_DATABASE_URL or TEST_DATABASE_URL (a database that may keep the rows; every
 * run uses fresh Clerk ids). Skips itself without one.
 *
 *   TEST_DATABASE_URL=postgres://rapt:rapt@127.0.0.1:5432/rapt bun bench/webhooks.bench.ts
 *
 * Knobs: BENCH_WEBHOOK_DELIVERIES (800 per run), BENCH_WEBHOOK_SLOTS (CLERK_WEBHOOK_CONCURRENCY,
 * default 4), BENCH_LABEL (a name stored with the results).
 */
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { createDb } from "../packages/db/src/index.ts";
import {
  clerkMembershipData,
  clerkOrgData,
  clerkUserData,
  type Delivery,
  delivery,
  type OrgState,
  makeWebhookSecret,
  signedHeaders,
  webhookDeps,
} from "../apps/api/test/helpers/webhooks.ts";
import { harness } from "../apps/api/test/helpers/harness.ts";

const url = process.env.BENCH_DATABASE_URL ?? process.env.TEST_DATABASE_URL;
if (!url) {
  console.log("SKIP webhooks.bench.ts: set BENCH_DATABASE_URL or TEST_DATABASE_URL to a Postgres database");
  process.exit(0);
}
const N = Number(process.env.BENCH_WEBHOOK_DELIVERIES ?? 800);
const POOL = 10;

const db = await createDb({ url, maxConnections: POOL });
await db.migrate();
const secret = makeWebhookSecret();
const slots = process.env.BENCH_WEBHOOK_SLOTS ? Number(process.env.BENCH_WEBHOOK_SLOTS) : undefined;
const { app } = await harness({ db, deps: webhookDeps(secret, undefined, { clerkWebhookConcurrency: slots }) });
const run = crypto.randomUUID().slice(0, 8);

/**
 * A mix of distinct Clerk events in namespace `ns`, in an order Clerk could send them: 1/5 new
 * users, 1/5 new organisations (every other one under an earlier organisation), 1/5 user updates,
 * 2/5 memberships. A membership embeds its organisation as it is (same `updated_at`), as Clerk does.
 */
function workload(ns: string, count: number): Delivery[] {
  const out: Delivery[] = [];
  const users: string[] = [];
  const orgs: OrgState[] = [];
  const now = Date.now();
  const pick = <T>(xs: T[], i: number) => xs[(i * 7919) % xs.length] as T;
  const user = (id: string, at: number, first = "Bench") => clerkUserData({ id, first, last: "User", email: `${id}@bench.test`, updatedAt: at });
  for (let i = 0; out.length < count; i++) {
    const at = now - 60_000 + i;
    const kind = i < 4 ? i % 2 : i % 5;
    if (kind === 0 || users.length === 0) {
      const id = `${ns}_user_${i}`;
      users.push(id);
      out.push(delivery("user.created", user(id, at), at));
    } else if (kind === 1 || orgs.length === 0) {
      const id = `${ns}_org_${i}`;
      const parent = orgs.length > 0 && i % 2 === 0 ? pick(orgs, i).id : null;
      const org: OrgState = { id, name: `Org ${id}`, slug: id.replaceAll("_", "-").toLowerCase(), parent, updatedAt: at };
      orgs.push(org);
      out.push(delivery("organization.created", clerkOrgData(org), at));
    } else if (kind === 2) {
      out.push(delivery("user.updated", user(pick(users, i), at, `Renamed${i}`), at));
    } else {
      const u = pick(users, i + 3);
      out.push(
        delivery(
          "organizationMembership.created",
          clerkMembershipData({
            id: `${ns}_mem_${i}`,
            role: i % 3 === 0 ? "org:admin" : "org:member",
            org: pick(orgs, i),
            user: { id: u, first: "Bench", last: "User", email: `${u}@bench.test` },
            updatedAt: at,
          }),
          at,
        ),
      );
    }
  }
  return out;
}

interface RunResult {
  name: string;
  inFlight: number;
  deliveries: number;
  seconds: number;
  perSecond: number;
  statuses: Record<string, number>;
  latencyP50: number;
  latencyP99: number;
}

const quantile = (xs: number[], q: number) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor(q * s.length))] ?? Number.NaN;
};

async function deliverAll(name: string, list: Delivery[], inFlight: number): Promise<RunResult> {
  // Signed just before the run (Svix's 5-minute tolerance), outside the timing.
  const signed = list.map((d) => ({ body: d.body, headers: signedHeaders(secret, d.body, { msgId: d.msgId }) }));
  const statuses: Record<string, number> = {};
  const latencies: number[] = [];
  let next = 0;
  const started = performance.now();
  const worker = async () => {
    while (next < signed.length) {
      const d = signed[next++];
      if (!d) break;
      const t = performance.now();
      const res = await app.request("/api/webhooks/clerk", { method: "POST", headers: d.headers, body: d.body });
      await res.arrayBuffer();
      latencies.push(performance.now() - t);
      statuses[res.status] = (statuses[res.status] ?? 0) + 1;
    }
  };
  await Promise.all(Array.from({ length: inFlight }, worker));
  const seconds = (performance.now() - started) / 1000;
  return {
    name,
    inFlight,
    deliveries: list.length,
    seconds,
    perSecond: list.length / seconds,
    statuses,
    latencyP50: quantile(latencies, 0.5),
    latencyP99: quantile(latencies, 0.99),
  };
}

/** Polls /ready back to back until `until` settles (or `samples` polls when idle). */
async function pollReady(until: Promise<unknown> | null, samples = 200): Promise<{ p50: number; p99: number; max: number; n: number; non200: number }> {
  let done = false;
  void until?.then(() => (done = true));
  const latencies: number[] = [];
  let non200 = 0;
  while (until ? !done : latencies.length < samples) {
    const t = performance.now();
    const res = await app.request("/ready");
    await res.arrayBuffer();
    latencies.push(performance.now() - t);
    if (res.status !== 200) non200++;
    await Bun.sleep(2);
  }
  return { p50: quantile(latencies, 0.5), p99: quantile(latencies, 0.99), max: quantile(latencies, 1), n: latencies.length, non200 };
}

// Warm-up: connections, prepared statements, JIT.
await deliverAll("warm-up", workload(`wb${run}w`, 100), 4);

const readyIdle = await pollReady(null);
const results: RunResult[] = [];
results.push(await deliverAll("sequential", workload(`wb${run}s`, N), 1));
const eight = workload(`wb${run}e`, N);
results.push(await deliverAll("8 in flight", eight, 8));
const burst = deliverAll("32 in flight", workload(`wb${run}b`, N), 32);
const readyBurst = await pollReady(burst);
results.push(await burst);
results.push(await deliverAll("duplicates, 8 in flight", eight, 8));
await db.close();

const load = (
  await Bun.file("/proc/loadavg")
    .text()
    .catch(() => "")
)
  .split(" ")
  .slice(0, 3)
  .join(" ");
console.log(`\nClerk webhook deliveries on Postgres (pool ${POOL}), ${N} per run, Bun ${Bun.version}, load ${load}`);
console.table(
  results.map((r) => ({
    run: r.name,
    "deliveries/s": Math.round(r.perSecond),
    "p50 ms": r.latencyP50.toFixed(1),
    "p99 ms": r.latencyP99.toFixed(1),
    statuses: JSON.stringify(r.statuses),
  })),
);
console.log("/ready latency (ms)");
console.table({
  idle: { p50: readyIdle.p50.toFixed(2), p99: readyIdle.p99.toFixed(2), max: readyIdle.max.toFixed(1), polls: readyIdle.n, "non-200": readyIdle.non200 },
  "during 32 in flight": {
    p50: readyBurst.p50.toFixed(2),
    p99: readyBurst.p99.toFixed(2),
    max: readyBurst.max.toFixed(1),
    polls: readyBurst.n,
    "non-200": readyBurst.non200,
  },
});

const dir = join(import.meta.dir, "results");
mkdirSync(dir, { recursive: true });
const file = join(dir, `webhooks-${new Date().toISOString().replaceAll(/[:.]/g, "-")}.json`);
writeFileSync(
  file,
  JSON.stringify(
    {
      label: process.env.BENCH_LABEL ?? null,
      at: new Date().toISOString(),
      bun: Bun.version,
      load,
      pool: POOL,
      slots: slots ?? "default",
      results,
      readyIdle,
      readyBurst,
    },
    null,
    2,
  ),
);
console.log(`results: ${file}`);
