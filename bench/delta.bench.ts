/**
 * The per-delta path of the generating instance, alone: one Redis bus node (the app's
 * `createRedisBus`, publisher auto-pipelined) publishing `message.delta` events for many answers
 * at once, each on a coalescing window, and receiving them back on its own subscriber as the
 * instance does (the answer's runner listens for stop requests, the room feed takes every frame).
 * No database, no model, no sockets: the CPU here is the bus, ioredis and the listeners per delta.
 *
 * Compared, interleaved and repeated in one run:
 * - timers: `own` (each answer its own `setTimeout` per window, as the runner did), `grid` (each
 *   window ends on the instance's grid of BENCH_DELTA_GRID_MS, one timer per step, as the
 *   runner does: `flush-grid.ts`) or `shared` (one `FlushClock` for all answers: every answer with text
 *   flushes in the same callback);
 * - listener: `decode` (a signal listener: every frame parsed back into an event) or `peek` (a
 *   frame listener that reads the type with `isEventFrameOfType` and decodes only stop requests).
 *
 * Per run: process CPU per delta (`process.cpuUsage`, every thread), Redis commands per delta (from
 * `INFO commandstats`, so the Redis must be this bench's alone while it runs) and, with `perf`,
 * socket system calls per delta (sendto + recvfrom), the cost batching takes out.
 *
 *   BENCH_REDIS_URL=redis://127.0.0.1:6379 bun bench/delta.bench.ts
 * Knobs: BENCH_DELTA_ANSWERS=50 BENCH_DELTA_DELTAS=40 BENCH_DELTA_WINDOW_MS=40 BENCH_DELTA_REPEATS=3
 * BENCH_DELTA_GRID_MS=5 BENCH_DELTA_MODES=own/peek,grid/peek (the pairs to run; all five by default)
 */
import { mkdirSync, writeFileSync } from "node:fs";
import { cpus, loadavg } from "node:os";
import { join } from "node:path";
import { FlushGrid } from "../apps/api/src/services/live/flush-grid.ts";
import { FlushClock } from "./turn/flush-clock.ts";
import { type Bus, connectRedis, createRedisBus, decodeEventFrame, type RedisClient } from "../packages/bus/src/index.ts";
import { isEventFrameOfType } from "../packages/core/src/index.ts";
import { countSyscalls } from "./turn/syscalls.ts";

const url = process.env.BENCH_REDIS_URL ?? process.env.TEST_REDIS_URL;
const ANSWERS = Number(process.env.BENCH_DELTA_ANSWERS ?? 50);
const DELTAS = Number(process.env.BENCH_DELTA_DELTAS ?? 40);
const WINDOW_MS = Number(process.env.BENCH_DELTA_WINDOW_MS ?? 40);
const REPEATS = Number(process.env.BENCH_DELTA_REPEATS ?? 3);
const TEXT = "a few words of an answer, ";
const GRID_MS = Number(process.env.BENCH_DELTA_GRID_MS ?? 5);
// Only these `timers/listener` pairs (comma-separated, e.g. `own/peek`); all four by default.
const MODES = process.env.BENCH_DELTA_MODES ? process.env.BENCH_DELTA_MODES.split(",") : null;

type Timers = "own" | "grid" | "shared";
type Listener = "decode" | "peek";

interface Run {
  timers: Timers;
  listener: Listener;
  deltas: number;
  wallMs: number;
  cpuUsPerDelta: number;
  /** Of which system time (kernel: socket writes and reads, the loop's waits). */
  sysUsPerDelta: number;
  socketSyscallsPerDelta: number | null;
  redisCommandsPerDelta: number;
  scriptCallsPerDelta: number;
}

/**
 * What Redis has run so far (`INFO commandstats`): every command (those a script runs included;
 * the INFO calls themselves left out) and the script calls (`EVALSHA`/`EVAL`) among them.
 */
async function commandsRun(admin: RedisClient): Promise<{ all: number; scripts: number }> {
  const stats = await admin.info("commandstats");
  let all = 0;
  let scripts = 0;
  for (const [, name, n] of stats.matchAll(/cmdstat_([a-z|]+):calls=(\d+)/g)) {
    if (name === "info") continue;
    all += Number(n);
    if (name === "evalsha" || name === "eval") scripts += Number(n);
  }
  return { all, scripts };
}

/** Streams DELTAS deltas in each of ANSWERS rooms; resolves when every room heard its last one. */
async function run(bus: Bus, admin: RedisClient, timers: Timers, listener: Listener): Promise<Run> {
  const clock = new FlushClock(WINDOW_MS, (err) => console.error(err));
  const grid = new FlushGrid(WINDOW_MS, GRID_MS, (err) => console.error(err));
  const rooms = Array.from({ length: ANSWERS }, () => `session:${crypto.randomUUID()}`);
  let heard = 0;
  let stops = 0;
  const total = ANSWERS * DELTAS;
  let allHeard: () => void = () => {};
  const done = new Promise<void>((resolve) => {
    allHeard = resolve;
  });
  const onFrame = () => {
    if (++heard === total) allHeard();
  };
  const unsubs = await Promise.all(
    rooms.map(async (room) => {
      // The room feed: every frame, as it came.
      const feed = await bus.subscribeFrames(room, { frame: onFrame, resync: () => {} });
      // The answer's stop listener.
      const stop =
        listener === "decode"
          ? await bus.subscribe(room, (s) => {
              if (s.kind === "event" && s.event.type === "generation.stop-requested") stops++;
            })
          : await bus.subscribeFrames(room, {
              frame: (epoch, offset, frame) => {
                if (isEventFrameOfType(frame, "generation.stop-requested") && decodeEventFrame(room, epoch, offset, frame)) stops++;
              },
              resync: () => {},
            });
      return () => {
        feed();
        stop();
      };
    }),
  );
  const messageId = crypto.randomUUID();
  const syscalls = await countSyscalls(process.pid);
  const commands0 = await commandsRun(admin);
  const cpu0 = process.cpuUsage();
  const started = performance.now();
  for (const [i, room] of rooms.entries()) {
    let sent = 0;
    let chain = Promise.resolve();
    const flush = () => {
      const n = sent++;
      chain = chain.then(async () => {
        await bus.publish(room, { type: "message.delta", payload: { messageId, charOffset: n * TEXT.length, text: TEXT } });
      });
      if (sent < DELTAS) schedule();
    };
    const schedule = () => (timers === "shared" ? clock.request(flush) : timers === "grid" ? grid.request(flush) : setTimeout(flush, WINDOW_MS));
    // Answers start spread over one window, as turns arriving at different times do.
    setTimeout(schedule, (i * WINDOW_MS) / ANSWERS);
  }
  await done;
  const wallMs = performance.now() - started;
  const cpu = process.cpuUsage(cpu0);
  const commands1 = await commandsRun(admin);
  const sys = await syscalls.stop();
  for (const u of unsubs) u();
  if (stops !== 0) throw new Error("a stop request was heard where none was published");
  return {
    timers,
    listener,
    deltas: total,
    wallMs: Math.round(wallMs),
    cpuUsPerDelta: Number(((cpu.user + cpu.system) / total).toFixed(1)),
    sysUsPerDelta: Number((cpu.system / total).toFixed(1)),
    socketSyscallsPerDelta: sys ? Number(((sys.sendto + sys.recvfrom) / total).toFixed(2)) : null,
    redisCommandsPerDelta: Number(((commands1.all - commands0.all) / total).toFixed(3)),
    scriptCallsPerDelta: Number(((commands1.scripts - commands0.scripts) / total).toFixed(3)),
  };
}

async function main() {
  if (!url) {
    console.log("SKIP delta bench: set BENCH_REDIS_URL (or TEST_REDIS_URL)");
    return;
  }
  const bus = createRedisBus({ url, keyPrefix: `bench:delta:${crypto.randomUUID().slice(0, 8)}:`, roomTtlMs: 60_000 });
  await bus.ready();
  const admin = connectRedis(url, "commands", { connectionName: "bench-delta-admin" });
  const loadBefore = loadavg()
    .map((n) => n.toFixed(2))
    .join(" ");
  console.log(`[delta] ${ANSWERS} answers × ${DELTAS} deltas, window ${WINDOW_MS} ms, load ${loadBefore} on ${cpus().length} CPUs`);
  // Warm-up: JIT, scripts loaded.
  await run(bus, admin, "own", "decode");
  await run(bus, admin, "shared", "peek");
  const runs: Run[] = [];
  const modes: Array<[Timers, Listener]> = (
    [
      ["own", "decode"],
      ["own", "peek"],
      ["grid", "peek"],
      ["shared", "decode"],
      ["shared", "peek"],
    ] as Array<[Timers, Listener]>
  ).filter(([timers, listener]) => MODES === null || MODES.includes(`${timers}/${listener}`));
  for (let r = 0; r < REPEATS; r++) {
    for (const [timers, listener] of modes) {
      const result = await run(bus, admin, timers, listener);
      runs.push(result);
      console.log(
        `[delta] timers ${timers.padEnd(6)} listener ${listener.padEnd(6)}: ${result.cpuUsPerDelta} µs CPU/delta (system ${result.sysUsPerDelta}), ${result.socketSyscallsPerDelta ?? "–"} socket syscalls/delta, ${result.redisCommandsPerDelta} Redis commands/delta (${result.scriptCallsPerDelta} script calls), ${result.wallMs} ms`,
      );
    }
  }
  await bus.close();
  admin.disconnect();
  const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? Number.NaN;
  const summary = modes.map(([timers, listener]) => {
    const mine = runs.filter((x) => x.timers === timers && x.listener === listener);
    return {
      timers,
      listener,
      cpuUsPerDelta: median(mine.map((x) => x.cpuUsPerDelta)),
      sysUsPerDelta: median(mine.map((x) => x.sysUsPerDelta)),
      socketSyscallsPerDelta: median(mine.map((x) => x.socketSyscallsPerDelta ?? Number.NaN)),
      redisCommandsPerDelta: median(mine.map((x) => x.redisCommandsPerDelta)),
      scriptCallsPerDelta: median(mine.map((x) => x.scriptCallsPerDelta)),
    };
  });
  console.log("\nmedians:");
  for (const s of summary)
    console.log(
      `  timers ${s.timers.padEnd(6)} listener ${s.listener.padEnd(6)}: ${s.cpuUsPerDelta} µs CPU/delta (system ${s.sysUsPerDelta}), ${s.socketSyscallsPerDelta} socket syscalls/delta, ${s.redisCommandsPerDelta} Redis commands/delta (${s.scriptCallsPerDelta} script calls)`,
    );
  const report = {
    startedAt: new Date().toISOString(),
    machine: {
      cpus: cpus().length,
      loadBefore,
      loadAfter: loadavg()
        .map((n) => n.toFixed(2))
        .join(" "),
      bun: Bun.version,
    },
    config: { answers: ANSWERS, deltas: DELTAS, windowMs: WINDOW_MS, repeats: REPEATS },
    runs,
    summary,
  };
  const dir = join(import.meta.dir, "results");
  mkdirSync(dir, { recursive: true });
  const file = join(dir, `delta-${report.startedAt.replace(/[:.]/g, "-")}.json`);
  writeFileSync(file, `${JSON.stringify(report, null, 2)}\n`);
  console.log(`\nwritten ${file}`);
}

await main();
process.exit(0);
