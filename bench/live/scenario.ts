/**
 * The measured steps, identical for the app and the baselines: idle-connection memory, and a
 * streaming run — watchers on B subscribed to every room, students on A, then `fire()` makes the
 * events flow (app: students send `message.send`; relay and Socket.IO: A publishes a plan) until
 * every watcher has seen its room's `message.completed` or the time-out passes.
 */
import { readdirSync, readFileSync, readlinkSync } from "node:fs";
import { type LiveSocket, newRecorder, peakRate, percentile, pool, type Recorder, settleWithin } from "./clients.ts";
import type { PublishPlan } from "./frames.ts";
import { type LoopDelay, watchLoopDelay } from "./loop-delay.ts";
import { startProbe } from "./probe.ts";
import { cpuMs, rssKb, settledRssKb, threadCpu, threadDelta } from "./procs.ts";
import type { BenchUser } from "./scene.ts";
import type { Target, TargetKind } from "./targets.ts";
import { formatTrace, redisClientNames, traceSyscalls } from "../turn/syscall-trace.ts";

const CONNECT_CONCURRENCY = 24;
/** Window of the peak delivery rate. */
export const PEAK_WINDOW_MS = 500;

export interface IdleResult {
  target: TargetKind;
  connections: number;
  rssBeforeKb: number;
  rssAfterKb: number;
  /** After closing them again: what stays is heap growth/garbage rather than live connection state. */
  rssAfterCloseKb: number;
  perConnectionKb: number;
  /** The same count opened again after closing the first ones: the cost once the heap has grown. */
  perConnectionKbSecondRound: number;
  /** RSS with the second round's `connections` sockets open (the reading of `perConnectionKbSecondRound`). */
  rssAfterAgainKb: number;
  /**
   * Sockets of further users opened on top of the second round's once it was read (0: not
   * measured), and B's RSS read the same way, 2.5 s after them.
   */
  more: number;
  rssAfterMoreKb: number;
  /**
   * (RSS after the further sockets − RSS with the second round's) / `more`: the marginal cost of one
   * more idle socket of a new user on an instance that has served two bursts already — its one-off
   * growth (pool lanes, JIT code, the heap's first blocks) paid before, and a burst's leftover
   * garbage divided by more sockets. Information beside goal 4's figure (`perConnectionKb`), not its
   * verdict; the first two rounds are measured exactly as without it.
   */
  perFurtherConnectionKb: number;
  /**
   * B's connections to Postgres at each reading (before, with the first round, opened again, with
   * the further sockets; 0 for a baseline). A pool lane a burst opens is 200–430 KB of RSS: one KB
   * per socket in the first round's figure for every three or four lanes.
   */
  postgresConnections: number[];
}

/**
 * RSS of B before and after `count` idle (authenticated, for the app) sockets, per socket; after
 * closing them; the same users' sockets opened again; then `more` sockets of further users on top
 * of those, per further socket. The rounds' users are `users[0..count)`, the further ones
 * `users[count..count + more)`: each a user the instance has held no socket for (wrapping round
 * only when the scene is short of users).
 */
export async function measureIdle(target: Target, users: BenchUser[], count: number, more = 0): Promise<IdleResult> {
  const pid = target.b.child.proc.pid;
  const trace = process.env.BENCH_LIVE_IDLE_TRACE === "1" ? idleTrace(pid) : null;
  // Warm the code paths (ticket route, JWT check, upgrade, actor load) first so their one-off
  // allocations (JIT, pools) are not charged to the measured connections.
  const warm = await pool(
    Array.from({ length: Math.min(100, Math.ceil(count / 10)) }, (_, i) => users[i % users.length] ?? null),
    CONNECT_CONCURRENCY,
    (user) => target.idle(target.b, user),
  );
  for (const s of warm) s.close();
  trace?.mark("warm");
  const before = await settledRssKb(pid);
  const lanes = [postgresConnections(pid)];
  trace?.mark("before");
  const sockets = await pool(
    Array.from({ length: count }, (_, i) => users[i % users.length] ?? null),
    CONNECT_CONCURRENCY,
    (user) => target.idle(target.b, user),
  );
  trace?.mark("opened");
  const after = await settledRssKb(pid, 2500);
  lanes.push(postgresConnections(pid));
  trace?.mark("after");
  for (const s of sockets) s.close();
  const afterClose = await settledRssKb(pid, 2000);
  const again = await pool(
    Array.from({ length: count }, (_, i) => users[i % users.length] ?? null),
    CONNECT_CONCURRENCY,
    (user) => target.idle(target.b, user),
  );
  const afterAgain = await settledRssKb(pid, 2500);
  lanes.push(postgresConnections(pid));
  trace?.mark("again");
  const further = await pool(
    Array.from({ length: more }, (_, i) => users[(count + i) % users.length] ?? null),
    CONNECT_CONCURRENCY,
    (user) => target.idle(target.b, user),
  );
  const afterMore = more > 0 ? await settledRssKb(pid, 2500) : afterAgain;
  if (more > 0) {
    lanes.push(postgresConnections(pid));
    trace?.mark("more");
  }
  for (const s of [...again, ...further]) s.close();
  await Bun.sleep(1000);
  trace?.stop(target.kind);
  return {
    target: target.kind,
    connections: count,
    rssBeforeKb: before,
    rssAfterKb: after,
    rssAfterCloseKb: afterClose,
    perConnectionKb: (after - before) / count,
    perConnectionKbSecondRound: (afterAgain - afterClose) / count,
    rssAfterAgainKb: afterAgain,
    more,
    rssAfterMoreKb: afterMore,
    perFurtherConnectionKb: more > 0 ? (afterMore - afterAgain) / more : Number.NaN,
    postgresConnections: lanes,
  };
}

/**
 * BENCH_LIVE_IDLE_TRACE=1: B's RSS and CPU every 100 ms through the idle part, with its steps
 * marked, and at each mark B's open connections to Postgres (a pool lane a fresh process first
 * opens during the burst is a few hundred KB of RSS: bench/README.md).
 */
function idleTrace(pid: number) {
  const t0 = performance.now();
  const cpu0 = cpuMs(pid);
  const rows: string[] = [];
  const timer = setInterval(() => rows.push(`${Math.round(performance.now() - t0)}:${rssKb(pid)}:${cpuMs(pid) - cpu0}`), 100);
  return {
    mark: (name: string) => rows.push(`#${name}@${Math.round(performance.now() - t0)}(pg ${postgresConnections(pid)})`),
    stop(kind: string) {
      clearInterval(timer);
      console.log(`[live] idle trace ${kind} (ms:RSS KB:CPU ms): ${rows.join(" ")}`);
    },
  };
}

/** Established TCP connections of `pid` to port 5432 (its sockets' inodes in /proc/net/tcp{,6}). */
function postgresConnections(pid: number): number {
  try {
    const inodes = new Set<string>();
    for (const fd of readdirSync(`/proc/${pid}/fd`)) {
      try {
        const m = /^socket:\[(\d+)\]$/.exec(readlinkSync(`/proc/${pid}/fd/${fd}`));
        if (m?.[1]) inodes.add(m[1]);
      } catch {}
    }
    let n = 0;
    for (const file of ["/proc/net/tcp", "/proc/net/tcp6"]) {
      for (const line of readFileSync(file, "utf8").split("\n").slice(1)) {
        const f = line.trim().split(/\s+/);
        // remote address :1538 (5432), state 01 (established), inode in column 10
        if (f[2]?.endsWith(":1538") && f[3] === "01" && inodes.has(f[9] ?? "")) n += 1;
      }
    }
    return n;
  } catch {
    return -1;
  }
}

export interface RunResult {
  scenario: string;
  target: TargetKind;
  sessions: number;
  watchersPerSession: number;
  /** Event frames received by the watchers on B. */
  events: number;
  /** First to last event frame received, in seconds. */
  seconds: number;
  eventsPerSecond: number;
  /** Highest delivery rate over any PEAK_WINDOW_MS window. */
  peakEventsPerSecond: number;
  /** Fan-out latency of `message.delta` frames, ms (receive − `at`, millisecond `at`). */
  latencySamples: number;
  p50Ms: number;
  p99Ms: number;
  maxMs: number;
  /** CPU time used by instance A (students, publishing) and B (watchers) during the run, ms. */
  cpuMsA: number;
  cpuMsB: number;
  /** A's CPU during the run by thread name (`bun.exe` is the JavaScript thread, `JITWorker` the JIT's), ms. */
  cpuMsAByThread: Record<string, number>;
  /** B's CPU during the run by thread name, ms: how much of B's figure is its JavaScript thread (the frames' path) and how much the JIT, the collector and Bun's other threads. */
  cpuMsBByThread?: Record<string, number>;
  /**
   * CPU time of the bench's own client process (every watcher and student socket) during the run,
   * ms: next to the run's length it shows whether the client, not the server, set the pace.
   */
  cpuMsClient: number;
  /**
   * How late the client's loop ran its callbacks over the same span (bench/live/loop-delay.ts): a
   * watcher's frame is stamped when that loop gets to it, so this is the reader's own share of
   * the latency figures, at most.
   */
  clientLoopDelay?: LoopDelay;
  /**
   * The second reader's figures (bench/live/probe.ts): one extra watcher on every n-th room in a
   * process of its own. Its frames are not in `events` (B delivered them too: B's CPU per frame
   * reads high by their share, the same for every target).
   */
  probe?: ProbeFigures;
  /**
   * Epoch ms over which the CPU columns were measured: from just before the events were started
   * (every socket connected and subscribed) until the last watcher completed. Profiles of a run
   * are read over this span, so they show what the CPU figures count, not the setups around them.
   */
  cpuFromMs: number;
  cpuToMs: number;
  /** Watchers that never saw their room's `message.completed`. */
  incompleteWatchers: number;
  /** Watchers closed by the server (slow consumer…). */
  closedWatchers: number;
  /**
   * A baseline's (or "B fed unpaced"'s) publisher: messages it published and how long it took from
   * its first publish to its last reply, ms — how densely it fed Redis.
   */
  publisher?: { messages: number; ms: number };
  /** When the watchers checked every frame's offset (`StreamingSetup.checkOffsets`): gaps and duplicates seen. */
  offsetChecks?: { gaps: number; duplicates: number };
  errors: string[];
}

/** The probe's watchers: how many, their frames, their latency percentiles, their loop's delay. */
export interface ProbeFigures {
  sockets: number;
  events: number;
  incomplete: number;
  latencySamples: number;
  p50Ms: number;
  p99Ms: number;
  maxMs: number;
  loopDelay: LoopDelay;
}

export interface StreamingSetup {
  scenario: string;
  rooms: string[];
  /** Watcher users of room i (one socket each, on B). */
  watchersOf: (i: number) => (BenchUser | null)[];
  /** The student of room i (a socket on A subscribed to its room), or null for none. */
  studentOf: (i: number) => BenchUser | null;
  /** Starts the events; `students[i]` is room i's student socket (or null). */
  fire: (students: (LiveSocket | null)[]) => Promise<string[]>;
  timeoutMs: number;
  /** The watchers check each event frame's offset (the app's frames; see `Recorder.offsets`). */
  checkOffsets?: boolean;
  /** A second reader (bench/live/probe.ts) on every `every`-th room; `userOf(i)` its user in room i (app). */
  probe?: { every: number; userOf: (i: number) => BenchUser | null };
}

const SETTLE_MS = Number(process.env.BENCH_LIVE_SETTLE_MS ?? 0);
/** 1: A's read/write system calls over each app run, by connection (bench/turn/syscall-trace.ts), printed per turn. */
const SYSCALL_TRACE = process.env.BENCH_LIVE_SYSCALL_TRACE === "1";

/** Traces A's socket calls for an app run: Postgres and Redis by the bench's URLs, the students' sockets by A's port. */
async function traceA(target: Target) {
  if (!SYSCALL_TRACE || target.kind !== "app") return null;
  const portOf = (url: string | undefined) => (url ? Number(new URL(url).port || 0) : 0);
  const redisUrl = process.env.BENCH_REDIS_URL;
  return traceSyscalls(target.a.child.proc.pid, `/tmp/live-syscalls-${process.pid}.perf.data`, {
    remote: { [portOf(process.env.BENCH_DATABASE_URL) || 5432]: "postgres", [portOf(redisUrl)]: "redis (unnamed)" },
    local: { [portOf(target.a.baseUrl)]: "client sockets (students)" },
    redisNames: async () => {
      if (!redisUrl) return {};
      const client = new Bun.RedisClient(redisUrl);
      try {
        return redisClientNames(String(await client.send("CLIENT", ["LIST"])));
      } finally {
        client.close();
      }
    },
  });
}

/** One streaming run; returns its result and the recorder (its timelines feed the relay's plan). */
export async function runStreaming(target: Target, setup: StreamingSetup): Promise<{ result: RunResult; recorder: Recorder }> {
  const recorder = newRecorder(setup.checkOffsets === true);
  const pairs = setup.rooms.flatMap((room, i) => setup.watchersOf(i).map((user, k) => ({ room, user, first: k === 0 })));
  const sockets: LiveSocket[] = [];
  const errors: string[] = [];
  try {
    const watchers = await pool(pairs, CONNECT_CONCURRENCY, (p) => target.watch(target.b, p.user, p.room, recorder, p.first ? new Set([p.room]) : undefined));
    sockets.push(...watchers);
    const students = await pool(setup.rooms, CONNECT_CONCURRENCY, async (room, i) => {
      const user = setup.studentOf(i);
      if (!user && target.kind === "app") return null;
      const s = await target.watch(target.a, user, room, null);
      sockets.push(s);
      return s;
    });
    // A pause between the watchers' setups and the run (every target alike), so the run's CPU is
    // not also the setups' aftermath (their garbage collected, audit rows flushed): 0 by default.
    if (SETTLE_MS > 0) await Bun.sleep(SETTLE_MS);
    const probe = setup.probe ? await startProbe(target.kind, target.b, setup.rooms, setup.probe.every, setup.probe.userOf) : null;
    // Attached before the CPU figures start: perf's attach wait is not the run's.
    const trace = await traceA(target);
    const pidA = target.a.child.proc.pid;
    const pidB = target.b.child.proc.pid;
    const cpuBefore = [cpuMs(pidA), cpuMs(pidB)];
    const threadsBeforeA = threadCpu(pidA);
    const threadsBeforeB = threadCpu(pidB);
    const clientBefore = process.cpuUsage();
    const cpuFromMs = Date.now();
    const loopDelay = watchLoopDelay();
    errors.push(...(await setup.fire(students)));
    const waits = watchers.map((w, j) => w.completed(pairs[j]?.room ?? ""));
    await settleWithin(waits, setup.timeoutMs);
    const cpuA = cpuMs(pidA) - (cpuBefore[0] ?? 0);
    const threadsA = threadDelta(threadsBeforeA, threadCpu(pidA));
    const cpuB = cpuMs(pidB) - (cpuBefore[1] ?? 0);
    const threadsB = threadDelta(threadsBeforeB, threadCpu(pidB));
    const client = process.cpuUsage(clientBefore);
    const clientLoopDelay = loopDelay.stop();
    const cpuToMs = Date.now();
    // After the CPU window: the probe may still wait for its rooms' last frames.
    const probed = probe ? await probe.stop() : null;
    const traced = trace ? await trace.stop() : null;
    if (traced) console.log(`[live] ${setup.scenario}: A's read/write system calls per turn by connection\n${formatTrace(traced, setup.rooms.length).join("\n")}`);
    const incomplete = watchers.filter((w, j) => !w.done.has(pairs[j]?.room ?? "")).length;
    const closed = watchers.filter((w) => w.closed !== null).length;
    for (const w of watchers) for (const e of w.errors.slice(0, 3)) errors.push(JSON.stringify(e).slice(0, 300));
    const seconds = recorder.lastMs > recorder.firstMs ? (recorder.lastMs - recorder.firstMs) / 1000 : Number.NaN;
    return {
      recorder,
      result: {
        scenario: setup.scenario,
        target: target.kind,
        sessions: setup.rooms.length,
        watchersPerSession: setup.watchersOf(0).length,
        events: recorder.events,
        seconds,
        eventsPerSecond: recorder.events / seconds,
        peakEventsPerSecond: peakRate(recorder.times, PEAK_WINDOW_MS),
        latencySamples: recorder.latencies.length,
        p50Ms: percentile(recorder.latencies, 0.5),
        p99Ms: percentile(recorder.latencies, 0.99),
        maxMs: percentile(recorder.latencies, 1),
        cpuMsA: cpuA,
        cpuMsB: cpuB,
        cpuMsAByThread: Object.fromEntries(Object.entries(threadsA).map(([name, t]) => [name, t.user + t.system])),
        cpuMsBByThread: Object.fromEntries(Object.entries(threadsB).map(([name, t]) => [name, t.user + t.system])),
        cpuMsClient: Math.round((client.user + client.system) / 1000),
        clientLoopDelay,
        ...(probed
          ? {
              probe: {
                sockets: probed.sockets,
                events: probed.events,
                incomplete: probed.incomplete,
                latencySamples: probed.latencies.length,
                p50Ms: percentile(probed.latencies, 0.5),
                p99Ms: percentile(probed.latencies, 0.99),
                maxMs: percentile(probed.latencies, 1),
                loopDelay: probed.loopDelay,
              },
            }
          : {}),
        cpuFromMs,
        cpuToMs,
        incompleteWatchers: incomplete,
        closedWatchers: closed,
        ...(recorder.offsets ? { offsetChecks: { ...recorder.offsets } } : {}),
        errors: [...new Set(errors)].slice(0, 20),
      },
    };
  } finally {
    for (const s of sockets) s.close();
    await Bun.sleep(300);
  }
}

/**
 * A baseline's copy of an app run: for each app room, the same number of events of the same frame
 * sizes, published at the same offsets from the first event (paced) or back to back (unpaced).
 * The last event of each room is `message.completed` so the watchers know they are done.
 */
export function planFromTimelines(recorder: Recorder, appRooms: string[], baselineRooms: string[], paced: boolean): PublishPlan {
  const all = appRooms.flatMap((r) => recorder.timelines.get(r) ?? []);
  const t0 = Math.min(...all.map((e) => e.at));
  const rooms: PublishPlan["rooms"] = [];
  appRooms.forEach((appRoom, i) => {
    const events = [...(recorder.timelines.get(appRoom) ?? [])].sort((x, y) => x.at - y.at);
    const room = baselineRooms[i];
    if (events.length === 0 || !room) return;
    rooms.push({
      room,
      events: events.map((e, j) => ({
        delayMs: e.at - t0,
        // A baseline's frames carry a differently-sized room name; keep the total frame size.
        bytes: e.bytes,
        event: j === events.length - 1 ? "message.completed" : "message.delta",
      })),
    });
  });
  return { paced, rooms };
}
