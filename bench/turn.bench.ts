/**
 * The cost of one chat turn on the instance that generates it: a student's `message.send` over a
 * real WebSocket → stored, modules, gateway admission, the streamed answer's coalesced publishes,
 * checkpoints, finalisation, usage settle and rows, answer hooks. One API process on Postgres and
 * Redis; the dev model runs in its own process (as a remote gateway would), so the API's CPU is
 * the app's own.
 *
 * Reported per phase (sequential turns, then rounds of concurrent turns): CPU ms per turn of the
 * API process (/proc, user + system, all its threads), Postgres round trips, statements and
 * writes per turn and per streamed delta (counted on the wire by a proxy in front of Postgres:
 * bench/turn/pg-counter.ts), Redis commands per turn (INFO commandstats), and turns/s.
 * BENCH_TURN_PROFILE=1 runs the API under `bun --cpu-prof` and keeps the profile.
 * BENCH_TURN_LOOP_PROBE=1 preloads bench/turn/loop-probe.ts into the API and reports each phase's
 * longest event-loop stop (a concurrent round's sends all arrive at once).
 *
 * Needs Postgres (BENCH_DATABASE_URL; a fresh database per run, dropped after) and Redis
 * (BENCH_REDIS_URL, else one is started on 6396); skipped with a message when either is missing.
 *
 *   bun bench/turn.bench.ts            (or `bun run bench -- turn`)
 * Knobs: BENCH_TURN_SEQUENTIAL=60 BENCH_TURN_CONCURRENT=50 BENCH_TURN_ROUNDS=3
 *        BENCH_TURN_WARMUP=200 BENCH_TURN_TPS=50 BENCH_TURN_IDLE_SECONDS=10 BENCH_TURN_PROFILE=0
 *        BENCH_TURN_LOOP_PROBE=0 BENCH_TURN_TIMEOUT_MS=60000 BENCH_TURN_TARGET=app (or floor: bench/turn/floor-server.ts)
 *        BENCH_TURN_SYSCALL_TRACE=0 (1: each phase's socket system calls by connection, thread and
 *        kind, with their time in the kernel: bench/turn/syscall-trace.ts)
 *        BENCH_TURN_KERNEL_SAMPLES=0 (1: each phase sampled with kernel stacks, `perf record -g`: the
 *        system time by thread and by the system call it ran under; not with the trace at once)
 *        BENCH_TURN_APP_ENV=K=V,K=V (settings for the API process only, e.g. JavaScriptCore's options:
 *        `BUN_JSC_reportCompileTimes=1,BUN_JSC_printEachOSRExit=1` — then the API's stderr is cut at
 *        each phase's window, kept in the work directory, and read by bench/turn/jit-log.ts: what the
 *        JIT compiled and which speculations failed, per function, in the warm-up and in each phase)
 */
import { closeSync, mkdirSync, mkdtempSync, openSync, readdirSync, readFileSync, readSync, rmSync, statSync, writeFileSync } from "node:fs";
import { cpus, loadavg, tmpdir } from "node:os";
import { join } from "node:path";
import { connectRedis } from "../packages/bus/src/index.ts";
import { loadOrCreateDevKeys } from "../apps/api/src/auth/dev-keys.ts";
import { pool } from "./live/clients.ts";
import { createBenchDatabase, ensureRedis } from "./live/infra.ts";
import { cpuMs, stopAll, threadCpu, threadDelta } from "./live/procs.ts";
import { seedScene } from "./live/scene.ts";
import { startDevModel } from "./live/targets.ts";
import { openFloorStudent, openStudent, startApi, startFloor, type Student, turn } from "./turn/instance.ts";
import { type PgCounts, startPgCounter } from "./turn/pg-counter.ts";
import { type LoopStops, loopStops } from "./turn/loop-stops.ts";
import { countSyscalls, type SyscallCounts } from "./turn/syscalls.ts";
import {
  formatKernelSamples,
  formatTrace,
  type KernelSamples,
  type PortNames,
  redisClientNames,
  sampleKernel,
  type SyscallTrace,
  traceSyscalls,
} from "./turn/syscall-trace.ts";
import { countJit, formatJit } from "./turn/jit-log.ts";
import { formatPhaseProfile, type PhaseProfile, phaseProfile } from "./turn/window-profile.ts";

const num = (name: string, fallback: number) => {
  const v = Number(process.env[name] ?? fallback);
  if (!Number.isFinite(v) || v < 0) throw new Error(`${name} must be a non-negative number`);
  return v;
};
const SEQUENTIAL = num("BENCH_TURN_SEQUENTIAL", 60);
const CONCURRENT = num("BENCH_TURN_CONCURRENT", 50);
const ROUNDS = num("BENCH_TURN_ROUNDS", 3);
const WARMUP = num("BENCH_TURN_WARMUP", 200);
const TPS = num("BENCH_TURN_TPS", 50);
const TIMEOUT = num("BENCH_TURN_TIMEOUT_MS", 60_000);
const PROFILE = process.env.BENCH_TURN_PROFILE === "1";
const LOOP_PROBE = process.env.BENCH_TURN_LOOP_PROBE === "1";
const IDLE_SECONDS = num("BENCH_TURN_IDLE_SECONDS", 10);
const SYSCALL_TRACE = process.env.BENCH_TURN_SYSCALL_TRACE === "1";
const KERNEL_SAMPLES = process.env.BENCH_TURN_KERNEL_SAMPLES === "1";
if (SYSCALL_TRACE && KERNEL_SAMPLES) throw new Error("BENCH_TURN_SYSCALL_TRACE and BENCH_TURN_KERNEL_SAMPLES each perturb the other: one at a time");
/** Settings for the API process alone (the bench, the dev model and the proxy keep their own). */
const APP_ENV: Record<string, string> = Object.fromEntries(
  (process.env.BENCH_TURN_APP_ENV ?? "")
    .split(",")
    .map((kv) => kv.trim())
    .filter(Boolean)
    .map((kv) => [kv.slice(0, kv.indexOf("=")), kv.slice(kv.indexOf("=") + 1)]),
);
/** JavaScriptCore's reports go to stderr: cut it per phase when one is asked for. */
const JIT_LOG = Object.keys(APP_ENV).some((k) => k.startsWith("BUN_JSC_"));
/** `app` (the API) or `floor` (bench/turn/floor-server.ts: the least a turn can cost, same libraries). */
const TARGET = process.env.BENCH_TURN_TARGET ?? "app";
if (TARGET !== "app" && TARGET !== "floor") throw new Error("BENCH_TURN_TARGET must be app or floor");
/** Sessions the sequential turns rotate over, so each session's history grows as in a real chat. */
const SEQ_SESSIONS = 10;

const log = (msg: string) => console.log(`[turn] ${msg}`);
const load = () =>
  loadavg()
    .map((n) => n.toFixed(2))
    .join(" ");

type Redis = ReturnType<typeof connectRedis>;

async function redisCalls(redis: Redis): Promise<Map<string, number>> {
  const info = await redis.info("commandstats");
  const out = new Map<string, number>();
  for (const m of info.matchAll(/^cmdstat_([^:]+):calls=(\d+)/gm)) out.set(m[1] ?? "", Number(m[2]));
  return out;
}

interface PhaseResult {
  phase: string;
  turns: number;
  deltas: number;
  wallMs: number;
  cpuMs: number;
  cpuMsPerTurn: number;
  /** CPU per turn less what the instance burns idle over the same wall time (sockets open, no turns). */
  cpuMsPerTurnAboveIdle: number;
  turnsPerSecond: number;
  /** API CPU time / wall time during the phase (1 = one core busy). */
  cpuUtilisation: number;
  pg: { roundTripsPerTurn: number; statementsPerTurn: number; writesPerTurn: number; writesPerDelta: number; socketWritesPerTurn: number };
  redisCommandsPerTurn: number;
  redisByCommand: Record<string, number>;
  /** CPU ms by thread name over the phase (the JS thread is named after the process). */
  threads: Record<string, { user: number; system: number }>;
  statementsByText: { perTurn: number; text: string }[];
  /** System calls of the instance over the phase, per delta (`perf stat`; absent without perf). */
  syscallsPerDelta?: SyscallCounts;
  /** With BENCH_TURN_SYSCALL_TRACE=1: the phase's read/write system calls by connection, thread and kind. */
  syscallTrace?: SyscallTrace;
  /** With BENCH_TURN_KERNEL_SAMPLES=1: the phase's CPU samples by thread, the kernel's by system call. */
  kernelSamples?: KernelSamples;
  /** The phase's window (epoch ms), for reading a CPU profile back. */
  window: { fromMs: number; toMs: number };
  /** With BENCH_TURN_PROFILE=1: the JavaScript thread's samples in the window. */
  profile?: PhaseProfile;
  /** With BENCH_TURN_LOOP_PROBE=1: the API's longest event-loop stops in the window. */
  loopStops?: LoopStops;
  /** With JavaScriptCore's reports on (BENCH_TURN_APP_ENV=BUN_JSC_…): the phase's stderr slice. */
  jitLog?: string;
}

interface MeasureContext {
  pid: number;
  loopProbeFile?: string | undefined;
  /** The API's stderr and where to keep its per-phase slices, when JavaScriptCore reports there. */
  jit?: { stderr: string; dir: string } | undefined;
  counter: Awaited<ReturnType<typeof startPgCounter>>;
  redis: Redis;
  /** Idle CPU of the instance, ms per wall second. */
  idleCpuPerSecond: number;
  /** With BENCH_TURN_SYSCALL_TRACE=1: how the instance's sockets are named. */
  traceNames?: PortNames | undefined;
  workDir: string;
}

/** CPU the instance spends with every socket open and no turn running (timers, jobs, presence). */
async function measureIdle(
  ctx: MeasureContext,
  seconds: number,
): Promise<{ cpuMsPerSecond: number; redisCommandsPerSecond: number; pgStatementsPerSecond: number; threads: ReturnType<typeof threadDelta> }> {
  await Bun.sleep(1000);
  ctx.counter.reset();
  const redisBefore = await redisCalls(ctx.redis);
  const cpuBefore = cpuMs(ctx.pid);
  const threadsBefore = threadCpu(ctx.pid);
  const started = performance.now();
  await Bun.sleep(seconds * 1000);
  const threads = threadDelta(threadsBefore, threadCpu(ctx.pid));
  const wall = (performance.now() - started) / 1000;
  const cpu = cpuMs(ctx.pid) - cpuBefore;
  const redisAfter = await redisCalls(ctx.redis);
  let redis = 0;
  for (const [cmd, calls] of redisAfter) if (cmd !== "info") redis += calls - (redisBefore.get(cmd) ?? 0);
  return {
    cpuMsPerSecond: Number((cpu / wall).toFixed(1)),
    redisCommandsPerSecond: Number((redis / wall).toFixed(1)),
    pgStatementsPerSecond: Number((ctx.counter.snapshot().statements / wall).toFixed(1)),
    threads,
  };
}

async function measure(phase: string, ctx: MeasureContext, run: () => Promise<{ turns: number; deltas: number }>): Promise<PhaseResult> {
  // Let the previous phase's trailing work (answer hooks, timers) finish before counting.
  await Bun.sleep(500);
  const syscalls = await countSyscalls(ctx.pid);
  const trace = ctx.traceNames ? await traceSyscalls(ctx.pid, join(ctx.workDir, "syscalls.perf.data"), ctx.traceNames) : null;
  const sampler = KERNEL_SAMPLES ? await sampleKernel(ctx.pid, join(ctx.workDir, "kernel.perf.data")) : null;
  const stderrFrom = ctx.jit ? statSync(ctx.jit.stderr).size : 0;
  ctx.counter.reset();
  const redisBefore = await redisCalls(ctx.redis);
  const cpuBefore = cpuMs(ctx.pid);
  const threadsBefore = threadCpu(ctx.pid);
  const started = performance.now();
  const fromMs = Date.now();
  const { turns, deltas } = await run();
  const toMs = Date.now();
  const wallMs = performance.now() - started;
  // The finalisation's trailing writes (answer hook) land just after the last `completed`.
  await Bun.sleep(300);
  const cpu = cpuMs(ctx.pid) - cpuBefore;
  const threads = threadDelta(threadsBefore, threadCpu(ctx.pid));
  const sys = await syscalls.stop();
  const syscallTrace = trace ? await trace.stop() : null;
  const kernelSamples = sampler ? await sampler.stop() : null;
  const jitLog = ctx.jit ? cutStderr(ctx.jit, stderrFrom, phase) : undefined;
  const perDelta = (n: number) => Number((n / Math.max(1, deltas)).toFixed(2));
  const syscallsPerDelta = sys
    ? { all: perDelta(sys.all), sendto: perDelta(sys.sendto), recvfrom: perDelta(sys.recvfrom), write: perDelta(sys.write), read: perDelta(sys.read) }
    : undefined;
  const pg: PgCounts = ctx.counter.snapshot();
  const redisAfter = await redisCalls(ctx.redis);
  const redisByCommand: Record<string, number> = {};
  let redisTotal = 0;
  for (const [cmd, calls] of redisAfter) {
    // INFO itself is the bench's own probe.
    if (cmd === "info") continue;
    const d = calls - (redisBefore.get(cmd) ?? 0);
    if (d > 0) {
      redisByCommand[cmd] = Number((d / turns).toFixed(2));
      redisTotal += d;
    }
  }
  const statementsByText = [...pg.byText.entries()]
    .map(([text, count]) => ({ perTurn: Number((count / turns).toFixed(2)), text: text.length > 160 ? `${text.slice(0, 157)}…` : text }))
    .sort((a, b) => b.perTurn - a.perTurn);
  return {
    phase,
    turns,
    deltas,
    wallMs: Math.round(wallMs),
    cpuMs: cpu,
    cpuMsPerTurn: Number((cpu / turns).toFixed(2)),
    cpuMsPerTurnAboveIdle: Number(((cpu - (ctx.idleCpuPerSecond * wallMs) / 1000) / turns).toFixed(2)),
    turnsPerSecond: Number(((turns / wallMs) * 1000).toFixed(1)),
    cpuUtilisation: Number((cpu / wallMs).toFixed(2)),
    pg: {
      roundTripsPerTurn: Number((pg.roundTrips / turns).toFixed(2)),
      statementsPerTurn: Number((pg.statements / turns).toFixed(2)),
      writesPerTurn: Number((pg.writes / turns).toFixed(2)),
      writesPerDelta: Number((pg.writes / Math.max(1, deltas)).toFixed(3)),
      socketWritesPerTurn: Number((pg.packets / turns).toFixed(2)),
    },
    redisCommandsPerTurn: Number((redisTotal / turns).toFixed(2)),
    redisByCommand,
    threads,
    statementsByText,
    window: { fromMs, toMs },
    ...(ctx.loopProbeFile ? { loopStops: loopStops(ctx.loopProbeFile, { fromMs, toMs }) } : {}),
    ...(syscallsPerDelta ? { syscallsPerDelta } : {}),
    ...(syscallTrace ? { syscallTrace } : {}),
    ...(kernelSamples ? { kernelSamples } : {}),
    ...(jitLog ? { jitLog } : {}),
  };
}

// Where each phase's slice starts in the API's stderr: what came before it is the slice's history
// (a compilation at a tier reached before is a recompilation; jit-log.ts).
const sliceStarts = new Map<string, number>();

/** Copies the API's stderr from `from` to its current end into a file named after the phase. */
function cutStderr(jit: { stderr: string; dir: string }, from: number, phase: string): string {
  const to = statSync(jit.stderr).size;
  const buf = Buffer.alloc(Math.max(0, to - from));
  const fd = openSync(jit.stderr, "r");
  try {
    readSync(fd, buf, 0, buf.length, from);
  } finally {
    closeSync(fd);
  }
  const file = join(jit.dir, `jit-${phase.replace(/[^a-z0-9]+/gi, "-")}.log`);
  writeFileSync(file, buf);
  sliceStarts.set(file, from);
  return file;
}

function print(r: PhaseResult) {
  log(
    `${r.phase}: ${r.turns} turns, ${(r.deltas / r.turns).toFixed(1)} deltas/turn, CPU ${r.cpuMs} ms = ${r.cpuMsPerTurn} ms/turn (${r.cpuMsPerTurnAboveIdle} above idle), ${r.turnsPerSecond} turns/s (API CPU ${r.cpuUtilisation} cores), ` +
      `Postgres ${r.pg.roundTripsPerTurn} round trips / ${r.pg.statementsPerTurn} statements / ${r.pg.writesPerTurn} writes per turn (${r.pg.writesPerDelta} writes per delta, ${r.pg.socketWritesPerTurn} socket writes from A), Redis ${r.redisCommandsPerTurn} commands/turn` +
      (r.loopStops
        ? `, longest loop stops ${r.loopStops.longest.join(" / ")} ms wall (${r.loopStops.over50} intervals over 50 ms), ${r.loopStops.longestCpu.join(" / ")} ms CPU`
        : ""),
  );
}

async function main(): Promise<number> {
  const workDir = mkdtempSync(join(tmpdir(), "rapt-turn-bench-"));
  const dataDir = join(workDir, "data");
  const profileDir = join(workDir, "profile");
  const loadBefore = load();
  const redisHandle = await ensureRedis(workDir);
  if (!redisHandle) {
    console.log("SKIP turn bench: no Redis (set BENCH_REDIS_URL, or install redis-server so one can be started on 6396)");
    return 0;
  }
  const db = await createBenchDatabase();
  if ("error" in db) {
    console.log(`SKIP turn bench: ${db.error} (set BENCH_DATABASE_URL)`);
    return 0;
  }
  const redis = connectRedis(redisHandle.url, "commands", { connectionName: "bench-turn-stats" });
  redis.on("error", () => {});
  const students: Student[] = [];
  try {
    const sessions = Math.max(CONCURRENT, SEQ_SESSIONS, Math.min(WARMUP, 50));
    const keys = await loadOrCreateDevKeys(dataDir);
    const scene = TARGET === "app" ? await seedScene({ databaseUrl: db.url, keys, students: sessions, watchersPerSession: 1, rates: [] }) : null;
    const pgUrl = new URL(db.url);
    const counter = await startPgCounter({ host: pgUrl.hostname, port: Number(pgUrl.port || 5432) });
    pgUrl.port = String(counter.port);
    const model = await startDevModel({ tokensPerSecond: TPS, logDir: workDir });
    if (PROFILE) mkdirSync(profileDir, { recursive: true });
    const target = { databaseUrl: pgUrl.toString(), redisUrl: redisHandle.url, gatewayUrl: model.url, logDir: workDir, profileDir: PROFILE ? profileDir : undefined };
    const loopProbeFile = LOOP_PROBE && scene ? join(workDir, "loop-stops.txt") : undefined;
    const api = scene ? await startApi({ ...target, dataDir, loopProbeFile, env: APP_ENV }) : await startFloor(target);
    log(`${TARGET}: load ${loadBefore} on ${cpus().length} CPUs; database ${db.name}; redis ${redisHandle.url}; dev model at ${TPS} tok/s; logs in ${workDir}`);
    if (scene) students.push(...(await pool(scene.students.slice(0, sessions), 16, (s) => openStudent(api, s.user, s.classId, scene.toolId))));
    else students.push(...(await pool(Array.from({ length: sessions }), 16, () => openFloorStudent(api))));
    const pid = api.child.proc.pid;
    const portOf = (url: string) => Number(new URL(url).port);
    const traceNames: PortNames | undefined = SYSCALL_TRACE
      ? {
          remote: { [counter.port]: "postgres", [portOf(redisHandle.url)]: "redis (unnamed)", [portOf(model.url)]: "upstream model" },
          local: { [portOf(api.baseUrl)]: "client sockets (students)" },
          redisNames: async () => redisClientNames(String(await redis.client("LIST"))),
        }
      : undefined;
    const jit = JIT_LOG ? { stderr: `${api.child.logFile}.err`, dir: workDir } : undefined;
    const ctx: MeasureContext = { pid, counter, redis, idleCpuPerSecond: 0, loopProbeFile, traceNames, workDir, jit };
    const warmupFrom = jit ? statSync(jit.stderr).size : 0;

    // Warm-up: JIT (its compiler threads show up as CPU for several hundred turns), prepared
    // statements on every pooled connection. 10 in flight over all sessions, never two in one.
    await pool(
      Array.from({ length: WARMUP }, (_, i) => students[i % students.length] as Student),
      10,
      (s) => turn(s, TIMEOUT),
    );
    const warmupJit = jit ? cutStderr(jit, warmupFrom, `warm-up ×${WARMUP}`) : undefined;
    const idle = await measureIdle(ctx, IDLE_SECONDS);
    ctx.idleCpuPerSecond = idle.cpuMsPerSecond;
    log(
      `idle with ${students.length} sockets open: ${idle.cpuMsPerSecond} ms CPU/s, ${idle.redisCommandsPerSecond} Redis commands/s, ${idle.pgStatementsPerSecond} Postgres statements/s; CPU ms by thread ${JSON.stringify(idle.threads)}`,
    );

    const results: PhaseResult[] = [];
    if (SEQUENTIAL > 0) {
      results.push(
        await measure(`sequential ×${SEQUENTIAL}`, ctx, async () => {
          let deltas = 0;
          for (let i = 0; i < SEQUENTIAL; i++) deltas += (await turn(students[i % SEQ_SESSIONS] as Student, TIMEOUT)).deltas;
          return { turns: SEQUENTIAL, deltas };
        }),
      );
      print(results[results.length - 1] as PhaseResult);
    }
    if (CONCURRENT > 0 && ROUNDS > 0) {
      results.push(
        await measure(`concurrent ${CONCURRENT} × ${ROUNDS} rounds`, ctx, async () => {
          let deltas = 0;
          for (let r = 0; r < ROUNDS; r++) {
            const done = await Promise.all(students.slice(0, CONCURRENT).map((s) => turn(s, TIMEOUT)));
            deltas += done.reduce((a, d) => a + d.deltas, 0);
          }
          return { turns: CONCURRENT * ROUNDS, deltas };
        }),
      );
      print(results[results.length - 1] as PhaseResult);
    }

    for (const s of students) s.socket.close();
    await api.child.stop(15_000);
    await model.child.stop();
    await counter.close();
    if (PROFILE) {
      const cpuprofile = readdirSync(profileDir).find((f) => f.endsWith(".cpuprofile"));
      log(cpuprofile ? `CPU profile (whole process life, start-up included): ${profileDir}` : `no CPU profile written in ${profileDir}`);
      if (cpuprofile) {
        const root = join(import.meta.dir, "..");
        for (const r of results) r.profile = phaseProfile(join(profileDir, cpuprofile), { ...r.window, deltas: r.deltas, turns: r.turns }, root);
      }
    }

    for (const r of results) {
      console.log(`\n${r.phase}: statements per turn`);
      for (const s of r.statementsByText.slice(0, 25)) console.log(`  ${s.perTurn.toFixed(2).padStart(6)}  ${s.text}`);
      console.log(`  Redis per turn: ${JSON.stringify(r.redisByCommand)}`);
      console.log(`  CPU ms by thread: ${JSON.stringify(r.threads)}`);
      console.log(`  system calls per delta: ${r.syscallsPerDelta ? JSON.stringify(r.syscallsPerDelta) : "not counted (no perf)"}`);
      if (r.syscallTrace) console.log(`  read/write system calls per turn by connection (perf record):\n${formatTrace(r.syscallTrace, r.turns).join("\n")}`);
      if (r.kernelSamples)
        console.log(`  CPU samples by thread, the kernel's by system call (perf record -g):\n${formatKernelSamples(r.kernelSamples, r.turns).join("\n")}`);
      if (r.profile) console.log(`  CPU profile of the phase:\n${formatPhaseProfile(r.profile)}`);
    }
    const stderr = jit ? readFileSync(jit.stderr) : undefined;
    for (const [phase, file] of [[`warm-up ×${WARMUP}`, warmupJit], ...results.map((r) => [r.phase, r.jitLog])]) {
      if (!file) continue;
      const history = stderr ? stderr.subarray(0, sliceStarts.get(file) ?? 0).toString("utf8") : "";
      console.log(`\n${phase}: JavaScriptCore (${file})\n${formatJit(countJit(readFileSync(file, "utf8"), history))}`);
    }
    const report = {
      startedAt: new Date().toISOString(),
      machine: { cpus: cpus().length, loadBefore, loadAfter: load(), bun: Bun.version },
      config: {
        target: TARGET,
        sequential: SEQUENTIAL,
        concurrent: CONCURRENT,
        rounds: ROUNDS,
        warmup: WARMUP,
        devTokensPerSecond: TPS,
        profile: PROFILE,
        loopProbe: LOOP_PROBE,
        appEnv: APP_ENV,
      },
      aim: "CPU per turn on the generating instance ≤ 3.5 ms",
      idle,
      results,
      verdict: results.map((r) => `${r.cpuMsPerTurn <= 3.5 ? "MET" : "MISS"} ${r.phase}: ${r.cpuMsPerTurn} ms CPU per turn (aim ≤ 3.5)`),
    };
    console.log("");
    for (const v of report.verdict) console.log(v);
    const resultsDir = join(import.meta.dir, "results");
    mkdirSync(resultsDir, { recursive: true });
    const file = join(resultsDir, `turn-${TARGET === "floor" ? "floor-" : ""}${report.startedAt.replace(/[:.]/g, "-")}.json`);
    writeFileSync(file, `${JSON.stringify(report, null, 2)}\n`);
    console.log(`\nwritten ${file}`);
    return 0;
  } finally {
    for (const s of students) s.socket.close();
    redis.disconnect();
    await stopAll();
    await db.drop().catch((err: Error) => console.error(`could not drop ${db.name}: ${err.message}`));
    if (!PROFILE && !JIT_LOG && !process.env.BENCH_KEEP_LOGS) rmSync(workDir, { recursive: true, force: true });
  }
}

const hardLimit = setTimeout(() => {
  console.error("turn bench: hard time limit reached, stopping");
  process.exit(1);
}, 15 * 60_000);
try {
  const code = await main();
  clearTimeout(hardLimit);
  process.exit(code);
} catch (err) {
  console.error("turn bench failed:", err);
  clearTimeout(hardLimit);
  await stopAll();
  process.exit(1);
}
