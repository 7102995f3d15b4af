/**
 * The watching instance's fan-out alone: one API instance (B) with K watchers on each of N session
 * rooms, and the bare relay with as many, while this process publishes the same events — through
 * the app's own Redis bus (the publish script instance A runs) for the app, as plain PUBLISHes of
 * frames of the same size for the relay. No chat turns, no model, so B's CPU per delivered frame
 * and the fan-out latency are the socket layer's own, in the same run as the relay's.
 *
 * Two runs each: paced (`BENCH_FANOUT_RATE` events/s per room) and unpaced (each room's events
 * back to back). Needs Postgres and Redis like live.bench.ts (BENCH_DATABASE_URL, BENCH_REDIS_URL).
 *
 *   BENCH_REDIS_URL=redis://127.0.0.1:6379 bun bench/fanout.bench.ts
 * Knobs: BENCH_FANOUT_ROOMS=200 BENCH_FANOUT_WATCHERS=4 BENCH_FANOUT_EVENTS=40 BENCH_FANOUT_RATE=25
 */
import { mkdtempSync, rmSync } from "node:fs";
import { cpus, loadavg, tmpdir } from "node:os";
import { join } from "node:path";
import { loadOrCreateDevKeys } from "../apps/api/src/auth/dev-keys.ts";
import { connectRedis, createRedisBus } from "../packages/bus/src/index.ts";
import { type LiveSocket, newRecorder, percentile, pool, settleWithin } from "./live/clients.ts";
import { createBenchDatabase, ensureRedis } from "./live/infra.ts";
import { cpuMs, stopAll } from "./live/procs.ts";
import { seedScene } from "./live/scene.ts";
import { startApp, startRelay, type Target } from "./live/targets.ts";

const num = (name: string, fallback: number) => Number(process.env[name] ?? fallback);
const ROOMS = num("BENCH_FANOUT_ROOMS", 200);
const WATCHERS = num("BENCH_FANOUT_WATCHERS", 4);
const EVENTS = num("BENCH_FANOUT_EVENTS", 40);
const RATE = num("BENCH_FANOUT_RATE", 25);
const TEXT = " a word".repeat(12);

interface Result {
  target: string;
  run: string;
  frames: number;
  p50: number;
  p99: number;
  cpuB: number;
  usPerFrame: number;
}

async function run(
  target: Target,
  rooms: string[],
  watchersOf: (i: number) => Parameters<Target["watch"]>[1][],
  name: string,
  publish: (room: string, i: number, last: boolean) => Promise<void>,
  paced: boolean,
): Promise<Result> {
  const recorder = newRecorder();
  const pairs = rooms.flatMap((room, i) => watchersOf(i).map((user) => ({ room, user })));
  const sockets: LiveSocket[] = await pool(pairs, 24, (p) => target.watch(target.b, p.user, p.room, recorder));
  try {
    await Bun.sleep(500);
    const pid = target.b.child.proc.pid;
    const before = cpuMs(pid);
    const start = performance.now();
    await Promise.all(
      rooms.map(async (room) => {
        for (let i = 0; i < EVENTS; i++) {
          if (paced) {
            const wait = start + (i * 1000) / RATE - performance.now();
            if (wait > 0) await Bun.sleep(wait);
          }
          await publish(room, i, i === EVENTS - 1);
        }
      }),
    );
    await settleWithin(
      sockets.map((s, j) => s.completed(pairs[j]?.room ?? "")),
      60_000,
    );
    const cpuB = cpuMs(pid) - before;
    const result = {
      target: target.kind,
      run: name,
      frames: recorder.events,
      p50: percentile(recorder.latencies, 0.5),
      p99: percentile(recorder.latencies, 0.99),
      cpuB,
      usPerFrame: (cpuB * 1000) / recorder.events,
    };
    console.log(
      `[fanout] ${name} ${target.kind}: ${result.frames} frames, p50 ${result.p50} ms, p99 ${result.p99} ms, CPU B ${cpuB} ms (${result.usPerFrame.toFixed(1)} µs/frame)`,
    );
    return result;
  } finally {
    for (const s of sockets) s.close();
    await Bun.sleep(500);
  }
}

async function main() {
  const workDir = mkdtempSync(join(tmpdir(), "rapt-fanout-bench-"));
  const redis = await ensureRedis(workDir);
  if (!redis) return console.log("SKIP fanout bench: no Redis (set BENCH_REDIS_URL)");
  const db = await createBenchDatabase();
  if ("error" in db) return console.log(`SKIP fanout bench: ${db.error}`);
  const loadBefore = loadavg()
    .map((n) => n.toFixed(2))
    .join(" ");
  const results: Result[] = [];
  try {
    const keys = await loadOrCreateDevKeys(join(workDir, "data"));
    const scene = await seedScene({ databaseUrl: db.url, keys, students: ROOMS, watchersPerSession: WATCHERS, rates: [] });
    const app = await startApp({ tag: "fanout", databaseUrl: db.url, redisUrl: redis.url, dataDir: join(workDir, "data"), logDir: workDir, env: {} });
    const relay = await startRelay({ redisUrl: redis.url, logDir: workDir });
    const bus = createRedisBus({ url: redis.url, nodeId: "bench-publisher" });
    const raw = connectRedis(redis.url, "commands");
    await bus.ready();
    try {
      const sessions = await pool(scene.students.slice(0, ROOMS), 16, async (s) => {
        const res = await fetch(`${app.b.baseUrl}/api/sessions`, {
          method: "POST",
          headers: { authorization: `Bearer ${s.user.token}`, "content-type": "application/json" },
          body: JSON.stringify({ toolId: scene.toolId, classId: s.classId }),
        });
        if (res.status !== 201) throw new Error(`start session: ${res.status} ${await res.text()}`);
        return `session:${((await res.json()) as { session: { id: string } }).session.id}`;
      });
      const watchersOf = (i: number) => scene.students[i]?.teachers.slice(0, WATCHERS) ?? [];
      const appPublish = async (room: string, i: number, last: boolean) => {
        await bus.publish(
          room,
          last
            ? { type: "message.completed", payload: { i } }
            : { type: "message.delta", payload: { messageId: room.slice(8), charOffset: i * TEXT.length, text: TEXT } },
        );
      };
      const relayRooms = sessions.map(() => `session:${crypto.randomUUID()}`);
      const relayPublish = async (room: string, i: number, last: boolean) => {
        const frame = JSON.stringify({
          type: "event",
          room,
          epoch: "e",
          offset: i + 1,
          event: last ? "message.completed" : "message.delta",
          payload: { messageId: room.slice(8), charOffset: i * TEXT.length, text: TEXT },
          at: new Date().toISOString(),
        });
        await raw.publish(`bench:relay:${room}`, frame);
      };
      const nulls = () => Array.from({ length: WATCHERS }, () => null);
      for (const paced of [true, false]) {
        const name = paced ? `paced ${RATE}/s/room` : "unpaced";
        results.push(await run(app, sessions, watchersOf, name, appPublish, paced));
        results.push(await run(relay, relayRooms, nulls, name, relayPublish, paced));
        // Fresh rooms for the next run: the app's are numbered on, the relay's need none.
      }
    } finally {
      await bus.close();
      raw.disconnect();
      await app.stop();
      await relay.stop();
    }
    console.log(
      `\nFan-out on B, ${ROOMS} rooms × ${WATCHERS} watchers × ${EVENTS} events (load ${loadBefore} → ${loadavg()
        .map((n) => n.toFixed(2))
        .join(" ")}, ${cpus().length} CPUs)`,
    );
    for (const name of [...new Set(results.map((r) => r.run))]) {
      const a = results.find((r) => r.run === name && r.target === "app");
      const r = results.find((x) => x.run === name && x.target === "relay");
      if (!a || !r) continue;
      console.log(
        `${name}: p99 ${a.p99} vs ${r.p99} ms (${(a.p99 / Math.max(1, r.p99)).toFixed(2)}×), CPU/frame ${a.usPerFrame.toFixed(1)} vs ${r.usPerFrame.toFixed(1)} µs (${(a.usPerFrame / r.usPerFrame).toFixed(2)}×)`,
      );
    }
  } finally {
    await stopAll();
    await db.drop().catch(() => {});
    rmSync(workDir, { recursive: true, force: true });
  }
}

await main();
process.exit(0);
