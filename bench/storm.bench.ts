/**
 * Reconnect storm and connection setup, over two real API instances with Postgres and Redis.
 *
 * 1. Setup rate: `BENCH_STORM_SETUPS` times ticket (REST) + upgrade + `hello` + subscribe (a late
 *    joiner: snapshot) + close against instance B alone, `BENCH_STORM_SETUP_CONCURRENCY` at a time.
 *    Reported: setups/s (wall clock, client on the same machine) and B's CPU per setup (from
 *    /proc), whose inverse is what one instance sustains on one core.
 * 2. Storm: `BENCH_STORM_ROOMS` sessions, each watched on instance A by its student and
 *    `BENCH_STORM_WATCHERS` teachers of its class (5,000 sockets by default), answers streaming in
 *    `BENCH_STORM_STREAMING` of the rooms (started over REST on B, so generation outlives A). A is
 *    killed with SIGKILL; every client gets a ticket from B, upgrades and resumes its room from its
 *    last (epoch, offset), after a random delay up to `BENCH_STORM_JITTER_MS` (as clients back off)
 *    and with at most `BENCH_STORM_INFLIGHT` handshakes in flight from this one process. A client is
 *    caught up when it holds its room's newest event as of the kill (read from a reference watcher
 *    on B). Reported: time until all are caught up, p50/p99 per client, resets, duplicates, gaps,
 *    errors, and B's CPU during the storm. Aim: all within 10 s, no reset (every room's replay
 *    buffer reaches back to the kill).
 *
 * Needs Postgres (BENCH_DATABASE_URL; a fresh database per run, dropped after) and Redis
 * (BENCH_REDIS_URL, else one on 6396); skipped with a message when either is missing.
 *   bun bench/storm.bench.ts           (or `bun run bench -- storm`)
 * Knobs: BENCH_STORM_ROOMS=1000 BENCH_STORM_WATCHERS=4 BENCH_STORM_STREAMING=50 BENCH_STORM_TPS=8
 *        BENCH_STORM_SETUPS=2000 BENCH_STORM_SETUP_CONCURRENCY=32 BENCH_STORM_JITTER_MS=1000
 *        BENCH_STORM_INFLIGHT=256 BENCH_STORM_TIMEOUT_MS=60000
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { cpus, loadavg, tmpdir } from "node:os";
import { join } from "node:path";
import { loadOrCreateDevKeys } from "../apps/api/src/auth/dev-keys.ts";
import { percentile, pool } from "./live/clients.ts";
import { createBenchDatabase, ensureRedis } from "./live/infra.ts";
import { cpuMs, stopAll } from "./live/procs.ts";
import { seedScene } from "./live/scene.ts";
import { startApp, type Target } from "./live/targets.ts";
import { StormClient, type StormTally } from "./storm/client.ts";
import { startPgCounter, type PgCounter } from "./turn/pg-counter.ts";
import { connectRedis } from "../packages/bus/src/index.ts";

type Redis = ReturnType<typeof connectRedis>;

const num = (name: string, fallback: number) => {
  const v = Number(process.env[name] ?? fallback);
  if (!Number.isFinite(v) || v < 0) throw new Error(`${name} must be a non-negative number`);
  return v;
};
const ROOMS = Math.max(1, num("BENCH_STORM_ROOMS", 1000));
const WATCHERS = num("BENCH_STORM_WATCHERS", 4);
const STREAMING = Math.min(ROOMS, num("BENCH_STORM_STREAMING", 50));
const TPS = Math.max(1, num("BENCH_STORM_TPS", 8));
const SETUPS = num("BENCH_STORM_SETUPS", 2000);
const SETUP_CONCURRENCY = Math.max(1, num("BENCH_STORM_SETUP_CONCURRENCY", 32));
const JITTER_MS = num("BENCH_STORM_JITTER_MS", 1000);
const INFLIGHT = Math.max(1, num("BENCH_STORM_INFLIGHT", 256));
const TIMEOUT = num("BENCH_STORM_TIMEOUT_MS", 60_000);
const AIM_MS = 10_000;
const PHASES = new Set((process.env.BENCH_STORM_PHASES ?? "setup,storm").split(","));
/** A directory: both instances run with `bun --cpu-prof` and write their profiles there on exit. */
const CPU_PROF_DIR = process.env.BENCH_STORM_CPU_PROF_DIR;

const log = (msg: string) => console.log(`[storm] ${msg}`);
const load = () =>
  loadavg()
    .map((n) => n.toFixed(2))
    .join(" ");
const newTally = (): StormTally => ({ events: 0, duplicates: 0, gaps: 0, resets: 0, errors: [] });

/** At most `limit` calls of `fn` run at once; the rest wait their turn. */
function limiter(limit: number) {
  let running = 0;
  const queue: (() => void)[] = [];
  return async <T>(fn: () => Promise<T>): Promise<T> => {
    if (running >= limit) await new Promise<void>((r) => queue.push(r));
    running++;
    try {
      return await fn();
    } finally {
      running--;
      queue.shift()?.();
    }
  };
}

interface Watcher {
  token: string;
  room: string;
}

/** Calls per command since Redis started (commands inside scripts count too). */
async function redisCalls(redis: Redis): Promise<Map<string, number>> {
  const info = await redis.info("commandstats");
  const out = new Map<string, number>();
  for (const m of info.matchAll(/^cmdstat_([^:]+):calls=(\d+)/gm)) out.set(m[1] ?? "", Number(m[2]));
  return out;
}

/** What the setups sent to Postgres and Redis, per setup (both instances; A is idle meanwhile). */
function perSetup(pg: PgCounter, redisBefore: Map<string, number>, redisAfter: Map<string, number>, n: number) {
  const counts = pg.snapshot();
  const round = (x: number) => Number((x / n).toFixed(2));
  const redisByCommand: Record<string, number> = {};
  for (const [name, calls] of redisAfter) {
    const d = calls - (redisBefore.get(name) ?? 0);
    // INFO itself, and anything below one call in a hundred setups, is not the setup's.
    if (name !== "info" && d >= n / 100) redisByCommand[name] = round(d);
  }
  const statements = [...counts.byText]
    .filter(([, c]) => c >= n / 100)
    .sort((a, b) => b[1] - a[1])
    .map(([text, c]) => ({ perSetup: round(c), text: text.slice(0, 160) }));
  return { pgRoundTrips: round(counts.roundTrips), pgStatements: round(counts.statements), pgWrites: round(counts.writes), statements, redisByCommand };
}

async function measureSetups(app: Target, watchers: Watcher[], pg: PgCounter, redis: Redis) {
  const pid = app.b.child.proc.pid;
  const tally = newTally();
  // Warm-up: JIT, pools, prepared statements.
  await pool(watchers.slice(0, 100), SETUP_CONCURRENCY, async (w) => {
    const c = new StormClient(w.token, w.room, tally);
    await c.connect(app.b.baseUrl, app.b.wsUrl, TIMEOUT);
    c.close();
  });
  await Bun.sleep(500);
  const redisBefore = await redisCalls(redis);
  pg.reset();
  const cpuBefore = cpuMs(pid);
  const started = performance.now();
  const items = Array.from({ length: SETUPS }, (_, i) => watchers[i % watchers.length] as Watcher);
  await pool(items, SETUP_CONCURRENCY, async (w) => {
    const c = new StormClient(w.token, w.room, tally);
    await c.connect(app.b.baseUrl, app.b.wsUrl, TIMEOUT);
    c.close();
  });
  const seconds = (performance.now() - started) / 1000;
  // Let the closes and any deferred writes land before reading the CPU.
  await Bun.sleep(1000);
  const cpu = cpuMs(pid) - cpuBefore;
  const wire = perSetup(pg, redisBefore, await redisCalls(redis), SETUPS);
  return { ...wire, setups: SETUPS, concurrency: SETUP_CONCURRENCY, seconds, perSecond: SETUPS / seconds, cpuMsPerSetup: cpu / SETUPS, errors: tally.errors.length };
}

async function storm(app: Target, watchers: Watcher[], streamingRooms: { room: string; sessionId: string; studentToken: string }[]) {
  const tally = newTally();
  const clients = watchers.map((w) => new StormClient(w.token, w.room, tally));
  const connectStarted = performance.now();
  await pool(clients, 64, (c) => c.connect(app.a.baseUrl, app.a.wsUrl, TIMEOUT));
  log(`${clients.length} clients on A in ${((performance.now() - connectStarted) / 1000).toFixed(1)} s`);

  // One reference watcher per streaming room on B: its position at the kill is the room's head.
  const refTally = newTally();
  const refs = new Map<string, StormClient>();
  for (const r of streamingRooms) {
    const ref = new StormClient(r.studentToken, r.room, refTally);
    await ref.connect(app.b.baseUrl, app.b.wsUrl, TIMEOUT);
    refs.set(r.room, ref);
  }
  await pool(streamingRooms, 16, async (r, i) => {
    const res = await fetch(`${app.b.baseUrl}/api/sessions/${r.sessionId}/messages`, {
      method: "POST",
      headers: { authorization: `Bearer ${r.studentToken}`, "content-type": "application/json" },
      body: JSON.stringify({ clientMessageId: `storm-${i}`, content: `Explain photosynthesis step by step, question ${i}.` }),
    });
    if (res.status !== 201) throw new Error(`send on B: ${res.status} ${await res.text()}`);
  });
  // Events flow for a while before the kill, so the resumes have something to replay.
  await Bun.sleep(2000);
  const eventsBefore = tally.events;

  const bPid = app.b.child.proc.pid;
  const cpuBefore = cpuMs(bPid);
  const lost = clients.map((c) => c.lost());
  app.a.child.proc.kill("SIGKILL");
  const killedAt = Date.now();
  await Promise.all(lost);
  const target = new Map<string, number>();
  for (const c of clients) target.set(c.room, Math.max(target.get(c.room) ?? 0, c.position?.offset ?? 0));
  for (const [room, ref] of refs) target.set(room, Math.max(target.get(room) ?? 0, ref.position?.offset ?? 0));
  log(`A killed; all ${clients.length} sockets saw the close within ${Date.now() - killedAt} ms`);

  const gate = limiter(INFLIGHT);
  const times: number[] = [];
  let failed = 0;
  await Promise.all(
    clients.map(async (c) => {
      await Bun.sleep(Math.random() * JITTER_MS);
      for (let attempt = 0; attempt < 5; attempt++) {
        try {
          await gate(() => c.connect(app.b.baseUrl, app.b.wsUrl, TIMEOUT));
          await c.caughtUp(target.get(c.room) ?? 0);
          times.push(Date.now() - killedAt);
          return;
        } catch (err) {
          if (attempt === 4) {
            failed++;
            tally.errors.push((err as Error).message);
          }
          await Bun.sleep(200 * 2 ** attempt);
        }
      }
    }),
  );
  const cpu = cpuMs(bPid) - cpuBefore;
  for (const c of [...clients, ...refs.values()]) c.close();
  return {
    clients: clients.length,
    streamingRooms: streamingRooms.length,
    eventsBeforeKill: eventsBefore,
    allCaughtUpMs: times.length === clients.length ? Math.max(...times) : Number.NaN,
    p50Ms: percentile(times, 0.5),
    p99Ms: percentile(times, 0.99),
    caughtUp: times.length,
    failed,
    resets: tally.resets,
    duplicates: tally.duplicates,
    gaps: tally.gaps,
    errors: tally.errors.length,
    firstErrors: [...new Set(tally.errors)].slice(0, 5),
    cpuMsB: cpu,
  };
}

function reportSetup(setup: { cpuMsPerSetup: number; perSecond: number }) {
  const perCore = 1000 / setup.cpuMsPerSetup;
  console.log(
    `${perCore >= 1000 ? "MET " : "MISS"}  connection setup: ${perCore.toFixed(0)}/s per instance core by CPU, ${setup.perSecond.toFixed(0)}/s wall with the client on the same machine (aim ≥ 1000/s)`,
  );
}

async function main(): Promise<number> {
  const startedAt = new Date().toISOString();
  const workDir = mkdtempSync(join(tmpdir(), "rapt-storm-bench-"));
  const dataDir = join(workDir, "data");
  let db: Awaited<ReturnType<typeof createBenchDatabase>> | null = null;
  try {
    const redis = await ensureRedis(workDir);
    if (!redis) {
      console.log("SKIP storm bench: no Redis (set BENCH_REDIS_URL, or install redis-server)");
      return 0;
    }
    db = await createBenchDatabase();
    if ("error" in db) {
      console.log(`SKIP storm bench: ${db.error} (set BENCH_DATABASE_URL)`);
      return 0;
    }
    log(`load before: ${load()} on ${cpus().length} CPUs; logs in ${workDir}`);
    const keys = await loadOrCreateDevKeys(dataDir);
    const scene = await seedScene({ databaseUrl: db.url, keys, students: ROOMS, watchersPerSession: WATCHERS, rates: [TPS] });
    // Both instances reach Postgres through a counting proxy: round trips per setup.
    const pgUrl = new URL(db.url);
    const pgCounter = await startPgCounter({ host: pgUrl.hostname, port: Number(pgUrl.port || 5432) });
    pgUrl.port = String(pgCounter.port);
    const redisInfo = connectRedis(redis.url, "commands", { connectionName: "bench-storm-stats" });
    redisInfo.on("error", () => {});
    const app = await startApp({
      tag: "storm",
      databaseUrl: pgUrl.toString(),
      redisUrl: redis.url,
      dataDir,
      logDir: workDir,
      env: { AI_DEV_TOKENS_PER_SECOND: "50" },
      bunArgs: CPU_PROF_DIR ? ["--cpu-prof", "--cpu-prof-md", `--cpu-prof-dir=${CPU_PROF_DIR}`] : [],
    });
    const slowTool = scene.toolsByRate.get(TPS) ?? scene.toolId;
    const sessions = await pool(scene.students, 16, async (s) => {
      const res = await fetch(`${app.b.baseUrl}/api/sessions`, {
        method: "POST",
        headers: { authorization: `Bearer ${s.user.token}`, "content-type": "application/json" },
        body: JSON.stringify({ toolId: slowTool, classId: s.classId }),
      });
      if (res.status !== 201) throw new Error(`start session: ${res.status} ${await res.text()}`);
      return ((await res.json()) as { session: { id: string } }).session.id;
    });
    const watchers: Watcher[] = [];
    scene.students.forEach((s, i) => {
      const room = `session:${sessions[i]}`;
      watchers.push({ token: s.user.token, room });
      for (const t of s.teachers.slice(0, WATCHERS)) watchers.push({ token: t.token, room });
    });
    log(`seeded ${ROOMS} sessions, ${watchers.length} watchers (${ROOMS} students, ${scene.classes.length * WATCHERS} teachers)`);

    const setup = SETUPS > 0 && PHASES.has("setup") ? await measureSetups(app, watchers, pgCounter, redisInfo) : null;
    if (setup) {
      log(
        `setup wire, per setup: Postgres ${setup.pgRoundTrips} round trips (${setup.pgStatements} statements, ${setup.pgWrites} writes); Redis ${JSON.stringify(setup.redisByCommand)}`,
      );
      for (const st of setup.statements) log(`  ${st.perSetup.toFixed(2)}× ${st.text}`);
      log(
        `setup: ${setup.setups} × (ticket + upgrade + subscribe by snapshot + close), ${setup.concurrency} at a time: ${setup.perSecond.toFixed(0)}/s wall, B ${setup.cpuMsPerSetup.toFixed(2)} ms CPU each (≈ ${(1000 / setup.cpuMsPerSetup).toFixed(0)}/s per core), errors ${setup.errors}`,
      );
    }
    const streamingRooms = scene.students
      .slice(0, STREAMING)
      .map((s, i) => ({ room: `session:${sessions[i]}`, sessionId: sessions[i] as string, studentToken: s.user.token }));
    const result = PHASES.has("storm") ? await storm(app, watchers, streamingRooms) : null;
    await app.stop();
    redisInfo.disconnect();
    await pgCounter.close();
    if (!result) {
      if (setup) reportSetup(setup);
      return 0;
    }
    log(
      `storm: ${result.caughtUp}/${result.clients} caught up, all by ${result.allCaughtUpMs} ms (p50 ${result.p50Ms} ms, p99 ${result.p99Ms} ms); resets ${result.resets}, duplicates ${result.duplicates}, gaps ${result.gaps}, failed ${result.failed}, errors ${result.errors}${result.firstErrors.length ? ` (${result.firstErrors.join("; ")})` : ""}; B CPU ${result.cpuMsB} ms`,
    );
    const met = Number.isFinite(result.allCaughtUpMs) && result.allCaughtUpMs <= AIM_MS && result.resets === 0 && result.gaps === 0 && result.duplicates === 0;
    console.log(
      `${met ? "MET " : "MISS"}  reconnect storm: ${result.clients} clients caught up on the survivor in ${result.allCaughtUpMs} ms, ${result.resets} resets (aim ≤ ${AIM_MS} ms, none)`,
    );
    if (setup) reportSetup(setup);
    const dir = join(import.meta.dir, "results");
    mkdirSync(dir, { recursive: true });
    const file = join(dir, `storm-${startedAt.replace(/[:.]/g, "-")}.json`);
    const config = { ROOMS, WATCHERS, STREAMING, TPS, SETUPS, SETUP_CONCURRENCY, JITTER_MS, INFLIGHT };
    writeFileSync(file, `${JSON.stringify({ startedAt, machine: { cpus: cpus().length, load: load(), bun: Bun.version }, config, setup, storm: result }, null, 2)}\n`);
    log(`written ${file}`);
    return 0;
  } finally {
    await stopAll();
    if (db && !("error" in db)) await db.drop().catch((err: Error) => console.error(`could not drop the bench database: ${err.message}`));
    if (!process.env.BENCH_KEEP_LOGS) rmSync(workDir, { recursive: true, force: true });
  }
}

try {
  process.exit(await main());
} catch (err) {
  console.error("storm bench failed:", err);
  await stopAll();
  process.exit(1);
}
