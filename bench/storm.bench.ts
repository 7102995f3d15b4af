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
 * `BENCH_STORM_PHASES=idle,setup` adds the idle-socket memory of the live bench (BENCH_STORM_IDLE sockets).
 * Knobs: BENCH_STORM_ROOMS=1000 BENCH_STORM_WATCHERS=4 BENCH_STORM_STREAMING=50 BENCH_STORM_TPS=8
 *        BENCH_STORM_SETUPS=2000 BENCH_STORM_SETUP_CONCURRENCY=32 BENCH_STORM_JITTER_MS=1000
 *        BENCH_STORM_INFLIGHT=256 BENCH_STORM_TIMEOUT_MS=60000
 * `BENCH_STORM_SYSCALLS=1` counts B's system calls over the setup window with `perf stat` (attaching
 * takes 1.5 s of idle B before the window; off by default so the window's surroundings stay as they were).
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { cpus, loadavg, tmpdir } from "node:os";
import { join } from "node:path";
import { loadOrCreateDevKeys } from "../apps/api/src/auth/dev-keys.ts";
import { createBenchDatabase, ensureRedis } from "./live/infra.ts";
import { stopAll } from "./live/procs.ts";
import { type BenchUser, seedScene } from "./live/scene.ts";
import { measureIdle } from "./live/scenario.ts";
import { startApp } from "./live/targets.ts";
import { startPgCounter } from "./turn/pg-counter.ts";
import { formatProfile, profileWindow } from "./live/profiles.ts";
import { connectRedis } from "../packages/bus/src/index.ts";
import { describeSetup, describeStorm, measureSetups, runStorm, type SetupResult, type StormOptions, stormScene } from "./storm/run.ts";

const num = (name: string, fallback: number) => {
  const v = Number(process.env[name] ?? fallback);
  if (!Number.isFinite(v) || v < 0) throw new Error(`${name} must be a non-negative number`);
  return v;
};
const ROOMS = Math.max(1, num("BENCH_STORM_ROOMS", 1000));
const TPS = Math.max(1, num("BENCH_STORM_TPS", 8));
const OPTIONS: StormOptions = {
  watchers: num("BENCH_STORM_WATCHERS", 4),
  streaming: Math.min(ROOMS, num("BENCH_STORM_STREAMING", 50)),
  setups: num("BENCH_STORM_SETUPS", 2000),
  setupConcurrency: Math.max(1, num("BENCH_STORM_SETUP_CONCURRENCY", 32)),
  jitterMs: num("BENCH_STORM_JITTER_MS", 1000),
  inflight: Math.max(1, num("BENCH_STORM_INFLIGHT", 256)),
  timeoutMs: num("BENCH_STORM_TIMEOUT_MS", 60_000),
};
const AIM_MS = 10_000;
/** `idle` (RSS per idle authenticated socket on B, as the live bench measures it) is opt-in. */
const PHASES = new Set((process.env.BENCH_STORM_PHASES ?? "setup,storm").split(","));
const IDLE = Math.max(1, num("BENCH_STORM_IDLE", 1000));
/** A directory: both instances run with `bun --cpu-prof` and write their profiles there on exit. */
const CPU_PROF_DIR = process.env.BENCH_STORM_CPU_PROF_DIR;

const log = (msg: string) => console.log(`[storm] ${msg}`);
const load = () =>
  loadavg()
    .map((n) => n.toFixed(2))
    .join(" ");

function reportSetup(setup: SetupResult) {
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
    const scene = await seedScene({ databaseUrl: db.url, keys, students: ROOMS, watchersPerSession: OPTIONS.watchers, rates: [TPS] });
    // Both instances reach Postgres through a counting proxy: round trips per setup.
    const pgUrl = new URL(db.url);
    const pg = await startPgCounter({ host: pgUrl.hostname, port: Number(pgUrl.port || 5432) });
    pgUrl.port = String(pg.port);
    const redisStats = connectRedis(redis.url, "commands", { connectionName: "bench-storm-stats" });
    redisStats.on("error", () => undefined);
    const app = await startApp({
      tag: "storm",
      databaseUrl: pgUrl.toString(),
      redisUrl: redis.url,
      dataDir,
      logDir: workDir,
      env: { AI_DEV_TOKENS_PER_SECOND: "50" },
      cpuProfDir: CPU_PROF_DIR,
    });
    const { watchers, rooms } = await stormScene(app, scene, ROOMS, OPTIONS.watchers, scene.toolsByRate.get(TPS) ?? scene.toolId);
    log(`seeded ${ROOMS} sessions, ${watchers.length} watchers (${ROOMS} students, ${scene.classes.length * OPTIONS.watchers} teachers)`);

    if (PHASES.has("idle")) {
      const users: BenchUser[] = [...new Map(scene.classes.flatMap((c) => [...c.students, ...c.teachers]).map((u) => [u.id, u])).values()];
      const idle = await measureIdle(app, users, IDLE);
      log(
        `idle: ${idle.connections} sockets over ${Math.min(IDLE, users.length)} users on B: ${idle.perConnectionKb.toFixed(1)} KB RSS each, ${idle.perConnectionKbSecondRound.toFixed(1)} KB opened again (RSS ${idle.rssBeforeKb} → ${idle.rssAfterKb} → ${idle.rssAfterCloseKb} KB)`,
      );
    }
    const setup =
      OPTIONS.setups > 0 && PHASES.has("setup")
        ? await measureSetups(app, watchers, OPTIONS, {
            pg,
            redisInfo: () => redisStats.call("info", "commandstats", "stats") as Promise<string>,
            syscalls: process.env.BENCH_STORM_SYSCALLS === "1",
          })
        : null;
    if (setup) log(describeSetup(setup));
    const result = PHASES.has("storm") ? await runStorm(app, watchers, rooms.slice(0, OPTIONS.streaming), OPTIONS, log) : null;
    await app.stop();
    redisStats.disconnect();
    await pg.close();
    // B's profile is written when it stops: what it spent the setup window on.
    const setupProfile =
      setup && CPU_PROF_DIR ? profileWindow(CPU_PROF_DIR, { instance: "app-storm-b", fromMs: setup.fromMs, toMs: setup.toMs }, join(import.meta.dir, "..")) : null;
    if (setupProfile) log(`setup window ${setup?.fromMs}–${setup?.toMs}, B's samples by self time:\n${formatProfile(setupProfile)}`);
    if (!result) {
      if (setup) reportSetup(setup);
      return 0;
    }
    log(describeStorm(result));
    const met = Number.isFinite(result.allCaughtUpMs) && result.allCaughtUpMs <= AIM_MS && result.resets === 0 && result.gaps === 0 && result.duplicates === 0;
    console.log(
      `${met ? "MET " : "MISS"}  reconnect storm: ${result.clients} clients caught up on the survivor in ${result.allCaughtUpMs} ms, ${result.resets} resets (aim ≤ ${AIM_MS} ms, none)`,
    );
    if (setup) reportSetup(setup);
    const dir = join(import.meta.dir, "results");
    mkdirSync(dir, { recursive: true });
    const file = join(dir, `storm-${startedAt.replace(/[:.]/g, "-")}.json`);
    const config = { ROOMS, TPS, ...OPTIONS };
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
