/**
 * Live fan-out: N streaming sessions × K watchers over two API instances with real Redis,
 * Postgres and the built-in dev model, against two baselines doing the same fan-out with no app
 * logic, in the same run: a bare Bun + Redis relay, and Socket.IO 4.8 on Node with its Redis
 * adapter. Students are on instance A, watchers (teachers) on B.
 *
 * Reported per scenario: event frames delivered to the watchers, events/s (first to last frame),
 * fan-out latency p50/p99 of `message.delta` frames (received on B − `at` stamped by the publisher
 * on A; one machine, one clock), CPU of A, B and the client, and RSS per idle connection on B;
 * each figure as app/relay and app/Socket.IO; then the issue's seven aims, met or missed.
 *
 * Scenarios: idle sockets (RSS of B before/after, and after closing them); warm-up; main (paced:
 * AI_DEV_TOKENS_PER_SECOND, default coalescing); saturation (servers restarted with
 * LIVE_COALESCE_MS=BENCH_LIVE_SAT_COALESCE_MS and the dev model at each BENCH_LIVE_SAT_TPS rate
 * through `dev-tutor@<n>tps`, so the app publishes as fast as it keeps up). Each baseline replays each
 * app run: as many rooms, the same event counts and frame sizes, paced at the app's timing — or,
 * for saturation, back to back. Saturation compares the best peak rate over any 500 ms window
 * (a whole-run average would be diluted by the app's turns starting one by one).
 *
 * Needs Postgres (BENCH_DATABASE_URL, default postgres://rapt:rapt@127.0.0.1:5432/rapt; a fresh
 * database per run, dropped after) and Redis (BENCH_REDIS_URL, else one is started on 6396);
 * skipped with a message when either is missing. The Socket.IO baseline runs on the `node` on PATH
 * (BENCH_LIVE_BASELINES=relay leaves it out). Loopback only; every process is killed at the end.
 *
 *   bun bench/live.bench.ts            (or `bun run bench`)
 * Knobs: BENCH_LIVE_SESSIONS=200 BENCH_LIVE_WATCHERS=4 BENCH_LIVE_WARMUP_SESSIONS=20
 *        BENCH_LIVE_IDLE=1000 BENCH_LIVE_TPS=50 BENCH_LIVE_SAT_TPS=50,100,200
 *        BENCH_LIVE_SAT_COALESCE_MS=0 BENCH_LIVE_TIMEOUT_MS=120000 BENCH_LIVE_BASELINES=relay,socket.io
 *        BENCH_LIVE_SIO_CLIENT=wire|socket.io-client
 *        BENCH_LIVE_DEV_MODEL=external  (the dev model in its own process instead of inside each
 *        instance, so the instances' CPU is the app's own, as behind a remote gateway)
 */
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { cpus, loadavg, tmpdir } from "node:os";
import { join } from "node:path";
import { loadOrCreateDevKeys } from "../apps/api/src/auth/dev-keys.ts";
import { type LiveSocket, percentile, pool } from "./live/clients.ts";
import { type GoalInputs, goalRows } from "./live/goals.ts";
import { type BenchDatabase, createBenchDatabase, ensureRedis, type RedisHandle } from "./live/infra.ts";
import { type Child, logLevels, stopAll } from "./live/procs.ts";
import { type LiveReport, table, writeReport } from "./live/report.ts";
import { type IdleResult, measureIdle, planFromTimelines, type RunResult, runStreaming } from "./live/scenario.ts";
import { type Scene, seedScene } from "./live/scene.ts";
import { type SocketIoClient, startSocketIo } from "./live/socketio.ts";
import { tapRoomChannels } from "./live/tap.ts";
import { type Baseline, startApp, startDevModel, startRelay, type Target } from "./live/targets.ts";

const num = (name: string, fallback: number) => {
  const v = Number(process.env[name] ?? fallback);
  if (!Number.isFinite(v) || v < 0) throw new Error(`${name} must be a non-negative number`);
  return v;
};
const SESSIONS = num("BENCH_LIVE_SESSIONS", 200);
const WATCHERS = Math.max(1, num("BENCH_LIVE_WATCHERS", 4));
const WARMUP = num("BENCH_LIVE_WARMUP_SESSIONS", 20);
const IDLE = num("BENCH_LIVE_IDLE", 1000);
const TPS = num("BENCH_LIVE_TPS", 50);
const SAT_TPS = (process.env.BENCH_LIVE_SAT_TPS ?? "50,100,200")
  .split(",")
  .map(Number)
  .filter((n) => Number.isInteger(n) && n > 0);
const SAT_COALESCE = num("BENCH_LIVE_SAT_COALESCE_MS", 0);
const TIMEOUT = num("BENCH_LIVE_TIMEOUT_MS", 120_000);
/** `embedded` (default): each instance serves the dev model itself; `external`: one separate process. */
const DEV_MODEL = process.env.BENCH_LIVE_DEV_MODEL === "external" ? "external" : "embedded";
/** A directory: both app instances run under `bun --cpu-prof` and write their profiles there on exit. */
const CPU_PROF_DIR = process.env.BENCH_LIVE_CPU_PROF_DIR;
const bunArgs = CPU_PROF_DIR ? ["--cpu-prof", "--cpu-prof-md", `--cpu-prof-dir=${CPU_PROF_DIR}`] : [];
const MAIN = `main ${SESSIONS}×${WATCHERS}`;
/** Which baselines replay the app's runs (both by default; one alone makes a quicker run while developing). */
const BASELINES = new Set((process.env.BENCH_LIVE_BASELINES ?? "relay,socket.io").split(",").map((b) => b.trim()));
for (const b of BASELINES) if (b !== "relay" && b !== "socket.io") throw new Error(`BENCH_LIVE_BASELINES: unknown baseline ${b} (relay, socket.io)`);
/** How the bench's client speaks to Socket.IO: `wire` (default) or the `socket.io-client` library (see live/socketio.ts). */
const SIO_CLIENT: SocketIoClient = process.env.BENCH_LIVE_SIO_CLIENT === "socket.io-client" ? "socket.io-client" : "wire";

const load = () =>
  loadavg()
    .map((n) => n.toFixed(2))
    .join(" ");
const log = (msg: string) => console.log(`[live] ${msg}`);

/** Creates `n` sessions (REST on A) for the first `n` students with `toolId`. */
async function createSessions(app: Target, scene: Scene, n: number, toolId: string): Promise<string[]> {
  return pool(scene.students.slice(0, n), 16, async (s) => {
    const res = await fetch(`${app.a.baseUrl}/api/sessions`, {
      method: "POST",
      headers: { authorization: `Bearer ${s.user.token}`, "content-type": "application/json" },
      body: JSON.stringify({ toolId, classId: s.classId }),
    });
    if (res.status !== 201) throw new Error(`start session: ${res.status} ${await res.text()}`);
    return ((await res.json()) as { session: { id: string } }).session.id;
  });
}

/** Each app run's latency by stage (see bench/live/tap.ts), for the notes. */
const stages: string[] = [];
let tapUrl: string | null = null;

/** An app run: sessions on A, K teachers of the class watching each on B, one message per student. */
async function appRun(app: Target, scene: Scene, scenario: string, n: number, toolId: string) {
  const sessionIds = await createSessions(app, scene, n, toolId);
  const rooms = sessionIds.map((id) => `session:${id}`);
  const tap = tapUrl ? await tapRoomChannels(tapUrl) : null;
  const run = await runStreaming(app, {
    scenario,
    rooms,
    watchersOf: (i) => scene.students[i]?.teachers.slice(0, WATCHERS) ?? [],
    studentOf: (i) => scene.students[i]?.user ?? null,
    timeoutMs: TIMEOUT,
    async fire(students: (LiveSocket | null)[]) {
      const acks = await Promise.all(
        students.map((s, i) =>
          s
            ? s
                .request(
                  { type: "message.send", sessionId: sessionIds[i], clientMessageId: `bench-${i}`, content: `How do fractions work? Question ${i} of ${scenario}.` },
                  TIMEOUT,
                )
                .catch((err: Error) => ({ type: "error", message: err.message }))
            : { type: "error", message: "no student socket" },
        ),
      );
      return acks.filter((a) => a.type !== "ack").map((a) => `message.send: ${JSON.stringify(a).slice(0, 300)}`);
    },
  });
  await tap?.stop();
  if (tap) {
    const r = run.result;
    const line = `${scenario}, app, message.delta latency by stage: \`at\` (A, before its publish script) → Redis hands it to a bare subscriber p50 ${percentile(tap.latencies, 0.5)} / p99 ${percentile(tap.latencies, 0.99)} ms; → a watcher on B p50 ${r.p50Ms} / p99 ${r.p99Ms} ms`;
    stages.push(line);
    log(line);
  }
  log(
    `${scenario} app: ${run.result.events} events, ${run.result.eventsPerSecond.toFixed(0)}/s (peak ${run.result.peakEventsPerSecond.toFixed(0)}/s), p50 ${run.result.p50Ms} ms, p99 ${run.result.p99Ms} ms, CPU A ${run.result.cpuMsA} ms B ${run.result.cpuMsB} ms client ${run.result.cpuMsClient} ms${run.result.errors.length ? `, errors: ${run.result.errors[0]}` : ""}`,
  );
  return { ...run, rooms };
}

/** A baseline's replay of an app run (same rooms count, events, sizes; paced or not). */
async function baselineRun(baseline: Baseline, scenario: string, app: Awaited<ReturnType<typeof appRun>>, paced: boolean) {
  const baselineRooms = app.rooms.map(() => `session:${crypto.randomUUID()}`);
  const plan = planFromTimelines(app.recorder, app.rooms, baselineRooms, paced);
  const planned = new Set(plan.rooms.map((r) => r.room));
  const rooms = baselineRooms.filter((r) => planned.has(r));
  const run = await runStreaming(baseline, {
    scenario,
    rooms,
    watchersOf: () => Array.from({ length: WATCHERS }, () => null),
    studentOf: () => null,
    timeoutMs: TIMEOUT,
    async fire() {
      const r = await baseline.publish(plan);
      return r.published === plan.rooms.reduce((a, x) => a + x.events.length, 0) ? [] : [`published ${r.published}`];
    },
  });
  log(
    `${scenario} ${baseline.kind}: ${run.result.events} events, ${run.result.eventsPerSecond.toFixed(0)}/s (peak ${run.result.peakEventsPerSecond.toFixed(0)}/s), p50 ${run.result.p50Ms} ms, p99 ${run.result.p99Ms} ms, CPU A ${run.result.cpuMsA} ms B ${run.result.cpuMsB} ms client ${run.result.cpuMsClient} ms`,
  );
  return run.result;
}

/** Each baseline replays the app run, one after the other. */
async function baselineRuns(baselines: Baseline[], scenario: string, app: Awaited<ReturnType<typeof appRun>>, paced: boolean): Promise<RunResult[]> {
  const out: RunResult[] = [];
  for (const b of baselines) out.push(await baselineRun(b, scenario, app, paced));
  return out;
}

/** "socket.io 4.8.4, @socket.io/redis-adapter 8.3.0, …", as installed. */
function socketIoVersions(): string {
  const root = join(import.meta.dir, "..");
  return ["socket.io", "@socket.io/redis-adapter", "socket.io-client", "engine.io-client", "ioredis"]
    .map((pkg) => `${pkg} ${(JSON.parse(readFileSync(join(root, "node_modules", pkg, "package.json"), "utf8")) as { version: string }).version}`)
    .join(", ");
}

async function main(): Promise<number> {
  const startedAt = new Date().toISOString();
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
    tapUrl = redis.url;
    const created = await createBenchDatabase();
    if ("error" in created) {
      console.log(`SKIP live bench: ${created.error} (set BENCH_DATABASE_URL)`);
      return 0;
    }
    db = created;
    log(`load before: ${loadBefore} on ${cpus().length} CPUs; logs in ${logDir}; database ${db.name}; redis ${redis.url}`);

    const keys = await loadOrCreateDevKeys(dataDir);
    const students = Math.max(SESSIONS, WARMUP);
    const scene = await seedScene({ databaseUrl: db.url, keys, students, watchersPerSession: WATCHERS, rates: SAT_TPS });
    log(`seeded ${scene.students.length} students in ${scene.classes.length} classes, ${WATCHERS} teachers each`);

    const idleUsers = scene.classes.flatMap((c) => [...c.teachers, ...c.students]);
    const idle: IdleResult[] = [];
    const runs: RunResult[] = [];
    const baselines: Baseline[] = [];
    if (BASELINES.has("relay")) baselines.push(await startRelay({ redisUrl: redis.url, logDir }));
    let socketIo: string | undefined;
    if (BASELINES.has("socket.io")) {
      baselines.push(await startSocketIo({ redisUrl: redis.url, logDir, workDir, client: SIO_CLIENT }));
      socketIo = `${socketIoVersions()} on node ${Bun.spawnSync(["node", "--version"]).stdout.toString().trim()}; client: ${SIO_CLIENT}`;
      log(`Socket.IO baseline: ${socketIo}`);
    }
    const appChildren: Child[] = [];
    const gatewayUrl = DEV_MODEL === "external" ? (await startDevModel({ tokensPerSecond: TPS, logDir })).url : undefined;
    let app = await startApp({
      tag: "paced",
      gatewayUrl,
      databaseUrl: db.url,
      redisUrl: redis.url,
      dataDir,
      logDir,
      bunArgs,
      env: { AI_DEV_TOKENS_PER_SECOND: String(TPS) },
    });
    appChildren.push(app.a.child, app.b.child);
    try {
      if (IDLE > 0) {
        idle.push(await measureIdle(app, idleUsers, IDLE));
        for (const b of baselines) idle.push(await measureIdle(b, idleUsers, IDLE));
        for (const i of idle) {
          log(
            `idle ${i.target}: RSS ${i.rssBeforeKb} → ${i.rssAfterKb} KB with ${i.connections} sockets (${i.perConnectionKb.toFixed(1)} KB each), ${i.rssAfterCloseKb} KB after closing them, ${i.perConnectionKbSecondRound.toFixed(1)} KB each when opened again`,
          );
        }
      }
      if (WARMUP > 0) {
        const w = await appRun(app, scene, `warm-up ${WARMUP}×${WATCHERS}`, WARMUP, scene.toolId);
        runs.push(w.result, ...(await baselineRuns(baselines, w.result.scenario, w, true)));
      }
      const m = await appRun(app, scene, MAIN, SESSIONS, scene.toolId);
      runs.push(m.result, ...(await baselineRuns(baselines, MAIN, m, true)));
      if (m.result.latencySamples === 0) notes.push("The app delivered no message.delta to the watchers: see the errors of its run.");

      if (SAT_TPS.length > 0) {
        await app.stop();
        app = await startApp({
          tag: "saturation",
          gatewayUrl,
          bunArgs,
          databaseUrl: db.url,
          redisUrl: redis.url,
          dataDir,
          logDir,
          env: { AI_DEV_TOKENS_PER_SECOND: String(TPS), LIVE_COALESCE_MS: String(SAT_COALESCE) },
        });
        appChildren.push(app.a.child, app.b.child);
        for (const rate of SAT_TPS) {
          const toolId = scene.toolsByRate.get(rate);
          if (!toolId) continue;
          const name = `saturation ${rate} tok/s`;
          const s = await appRun(app, scene, name, SESSIONS, toolId);
          runs.push(s.result, ...(await baselineRuns(baselines, name, s, false)));
        }
      }
    } finally {
      await app.stop();
      for (const b of baselines) await b.stop();
    }
    for (const child of [...appChildren, ...baselines.flatMap((b) => [b.a.child, b.b.child])]) {
      const counts = logLevels(child);
      if (Object.keys(counts).length > 0) notes.push(`${child.name} logged ${JSON.stringify(counts)}`);
    }

    notes.push(...stages);
    notes.push(
      `Same machine for everything (${cpus().length} CPUs): both API instances, both relays, both Socket.IO servers, Redis, Postgres and the one client process measuring all watchers; other work on the machine shows in the load averages.`,
      "`at` has millisecond resolution, so latencies are whole milliseconds and ratios of small p99s are coarse.",
      `Saturation: the app with LIVE_COALESCE_MS=${SAT_COALESCE} publishes as fast as it keeps up; each baseline publishes the same events (count, frame size) back to back, each room in order. Throughput includes the client's own limit; the client's CPU per run is in the tables (Socket.IO's client parses every frame, the others only scan it).`,
    );
    // Goal 2 from the main run: A's CPU over its turns, only when the dev model runs in its own
    // process (else A's CPU includes the model's stream). bench/turn.bench.ts breaks a turn down.
    const mainApp = runs.find((r) => r.target === "app" && r.scenario === MAIN);
    const chatTurn =
      DEV_MODEL === "external" && mainApp && mainApp.sessions > 0
        ? { turns: mainApp.sessions, cpuMsPerTurn: mainApp.cpuMsA / mainApp.sessions, turnsPerSecond: mainApp.sessions / mainApp.seconds }
        : undefined;
    if (!chatTurn) notes.push("Goal 2 (CPU per chat turn on A) is measured only with BENCH_LIVE_DEV_MODEL=external; see also bench/turn.bench.ts.");
    const inputs: GoalInputs = { mainScenario: MAIN, idle, runs, socketIo, chatTurn };
    const report: LiveReport = {
      ...inputs,
      startedAt,
      machine: { cpus: cpus().length, loadBefore, loadAfter: load(), bun: Bun.version },
      config: {
        sessions: SESSIONS,
        watchersPerSession: WATCHERS,
        warmupSessions: WARMUP,
        idleConnections: IDLE,
        devTokensPerSecond: TPS,
        devModel: DEV_MODEL,
        liveCoalesceMs: process.env.LIVE_COALESCE_MS ?? "default (40)",
        saturationTokensPerSecond: SAT_TPS.join(","),
        saturationCoalesceMs: SAT_COALESCE,
        baselines: [...BASELINES].join(","),
        socketIoClient: SIO_CLIENT,
      },
      goals: goalRows(inputs),
      notes,
    };
    console.log(`\nLive fan-out (load ${loadBefore} → ${report.machine.loadAfter}, ${cpus().length} CPUs)\n`);
    console.log(table(report));
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
