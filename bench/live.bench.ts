/**
 * Live fan-out: N streaming sessions × K watchers over two API instances with real Redis,
 * Postgres and the built-in dev model, against two baselines doing the same fan-out with no app
 * logic, in the same run: a bare Bun + Redis relay, and Socket.IO 4.8 on Node with its Redis
 * adapter. Students are on instance A, watchers (teachers) on B.
 *
 * Reported per scenario: event frames delivered to the watchers, events/s (first to last frame),
 * fan-out latency p50/p99 of `message.delta` frames (received on B − `at` stamped by the publisher
 * on A; one machine, one clock), CPU of A, B and the client, and RSS per idle connection on B;
 * beside each run's latency, how late the client's own loop ran (it stamps every frame, so that
 * is the reader's share at most, bench/live/loop-delay.ts) and, for the paced runs, a second
 * reader in a process of its own with one more watcher on every BENCH_LIVE_PROBE_EVERY-th room
 * (bench/live/probe.ts; the same for every target; goal 3's p99s are its, the client's beside them);
 * each figure as app/relay and app/Socket.IO; then the issue's seven aims, met or missed.
 *
 * Parts (BENCH_LIVE_PARTS, all by default; each on API instances of its own):
 * - fanout: the scenarios below, with both baselines (goals 1–4);
 * - storm: connection setups against one instance, then 5,000 clients of a killed instance
 *   resuming on the survivor (goal 5, bench/storm/run.ts);
 * - late-joiner: late joiners' snapshots of a 5,000-message session, rows read counted on the
 *   Postgres wire (goal 6);
 * - cluster: a local six-node Redis Cluster, the main fan-out scenario on it, and a primary killed
 *   mid-answer (goal 7).
 * BENCH_LIVE_CPU_PROF_DIR=<dir> runs every instance under `bun --cpu-prof`; a missed aim then comes
 * with the top self-time entries of the instance that explains it, over the window it was measured.
 *
 * Scenarios of the fanout part: idle sockets (RSS of B before/after the first BENCH_LIVE_IDLE — goal 4 —,
 * after closing them, with the same users' sockets opened again, and after BENCH_LIVE_IDLE_MORE
 * further users' sockets on top of those — KB per further socket); warm-up; main (paced:
 * AI_DEV_TOKENS_PER_SECOND, default coalescing); saturation (servers restarted with
 * LIVE_COALESCE_MS=BENCH_LIVE_SAT_COALESCE_MS and the dev model at each BENCH_LIVE_SAT_TPS rate
 * through `dev-tutor@<n>tps`, so the app publishes as fast as it keeps up). Each baseline replays each
 * app run: as many rooms, the same event counts and frame sizes, paced at the app's timing — or,
 * for saturation, back to back. Saturation compares the best peak rate over any 500 ms window
 * (a whole-run average would be diluted by the app's turns starting one by one). With the relay,
 * each saturation run is also replayed at the app's pace, and its own bus messages are replayed
 * unpaced onto its rooms by the relay's publisher ("B fed unpaced", bench/live/fed.ts): goal 3's CPU
 * aim with the app's B fed as densely as the relay's.
 *
 * Needs Postgres (BENCH_DATABASE_URL, default postgres://rapt:rapt@127.0.0.1:5432/rapt; a fresh
 * database per run, dropped after) and Redis (BENCH_REDIS_URL, else one is started on 6396);
 * skipped with a message when either is missing. The Socket.IO baseline runs on the `node` on PATH
 * (BENCH_LIVE_BASELINES=relay leaves it out). Loopback only; every process is killed at the end.
 *
 *   bun bench/live.bench.ts            (or `bun run bench`)
 * Knobs: BENCH_LIVE_SESSIONS=200 BENCH_LIVE_WATCHERS=4 BENCH_LIVE_WARMUP_SESSIONS=800
 *        BENCH_LIVE_IDLE=1000 BENCH_LIVE_IDLE_MORE=6000 BENCH_LIVE_TPS=50 BENCH_LIVE_SAT_TPS=50,100,200
 *        BENCH_LIVE_SAT_COALESCE_MS=0 BENCH_LIVE_SAT_FED=1 BENCH_LIVE_TIMEOUT_MS=120000 BENCH_LIVE_BASELINES=relay,socket.io
 *        BENCH_LIVE_SIO_CLIENT=wire|socket.io-client BENCH_LIVE_PROBE_EVERY=5 (0: no probe)
 *        BENCH_LIVE_TAP=process|inline (the Redis tap in its own process, or in the client's as before
 *        2026-12-02: bench/live/tap.ts)
 *        BENCH_LIVE_DEV_MODEL=external|embedded  (default external: the dev model in its own process
 *        instead of inside each instance, so the instances' CPU is the app's own, as behind a
 *        remote gateway, and goal 2 is measured)
 *        BENCH_LIVE_PARTS=fanout,storm,late-joiner,cluster BENCH_LIVE_CPU_PROF_DIR=<dir>
 *        BENCH_LIVE_STORM_ROOMS=1000 BENCH_LIVE_STORM_WATCHERS=4 BENCH_LIVE_STORM_STREAMING=50
 *        BENCH_LIVE_STORM_SETUPS=2000 BENCH_LIVE_STORM_TPS=8
 *        BENCH_LIVE_LATE_MESSAGES=5000 BENCH_LIVE_LATE_JOINERS=30
 *        BENCH_LIVE_CLUSTER_PORT=7300 BENCH_LIVE_CLUSTER_SESSIONS=200 BENCH_LIVE_FAILOVER_SESSIONS=20
 *        BENCH_LIVE_APP_ENV=K=V,K=V (settings for every app instance, e.g. MEMORY_REDUCER_QUIET_MS=0 or
 *        LOG_LEVEL=info; with BENCH_KEEP_LOGS=1 the instances' logs stay in the work directory)
 *        BENCH_LIVE_IDLE_TRACE=1 (B's RSS and CPU every 100 ms through each idle part, steps marked:
 *        whether a collection came before the reading; it changes nothing that is measured)
 * A's event loop (opt-in, nothing in the bench changes): preload bench/turn/loop-probe.ts into the
 * paced instance A through the app's settings,
 *   BENCH_LIVE_APP_ENV=BUN_OPTIONS=--preload <repo>/bench/turn/loop-probe.ts,LOOP_PROBE_FILE=<file>,LOOP_PROBE_INSTANCE=bench-paced-a
 * then `bun bench/live/loop-report.ts <file> bench/results/live-<run>.json`: the longest loop block
 * (wall and CPU) and the loop's p99, per second, over the main run. Its 1 ms timers cost A CPU, so
 * read goal 2 from runs without it.
 */
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { cpus, loadavg, tmpdir } from "node:os";
import { join } from "node:path";
import { loadOrCreateDevKeys } from "../apps/api/src/auth/dev-keys.ts";
import { appRun, baselineRuns, type FanoutOptions } from "./live/fanout-runs.ts";
import { fedRun } from "./live/fed.ts";
import { AT_APP_PACE, attachProfiles, B_FED, type GoalInputs, goalRows, type ProfileWindows } from "./live/goals.ts";
import { type BenchDatabase, createBenchDatabase, ensureRedis, type RedisHandle } from "./live/infra.ts";
import { clusterPart, lateJoinerPart, type PartContext, stormPart } from "./live/parts.ts";
import { type Child, logLevels, stopAll } from "./live/procs.ts";
import { profileWindow } from "./live/profiles.ts";
import { type LiveReport, table, writeReport } from "./live/report.ts";
import { type IdleResult, measureIdle, type RunResult } from "./live/scenario.ts";
import { type Scene, seedScene } from "./live/scene.ts";
import { type SocketIoClient, startSocketIo } from "./live/socketio.ts";
import { type Baseline, startApp, startDevModel, startRelay } from "./live/targets.ts";

const num = (name: string, fallback: number) => {
  const v = Number(process.env[name] ?? fallback);
  if (!Number.isFinite(v) || v < 0) throw new Error(`${name} must be a non-negative number`);
  return v;
};
const SESSIONS = num("BENCH_LIVE_SESSIONS", 200);
const WATCHERS = Math.max(1, num("BENCH_LIVE_WATCHERS", 4));
// An instance's first few hundred turns pay for JavaScriptCore compiling its hot paths (the JIT
// thread used 1.7 ms of a 5.8 ms turn after a 20-session warm-up, 0.25 ms after 800): the
// measured runs come after as many warm-up turns, and goal 2 also reports the warm-up's own cost.
const WARMUP = num("BENCH_LIVE_WARMUP_SESSIONS", 800);
const IDLE = num("BENCH_LIVE_IDLE", 1000);
/**
 * Sockets of further users opened on top of the IDLE ones' second round once it was read: RSS per
 * further socket, a steadier reading than goal 4's first round (information beside it, not its verdict).
 */
const IDLE_MORE = IDLE > 0 ? num("BENCH_LIVE_IDLE_MORE", 6000) : 0;
const TPS = num("BENCH_LIVE_TPS", 50);
const SAT_TPS = (process.env.BENCH_LIVE_SAT_TPS ?? "50,100,200")
  .split(",")
  .map(Number)
  .filter((n) => Number.isInteger(n) && n > 0);
const SAT_COALESCE = num("BENCH_LIVE_SAT_COALESCE_MS", 0);
const TIMEOUT = num("BENCH_LIVE_TIMEOUT_MS", 120_000);
/**
 * `external` (default): the dev model in one process of its own, so A's CPU is the app's alone and
 * goal 2 is measured; `embedded`: each instance serves the dev model itself (as the README's start does).
 */
const DEV_MODEL = process.env.BENCH_LIVE_DEV_MODEL === "embedded" ? "embedded" : "external";
const MAIN = `main ${SESSIONS}×${WATCHERS}`;
/** Which baselines replay the app's runs (both by default; one alone makes a quicker run while developing). */
const BASELINES = new Set((process.env.BENCH_LIVE_BASELINES ?? "relay,socket.io").split(",").map((b) => b.trim()));
for (const b of BASELINES) if (b !== "relay" && b !== "socket.io") throw new Error(`BENCH_LIVE_BASELINES: unknown baseline ${b} (relay, socket.io)`);
/** How the bench's client speaks to Socket.IO: `wire` (default) or the `socket.io-client` library (see live/socketio.ts). */
const SIO_CLIENT: SocketIoClient = process.env.BENCH_LIVE_SIO_CLIENT === "socket.io-client" ? "socket.io-client" : "wire";
const ALL_PARTS = ["fanout", "storm", "late-joiner", "cluster"] as const;
type Part = (typeof ALL_PARTS)[number];
const PARTS = new Set((process.env.BENCH_LIVE_PARTS ?? ALL_PARTS.join(",")).split(",").map((p) => p.trim()));
for (const p of PARTS) if (!(ALL_PARTS as readonly string[]).includes(p)) throw new Error(`BENCH_LIVE_PARTS: unknown part ${p} (${ALL_PARTS.join(", ")})`);
const enabled = (p: Part) => PARTS.has(p);
const STORM = {
  rooms: Math.max(1, num("BENCH_LIVE_STORM_ROOMS", 1000)),
  watchers: num("BENCH_LIVE_STORM_WATCHERS", 4),
  streaming: num("BENCH_LIVE_STORM_STREAMING", 50),
  setups: num("BENCH_LIVE_STORM_SETUPS", 2000),
  tps: Math.max(1, num("BENCH_LIVE_STORM_TPS", 8)),
};
const LATE = { messages: Math.max(1, num("BENCH_LIVE_LATE_MESSAGES", 5000)), joiners: Math.max(1, num("BENCH_LIVE_LATE_JOINERS", 30)) };
const CLUSTER = {
  firstPort: num("BENCH_LIVE_CLUSTER_PORT", 7300),
  sessions: Math.max(1, num("BENCH_LIVE_CLUSTER_SESSIONS", SESSIONS)),
  failoverSessions: num("BENCH_LIVE_FAILOVER_SESSIONS", 20),
};
/**
 * The relay also replays each saturation run at the app's own pace (its events at the times the
 * app's watchers got them) — `1` (default) or `0`. How many frames share one socket write depends on
 * how many arrive together, so this separates B's own cost per frame from the publisher's pace.
 */
const SAT_AT_APP_PACE = process.env.BENCH_LIVE_SAT_APP_PACE !== "0";
/**
 * With the relay among the baselines, each saturation run's own bus messages are also replayed
 * unpaced onto its rooms by the relay's publisher loop, to new watchers on the same app instances
 * ("B fed unpaced", bench/live/fed.ts) — `1` (default) or `0`: goal 3's CPU aim with the app's B fed
 * as densely as the relay's.
 */
const SAT_FED = process.env.BENCH_LIVE_SAT_FED !== "0";
/** A directory: every API instance runs under `bun --cpu-prof` and writes its profile there on exit. */
const CPU_PROF_DIR = process.env.BENCH_LIVE_CPU_PROF_DIR || undefined;

const load = () =>
  loadavg()
    .map((n) => n.toFixed(2))
    .join(" ");
const log = (msg: string) => console.log(`[live] ${msg}`);
const FANOUT_BASE: FanoutOptions = { watchers: WATCHERS, timeoutMs: TIMEOUT, log };
/**
 * The second reader (bench/live/probe.ts) on every n-th room of the paced runs (warm-up and main,
 * where goal 3's latency is read); not in the saturation runs, whose B CPU per frame is a goal.
 */
const PROBE_EVERY = num("BENCH_LIVE_PROBE_EVERY", 5);

/** "socket.io 4.8.4, @socket.io/redis-adapter 8.3.0, …", as installed. */
function socketIoVersions(): string {
  const root = join(import.meta.dir, "..");
  return ["socket.io", "@socket.io/redis-adapter", "socket.io-client", "engine.io-client", "ioredis"]
    .map((pkg) => `${pkg} ${(JSON.parse(readFileSync(join(root, "node_modules", pkg, "package.json"), "utf8")) as { version: string }).version}`)
    .join(", ");
}

interface FanoutOutcome {
  idle: IdleResult[];
  runs: RunResult[];
  socketIo: string | undefined;
  children: Child[];
  windows: ProfileWindows;
}

/** The warm-up's students: the scene's last ones when there are enough, so the main run's are new to A. */
const warmupFrom = (scene: Scene): number => (scene.students.length - WARMUP >= SESSIONS ? scene.students.length - WARMUP : 0);

/** Goals 1–4: idle memory, warm-up, main and saturation runs, each replayed by the baselines. */
async function fanoutPart(ctx: PartContext, redisUrl: string, workDir: string, notes: string[]): Promise<FanoutOutcome> {
  const { scene } = ctx;
  const FANOUT: FanoutOptions = { ...FANOUT_BASE, tap: { redisUrl, stages: notes } };
  const PACED: FanoutOptions = { ...FANOUT, probeEvery: PROBE_EVERY };
  const idleUsers = scene.classes.flatMap((c) => [...c.teachers, ...c.students]);
  const idle: IdleResult[] = [];
  const runs: RunResult[] = [];
  const windows: ProfileWindows = {};
  const baselines: Baseline[] = [];
  if (BASELINES.has("relay")) baselines.push(await startRelay({ redisUrl, logDir: ctx.logDir }));
  let socketIo: string | undefined;
  if (BASELINES.has("socket.io")) {
    baselines.push(await startSocketIo({ redisUrl, logDir: ctx.logDir, workDir, client: SIO_CLIENT }));
    socketIo = `${socketIoVersions()} on node ${Bun.spawnSync(["node", "--version"]).stdout.toString().trim()}; client: ${SIO_CLIENT}`;
    log(`Socket.IO baseline: ${socketIo}`);
  }
  const appChildren: Child[] = [];
  const gatewayUrl = DEV_MODEL === "external" ? (await startDevModel({ tokensPerSecond: TPS, logDir: ctx.logDir })).url : undefined;
  const common = { gatewayUrl, databaseUrl: ctx.databaseUrl, redisUrl, dataDir: ctx.dataDir, logDir: ctx.logDir, cpuProfDir: ctx.cpuProfDir };
  let app = await startApp({ ...common, tag: "paced", env: { AI_DEV_TOKENS_PER_SECOND: String(TPS) } });
  appChildren.push(app.a.child, app.b.child);
  try {
    if (IDLE > 0) {
      idle.push(await measureIdle(app, idleUsers, IDLE, IDLE_MORE));
      for (const b of baselines) idle.push(await measureIdle(b, idleUsers, IDLE, IDLE_MORE));
      for (const i of idle) {
        const further = i.more > 0 ? `; ${i.rssAfterMoreKb} KB with ${i.more} more on top (${i.perFurtherConnectionKb.toFixed(2)} KB per further socket)` : "";
        const lanes = i.postgresConnections.some((n) => n > 0) ? `; Postgres connections at each reading ${i.postgresConnections.join(" → ")}` : "";
        log(
          `idle ${i.target}: RSS ${i.rssBeforeKb} → ${i.rssAfterKb} KB with ${i.connections} sockets (${i.perConnectionKb.toFixed(1)} KB each), ${i.rssAfterCloseKb} KB after closing them, ${i.rssAfterAgainKb} KB opened again (${i.perConnectionKbSecondRound.toFixed(1)} KB each)${further}${lanes}`,
        );
      }
    }
    if (WARMUP > 0) {
      const w = await appRun(app, scene, `warm-up ${WARMUP}×${WATCHERS}`, WARMUP, scene.toolId, PACED, warmupFrom(scene));
      runs.push(w.result, ...(await baselineRuns(baselines, w.result.scenario, w, true, PACED)));
    }
    const m = await appRun(app, scene, MAIN, SESSIONS, scene.toolId, PACED);
    runs.push(m.result, ...(await baselineRuns(baselines, MAIN, m, true, PACED)));
    if (m.result.latencySamples === 0) notes.push("The app delivered no message.delta to the watchers: see the errors of its run.");
    const mainWindow = { fromMs: m.fromMs, toMs: m.toMs, spans: [{ fromMs: m.result.cpuFromMs, toMs: m.result.cpuToMs }] };
    windows["turn-cpu"] = { instance: app.a.child.name, ...mainWindow };
    windows["p99-relay"] = { instance: app.b.child.name, ...mainWindow };
    windows["p99-socket.io"] = windows["p99-relay"];

    if (SAT_TPS.length > 0) {
      await app.stop();
      app = await startApp({ ...common, tag: "saturation", env: { AI_DEV_TOKENS_PER_SECOND: String(TPS), LIVE_COALESCE_MS: String(SAT_COALESCE) } });
      appChildren.push(app.a.child, app.b.child);
      // The restarted instances run a warm-up first, unmeasured, as the paced ones did: the relay's
      // processes live through the whole part, so without it only the app would pay for compiling
      // its hot paths (JSC's optimising tiers) inside the measured saturation runs.
      const warmTool = scene.toolsByRate.get(SAT_TPS[0] ?? 0);
      if (WARMUP > 0 && warmTool) await appRun(app, scene, `saturation warm-up ${WARMUP}×${WATCHERS}`, WARMUP, warmTool, FANOUT, warmupFrom(scene));
      const satFrom = Date.now();
      const spans: { fromMs: number; toMs: number }[] = [];
      const fedSpans: { fromMs: number; toMs: number }[] = [];
      const relay = baselines.filter((b) => b.kind === "relay");
      const fedBy = SAT_FED ? relay[0] : undefined;
      for (const rate of SAT_TPS) {
        const toolId = scene.toolsByRate.get(rate);
        if (!toolId) continue;
        const name = `saturation ${rate} tok/s`;
        const s = await appRun(app, scene, name, SESSIONS, toolId, FANOUT, 0, fedBy !== undefined);
        spans.push({ fromMs: s.result.cpuFromMs, toMs: s.result.cpuToMs });
        runs.push(s.result, ...(await baselineRuns(baselines, name, s, false, FANOUT)));
        if (SAT_AT_APP_PACE) runs.push(...(await baselineRuns(relay, `${AT_APP_PACE}${name}`, s, true, FANOUT)));
        if (fedBy) {
          // B's first dense feed compiles its hot path (its JIT thread took 10–100 ms in the first
          // fed run against 0–20 in the later ones): the same messages once more first, unmeasured,
          // as the instance's warm-up does for its turns.
          if (rate === SAT_TPS[0] && WARMUP > 0) await fedRun(app, fedBy, `${B_FED}warm-up, ${name}`, s, redisUrl, FANOUT);
          const fed = await fedRun(app, fedBy, `${B_FED}${name}`, s, redisUrl, FANOUT);
          fedSpans.push({ fromMs: fed.cpuFromMs, toMs: fed.cpuToMs });
          runs.push(fed);
        }
      }
      // The app's saturation runs as their CPU was counted: each from its start to its last frame.
      windows["frame-cpu"] = { instance: app.b.child.name, fromMs: satFrom, toMs: Date.now(), spans };
      windows.saturation = windows["frame-cpu"];
      if (fedSpans.length > 0) windows["frame-cpu-fed"] = { instance: app.b.child.name, fromMs: satFrom, toMs: Date.now(), spans: fedSpans };
    }
  } finally {
    await app.stop();
    for (const b of baselines) await b.stop();
  }
  return { idle, runs, socketIo, children: [...appChildren, ...baselines.flatMap((b) => [b.a.child, b.b.child])], windows };
}

async function main(): Promise<number> {
  const startedAt = new Date().toISOString();
  const started = performance.now();
  const loadBefore = load();
  const workDir = mkdtempSync(join(tmpdir(), "rapt-live-bench-"));
  const logDir = workDir;
  const dataDir = join(workDir, "data");
  let redis: RedisHandle | null = null;
  let db: BenchDatabase | null = null;
  const notes: string[] = [];
  let finished = false;
  try {
    redis = await ensureRedis(logDir);
    if (!redis) {
      console.log("SKIP live bench: no Redis (set BENCH_REDIS_URL, or install redis-server so one can be started on 6396)");
      return 0;
    }
    const created = await createBenchDatabase();
    if ("error" in created) {
      console.log(`SKIP live bench: ${created.error} (set BENCH_DATABASE_URL)`);
      return 0;
    }
    db = created;
    log(
      `load before: ${loadBefore} on ${cpus().length} CPUs (${cpus()[0]?.model ?? "unknown"}); parts: ${[...PARTS].join(", ")}; logs in ${logDir}; database ${db.name}; redis ${redis.url}`,
    );

    const keys = await loadOrCreateDevKeys(dataDir);
    // The idle sockets are one per user where the scene allows (as a class of students is), in a
    // fan-out-only run as much as in the whole one: a user's first socket costs more than their next.
    // The further sockets too: each is a user B holds no other socket for.
    const students = Math.max(
      1,
      enabled("fanout") ? Math.max(SESSIONS + WARMUP, IDLE + IDLE_MORE) : 1,
      enabled("storm") ? STORM.rooms : 1,
      enabled("cluster") ? Math.max(CLUSTER.sessions, CLUSTER.failoverSessions) : 1,
    );
    const scene = await seedScene({
      databaseUrl: db.url,
      keys,
      students,
      watchersPerSession: Math.max(WATCHERS, enabled("storm") ? STORM.watchers : 0),
      rates: [...new Set([...SAT_TPS, STORM.tps])],
    });
    log(`seeded ${scene.students.length} students in ${scene.classes.length} classes`);
    const ctx: PartContext = { databaseUrl: db.url, redisUrl: redis.url, dataDir, logDir, cpuProfDir: CPU_PROF_DIR, scene, log };
    const slowToolId = scene.toolsByRate.get(STORM.tps) ?? scene.toolId;
    const timings: Record<string, number> = {};
    const timed = async <T>(part: Part, fn: () => Promise<T>): Promise<T | undefined> => {
      if (!enabled(part)) return undefined;
      const t = performance.now();
      try {
        return await fn();
      } finally {
        timings[part] = Math.round((performance.now() - t) / 1000);
      }
    };

    const fanout = await timed("fanout", () => fanoutPart(ctx, redis?.url ?? "", workDir, notes));
    const storm = await timed("storm", () =>
      stormPart(ctx, {
        ...STORM,
        streaming: Math.min(STORM.rooms, STORM.streaming),
        toolId: slowToolId,
        setupConcurrency: 32,
        jitterMs: 1000,
        inflight: 256,
        timeoutMs: Math.min(TIMEOUT, 60_000),
      }),
    );
    const late = await timed("late-joiner", () => lateJoinerPart(ctx, { ...LATE, timeoutMs: TIMEOUT }));
    const cluster = await timed("cluster", () => clusterPart(ctx, { ...FANOUT_BASE, ...CLUSTER, tokensPerSecond: TPS, slowToolId }));

    for (const child of fanout?.children ?? []) {
      const counts = logLevels(child);
      if (Object.keys(counts).length > 0) notes.push(`${child.name} logged ${JSON.stringify(counts)}`);
    }
    if (fanout) {
      notes.push(
        `Same machine for everything (${cpus().length} CPUs): both API instances, both relays, both Socket.IO servers, Redis, Postgres and the one client process measuring all watchers; other work on the machine shows in the load averages.`,
        "`at` has millisecond resolution, so latencies are whole milliseconds and ratios of small p99s are coarse.",
        `Saturation: the app with LIVE_COALESCE_MS=${SAT_COALESCE} publishes as fast as it keeps up; each baseline publishes the same events (count, frame size) back to back, each room in order. Throughput includes the client's own limit; the client's CPU per run is in the tables (Socket.IO's client parses every frame, the others only scan it).`,
      );
    }
    const runs = fanout?.runs ?? [];
    // Goal 2 from the main run: A's CPU over its turns, only when the dev model runs in its own
    // process (else A's CPU includes the model's stream). bench/turn.bench.ts breaks a turn down.
    const mainApp = runs.find((r) => r.target === "app" && r.scenario === MAIN);
    const warmApp = runs.find((r) => r.target === "app" && r.scenario === `warm-up ${WARMUP}×${WATCHERS}`);
    const chatTurn =
      DEV_MODEL === "external" && mainApp && mainApp.sessions > 0
        ? {
            turns: mainApp.sessions,
            cpuMsPerTurn: mainApp.cpuMsA / mainApp.sessions,
            turnsPerSecond: mainApp.sessions / mainApp.seconds,
            jsThreadMsPerTurn: (mainApp.cpuMsAByThread["bun.exe"] ?? mainApp.cpuMsAByThread.bun ?? 0) / mainApp.sessions,
            jitMsPerTurn: (mainApp.cpuMsAByThread.JITWorker ?? 0) / mainApp.sessions,
            ...(warmApp && warmApp.sessions > 0 ? { coldTurns: warmApp.sessions, coldCpuMsPerTurn: warmApp.cpuMsA / warmApp.sessions } : {}),
          }
        : undefined;
    if (fanout && !chatTurn)
      notes.push(
        "Goal 2 (CPU per chat turn on A) is measured only with the dev model in its own process (BENCH_LIVE_DEV_MODEL=external, the default); see also bench/turn.bench.ts.",
      );
    if (cluster) runs.push(cluster.detail.run);
    const inputs: GoalInputs = {
      mainScenario: MAIN,
      idle: fanout?.idle ?? [],
      runs,
      socketIo: fanout?.socketIo,
      chatTurn,
      reconnectStorm: storm?.slot,
      lateJoiner: late?.slot,
      cluster: cluster?.slot,
    };
    const windows: ProfileWindows = { ...fanout?.windows, ...storm?.windows, ...late?.windows, ...cluster?.windows };
    const root = join(import.meta.dir, "..");
    const goals = attachProfiles(goalRows(inputs), windows, (w) => (CPU_PROF_DIR ? profileWindow(CPU_PROF_DIR, w, root) : null));
    const totalSeconds = Math.round((performance.now() - started) / 1000);
    const report: LiveReport = {
      ...inputs,
      startedAt,
      machine: { cpus: cpus().length, cpuModel: cpus()[0]?.model ?? "unknown", loadBefore, loadAfter: load(), bun: Bun.version },
      config: {
        parts: [...PARTS].join(","),
        sessions: SESSIONS,
        watchersPerSession: WATCHERS,
        warmupSessions: WARMUP,
        idleConnections: IDLE,
        idleMoreConnections: IDLE_MORE,
        devTokensPerSecond: TPS,
        devModel: DEV_MODEL,
        liveCoalesceMs: process.env.LIVE_COALESCE_MS ?? "default (40)",
        saturationTokensPerSecond: SAT_TPS.join(","),
        saturationCoalesceMs: SAT_COALESCE,
        saturationFed: SAT_FED ? 1 : 0,
        baselines: [...BASELINES].join(","),
        socketIoClient: SIO_CLIENT,
        storm: JSON.stringify(STORM),
        lateJoiner: JSON.stringify(LATE),
        cluster: JSON.stringify(CLUSTER),
        cpuProfDir: CPU_PROF_DIR ?? "",
        // What a run changed in the app instances (BENCH_LIVE_APP_ENV), so a before/after can be told apart from the file.
        appEnv: process.env.BENCH_LIVE_APP_ENV ?? "",
      },
      parts: { seconds: timings, totalSeconds, storm: storm?.detail, lateJoiner: late?.detail, cluster: cluster?.detail.failover ?? undefined },
      goals,
      notes,
    };
    console.log(`\nLive path (load ${loadBefore} → ${report.machine.loadAfter}, ${cpus().length} CPUs; ${totalSeconds} s: ${JSON.stringify(timings)})\n`);
    console.log(table(report, CPU_PROF_DIR !== undefined));
    const file = writeReport(report, join(import.meta.dir, "results"));
    console.log(`\nwritten ${file}`);
    finished = true;
    return 0;
  } finally {
    await stopAll();
    if (db) await db.drop().catch((err: Error) => console.error(`could not drop ${db?.name}: ${err.message}`));
    if (finished && !process.env.BENCH_KEEP_LOGS) rmSync(workDir, { recursive: true, force: true });
    else console.log(`[live] server logs kept in ${workDir}`);
  }
}

const hardLimit = setTimeout(
  () => {
    console.error("live bench: hard time limit reached, stopping");
    process.exit(1);
  },
  num("BENCH_LIVE_HARD_LIMIT_MS", 30 * 60_000),
);
try {
  const code = await main();
  clearTimeout(hardLimit);
  process.exit(code);
} catch (err) {
  console.error("live bench failed:", err);
  clearTimeout(hardLimit);
  await stopAll();
  process.exit(1);
}
