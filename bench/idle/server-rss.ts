/**
 * RSS per idle socket of the real server (`apps/api/src/server.ts`'s `main`) in this process, on
 * Postgres and Redis as the live bench's instance B runs: `BENCH_IDLE_WARM` warm-up setups (users
 * of their own, closed again), then `BENCH_IDLE_SOCKETS` sockets of users not seen before, opened
 * by a client in another process (bench/idle/heap-client.ts). The scene is seeded by a child
 * process (bench/idle/start-server.ts, shared with setup-alloc.ts), so this one is as fresh as B. Prints the growth read the live bench's way (2.5 s later,
 * no collection forced), again 2 s after they close, then after a full collection; then a table of
 * stages (the same users again, then a second round of new users on the grown process), each with
 * RSS split by mapping kind (JIT code, other anonymous memory, files), the JavaScript heap, its
 * capacity (blocks) and external memory, live objects, and the server's Postgres and Redis
 * connections: what part of the live bench's first-round figure is one-off growth.
 *   BENCH_DATABASE_URL=postgres://… [BENCH_REDIS_URL=redis://…] bun bench/idle/server-rss.ts
 *   BENCH_IDLE_LATER=1: also 12.5 s after the burst (setup caches swept), then a full collection.
 *   BENCH_IDLE_TYPES=1: also the cell types the sockets keep (full collections around the burst).
 *   BENCH_IDLE_OPEN_LANES=1: open every lane of both database pools before the burst (a diagnostic:
 *     the lanes a fresh process first opens during the burst are otherwise in its figure).
 *   BENCH_IDLE_GIVE_BACK=shrink|sweep: after the 2.5 s reading, `Bun.shrink()` (deletes compiled
 *     code, then collects) or `gcAndSweep()` from bun:jsc, its CPU, and a stage after it; the
 *     second round of new users then shows what the next burst pays for it.
 */
import { fullGC, gcAndSweep, heapStats } from "bun:jsc";
import { sql } from "../../packages/db/node_modules/drizzle-orm";
import { connectRedis } from "../../packages/bus/src/index.ts";
import { BENCH_REDIS, startIdleServer } from "./start-server.ts";

const SOCKETS = Number(process.env.BENCH_IDLE_SOCKETS ?? 1000);
const WARM = Number(process.env.BENCH_IDLE_WARM ?? 1000);
const TYPES = process.env.BENCH_IDLE_TYPES === "1";

const idle = await startIdleServer("idle server RSS", WARM + 2 * SOCKETS);
if (!idle) process.exit(0);
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

// One row per stage: what grew between stages, per measured socket (bytes), and the connections
// the server holds to Postgres and Redis (its own client names), to tell a fresh process's one-off
// growth from what a socket keeps.
const probeSql = new Bun.SQL(idle.databaseUrl, { max: 1 });
const probeRedis = connectRedis(BENCH_REDIS, "commands", { connectionName: "idle-rss-probe" });
interface Stage {
  name: string;
  rss: number;
  heap: number;
  capacity: number;
  external: number;
  jit: number;
  anon: number;
  files: number;
  objects: number;
  pg: number;
  redis: number;
}
const stages: Stage[] = [];
/** Resident bytes by mapping kind (/proc/self/smaps): JIT code (anonymous and executable), other anonymous memory (the allocator's and the JavaScript heap's), files (the binary, libraries). */
async function residentByKind() {
  const kinds = { jit: 0, anon: 0, files: 0 };
  let kind: keyof typeof kinds = "anon";
  for (const line of (await Bun.file("/proc/self/smaps").text()).split("\n")) {
    const map = /^[0-9a-f]+-[0-9a-f]+ (\S+) \S+ \S+ \S+\s*(.*)$/.exec(line);
    if (map) {
      const [perms, name] = [map[1] ?? "", map[2] ?? ""];
      kind = name.startsWith("/") ? "files" : perms.includes("x") ? "jit" : "anon";
    } else if (line.startsWith("Rss:")) kinds[kind] += Number(line.split(/\s+/)[1]) * 1024;
  }
  return kinds;
}
async function stage(name: string) {
  const h = heapStats();
  const [pg]: { n: number }[] = await probeSql`select count(*)::int as n from pg_stat_activity where datname = current_database() and pid <> pg_backend_pid()`;
  const clients = String(await probeRedis.client("LIST"))
    .split("\n")
    .filter((l) => l.includes("cmd=") && !l.includes("name=idle-rss-probe"));
  stages.push({
    name,
    rss: process.memoryUsage.rss(),
    heap: h.heapSize,
    capacity: h.heapCapacity,
    external: h.extraMemorySize,
    ...(await residentByKind()),
    objects: h.objectCount,
    pg: pg?.n ?? -1,
    redis: clients.length,
  });
}
function printStages() {
  const kb = (b: number) => (b / 1024).toFixed(1);
  console.log(
    "[idle-rss] stage | RSS MB | Δ RSS | Δ JIT code | Δ other anonymous | Δ files | Δ heap | Δ heap capacity | Δ external | Δ objects | pg conns | redis conns (Δ: KB per measured socket)",
  );
  let prev: Stage | undefined;
  for (const s of stages) {
    const d = (k: keyof Stage) => (prev ? kb(((s[k] as number) - (prev[k] as number)) / SOCKETS) : "—");
    console.log(
      `[idle-rss] ${s.name} | ${(s.rss / 1048576).toFixed(1)} | ${d("rss")} | ${d("jit")} | ${d("anon")} | ${d("files")} | ${d("heap")} | ${d("capacity")} | ${d("external")} | ${prev ? ((s.objects - prev.objects) / SOCKETS).toFixed(1) : "—"} | ${s.pg} | ${s.redis}`,
    );
    prev = s;
  }
}

try {
  const { server, tokens, client } = idle;
  await Bun.sleep(1500);
  await stage("started");
  if (WARM > 0) {
    const warm = client(tokens.slice(0, WARM));
    await warm.ask("open", "opened");
    await warm.ask("close", "closed");
    warm.proc.kill();
    await stage("warmed");
  }
  if (process.env.BENCH_IDLE_OPEN_LANES === "1") {
    // Statements that overlap for 100 ms: each pool spreads them over all its lanes.
    const scope = { tenantIds: [], userId: null };
    const sleep = sql`select pg_sleep(0.1)`;
    await Promise.all(Array.from({ length: 40 }, (_, i) => (i % 2 ? server.deps.db.db : server.deps.db.scoped(scope)).execute(sleep)));
    await stage("lanes opened");
  }
  const measured = client(tokens.slice(WARM, WARM + SOCKETS));
  // BENCH_IDLE_TYPES=1: the cell types the measured sockets keep, read after full collections
  // (one before the burst too, which the default run does not take: it changes what "before" holds).
  if (TYPES) fullGC();
  const typesBefore = TYPES ? heapStats().objectTypeCounts : {};
  const before = await settledRssKb(1500);
  await stage("before");
  console.log(`[idle-rss] before: RSS ${Math.round(before)} KB, ${heap()}`);
  // The reducer's collections of the start-up and warm-up are not the burst's.
  const reducedBefore = { ...server.memory };
  await measured.ask("open", "opened");
  await stage("opened");
  const after = await settledRssKb(2500);
  await stage("2.5 s later");
  console.log(
    `[idle-rss] ${SOCKETS} sockets after ${WARM} warm-up setups: RSS +${((after - before) / SOCKETS).toFixed(1)} KB each 2.5 s later (the live bench's reading), ${heap()}`,
  );
  const m = server.memory;
  console.log(
    `[idle-rss] memory reducer (MEMORY_REDUCER_QUIET_MS=${process.env.MEMORY_REDUCER_QUIET_MS ?? "default"}) since the burst began: ${m.collections - reducedBefore.collections} collections, pause ${(m.pauseMs - reducedBefore.pauseMs).toFixed(1)} ms, CPU ${(m.cpuMs - reducedBefore.cpuMs).toFixed(1)} ms; ${reducedBefore.collections} before it; young-generation collections on new heap blocks (MEMORY_REDUCER_YOUNG_KB=${process.env.MEMORY_REDUCER_YOUNG_KB ?? "default"}): ${m.youngCollections - reducedBefore.youngCollections}, CPU ${(m.youngCpuMs - reducedBefore.youngCpuMs).toFixed(1)} ms, ${m.youngDeferred - reducedBefore.youngDeferred} deferred by their CPU budget`,
  );
  if (TYPES) {
    fullGC();
    const after = heapStats().objectTypeCounts;
    const grown = [...new Set([...Object.keys(typesBefore), ...Object.keys(after)])]
      .map((k): [string, number] => [k, ((after[k] ?? 0) - (typesBefore[k] ?? 0)) / SOCKETS])
      .filter(([, n]) => Math.abs(n) >= 0.05)
      .sort((a, b) => b[1] - a[1]);
    console.log(`[idle-rss] cells kept per socket at 2.5 s, after a full collection: ${grown.map(([k, n]) => `${k} ${n.toFixed(2)}`).join(", ")}`);
  }
  const giveBack = process.env.BENCH_IDLE_GIVE_BACK;
  if (giveBack === "shrink" || giveBack === "sweep") {
    const cpu = process.cpuUsage();
    if (giveBack === "shrink") Bun.shrink();
    else gcAndSweep();
    const used = process.cpuUsage(cpu);
    await settledRssKb(500);
    await stage(`after ${giveBack}`);
    console.log(`[idle-rss] ${giveBack}: ${((used.user + used.system) / 1000).toFixed(1)} ms of CPU`);
  }
  if (process.env.BENCH_IDLE_LATER === "1") {
    // Once the setup caches' entries have been swept (5–10 s after the burst): what the process
    // gave back by itself, then what a full collection with the sockets still open gives back.
    await settledRssKb(10_000);
    await stage("12.5 s later, open");
    fullGC();
    await settledRssKb(1000);
    await stage("then a full collection");
  }
  await measured.ask("close", "closed");
  const closed = await settledRssKb(2000);
  await stage("closed, 2 s");
  const r = server.memory;
  console.log(
    `[idle-rss] closed, 2 s later (the live bench's reading): RSS +${((closed - before) / SOCKETS).toFixed(1)} KB per socket above before, ${heap()}; reducer ${r.collections - reducedBefore.collections} collections since the burst`,
  );
  fullGC();
  const collected = await settledRssKb(1000);
  await stage("full collection");
  if (process.env.BENCH_IDLE_AGAIN !== "0") {
    await measured.ask("open", "opened");
    await settledRssKb(2500);
    await stage("again, 2.5 s");
    await measured.ask("close", "closed");
    fullGC();
    await settledRssKb(1000);
    await stage("again closed, collected");
  }
  // A second round of users not seen before, on the grown process: what a fresh process's first
  // round adds once only.
  const fresh = client(tokens.slice(WARM + SOCKETS, WARM + 2 * SOCKETS));
  const freshCpu = process.cpuUsage();
  await fresh.ask("open", "opened");
  const freshUsed = process.cpuUsage(freshCpu);
  console.log(`[idle-rss] the second round of new users: ${((freshUsed.user + freshUsed.system) / 1000 / SOCKETS).toFixed(3)} ms of CPU a setup (the server's process)`);
  await settledRssKb(2500);
  await stage("new users, 2.5 s");
  await fresh.ask("close", "closed");
  fresh.proc.kill();
  printStages();
  console.log(`[idle-rss] after a full collection: RSS +${((collected - before) / SOCKETS).toFixed(1)} KB each, ${heap()}`);
  measured.proc.kill();
} finally {
  await idle.close();
  await probeSql.close();
  probeRedis.disconnect();
}
