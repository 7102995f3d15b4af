/**
 * Connection setup rate and the reconnect storm, over two running API instances (see
 * bench/storm.bench.ts for what each measures). Shared by the storm bench and the live bench's
 * one run; the callers start the instances and read the results.
 */
import { percentile, pool } from "../live/clients.ts";
import { createSessions } from "../live/fanout-runs.ts";
import { cpuMs } from "../live/procs.ts";
import type { Scene } from "../live/scene.ts";
import type { Target } from "../live/targets.ts";
import type { PgCounter } from "../turn/pg-counter.ts";
import { countSyscalls, type SyscallCounts } from "../turn/syscalls.ts";
import { StormClient, type StormTally } from "./client.ts";

export interface StormOptions {
  /** Teachers per room watching next to its student. */
  watchers: number;
  /** Rooms with an answer streaming (on B) while A is killed. */
  streaming: number;
  setups: number;
  setupConcurrency: number;
  /** Each client waits up to this long before reconnecting, as clients back off. */
  jitterMs: number;
  /** Handshakes in flight from the bench's one process. */
  inflight: number;
  timeoutMs: number;
}

export interface StormWatcher {
  token: string;
  room: string;
}

export interface StormRoom {
  room: string;
  sessionId: string;
  studentToken: string;
}

export interface SetupResult {
  setups: number;
  concurrency: number;
  seconds: number;
  /** Wall clock, with the client on the same machine. */
  perSecond: number;
  /** B's CPU per setup; 1000 / this is what one instance sustains per core. */
  cpuMsPerSetup: number;
  errors: number;
  /** Epoch ms of the measured window (for profiles). */
  fromMs: number;
  toMs: number;
  /** What the setups sent to Postgres and Redis, per setup, when `measureSetups` was given counters. */
  wire?: SetupWire;
  /** B's system calls per setup over the window (`perf stat`), when asked for and perf works. */
  syscallsPerSetup?: SyscallCounts;
}

/** Postgres through a counting proxy, Redis from `INFO commandstats` (both instances; A is idle). */
export interface WireCounters {
  pg: PgCounter;
  /** `INFO commandstats` of the Redis both instances use. */
  redisInfo(): Promise<string>;
  /** Count B's system calls over the window with `perf stat` (BENCH_STORM_SYSCALLS=1). */
  syscalls?: boolean;
}

export interface SetupWire {
  pgRoundTrips: number;
  pgStatements: number;
  pgWrites: number;
  /** The app's socket writes to Postgres, as the counting proxy read them. */
  pgPackets: number;
  /** The statements run at least once per hundred setups, most frequent first. */
  statements: { perSetup: number; text: string }[];
  /** Calls per setup by command (commands inside scripts count too), and Redis' read events ("(read events)", all clients). */
  redisByCommand: Record<string, number>;
}

function commandCalls(info: string): Map<string, number> {
  const out = new Map<string, number>();
  for (const m of info.matchAll(/^cmdstat_([^:]+):calls=(\d+)/gm)) out.set(m[1] ?? "", Number(m[2]));
  // Read events on Redis' client sockets (INFO stats): about the clients' socket writes, since
  // commands a client pipelined in one write are read in one event.
  const reads = /^total_reads_processed:(\d+)/m.exec(info);
  if (reads) out.set("(read events)", Number(reads[1]));
  return out;
}

function perSetup(pg: PgCounter, redisBefore: Map<string, number>, redisAfter: Map<string, number>, n: number): SetupWire {
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
  return {
    pgRoundTrips: round(counts.roundTrips),
    pgStatements: round(counts.statements),
    pgWrites: round(counts.writes),
    pgPackets: round(counts.packets),
    statements,
    redisByCommand,
  };
}

export interface StormResult {
  clients: number;
  streamingRooms: number;
  eventsBeforeKill: number;
  /** From the kill until the last client caught up; NaN when some never did. */
  allCaughtUpMs: number;
  p50Ms: number;
  p99Ms: number;
  caughtUp: number;
  failed: number;
  resets: number;
  duplicates: number;
  gaps: number;
  errors: number;
  firstErrors: string[];
  cpuMsB: number;
  fromMs: number;
  toMs: number;
}

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

/**
 * One session per student of `scene` (started over REST on B with `toolId`), watched by its student
 * and `watchers` teachers of its class.
 */
export async function stormScene(app: Target, scene: Scene, rooms: number, watchers: number, toolId: string): Promise<{ watchers: StormWatcher[]; rooms: StormRoom[] }> {
  const students = scene.students.slice(0, rooms);
  const sessions = await createSessions(app.b, students, toolId);
  const out: StormWatcher[] = [];
  const roomList: StormRoom[] = [];
  students.forEach((s, i) => {
    const sessionId = sessions[i] as string;
    const room = `session:${sessionId}`;
    roomList.push({ room, sessionId, studentToken: s.user.token });
    out.push({ token: s.user.token, room });
    for (const t of s.teachers.slice(0, watchers)) out.push({ token: t.token, room });
  });
  return { watchers: out, rooms: roomList };
}

/** `setups` × (ticket + upgrade + `hello` + subscribe by snapshot + close) against B. */
export async function measureSetups(app: Target, watchers: StormWatcher[], opts: StormOptions, counters?: WireCounters): Promise<SetupResult> {
  const pid = app.b.child.proc.pid;
  const tally = newTally();
  const once = async (w: StormWatcher) => {
    const c = new StormClient(w.token, w.room, tally);
    await c.connect(app.b.baseUrl, app.b.wsUrl, opts.timeoutMs);
    c.close();
  };
  // Warm-up: JIT, pools, prepared statements.
  await pool(watchers.slice(0, 100), opts.setupConcurrency, once);
  await Bun.sleep(500);
  const redisBefore = counters ? commandCalls(await counters.redisInfo()) : null;
  // Attached before the window opens (perf counts nothing while it attaches: 1.5 s more of idle
  // B before the window, so only on request).
  const syscalls = counters?.syscalls ? await countSyscalls(pid) : null;
  counters?.pg.reset();
  const cpuBefore = cpuMs(pid);
  const fromMs = Date.now();
  const started = performance.now();
  const items = Array.from({ length: opts.setups }, (_, i) => watchers[i % watchers.length] as StormWatcher);
  await pool(items, opts.setupConcurrency, once);
  const seconds = (performance.now() - started) / 1000;
  // Let the closes and any deferred writes land before reading the CPU.
  await Bun.sleep(1000);
  const cpu = cpuMs(pid) - cpuBefore;
  const sys = syscalls ? await syscalls.stop() : null;
  const wire = counters && redisBefore ? perSetup(counters.pg, redisBefore, commandCalls(await counters.redisInfo()), opts.setups) : undefined;
  const per = (x: number) => Number((x / opts.setups).toFixed(2));
  return {
    ...(wire ? { wire } : {}),
    ...(sys ? { syscallsPerSetup: { all: per(sys.all), sendto: per(sys.sendto), recvfrom: per(sys.recvfrom), write: per(sys.write), read: per(sys.read) } } : {}),
    setups: opts.setups,
    concurrency: opts.setupConcurrency,
    seconds,
    perSecond: opts.setups / seconds,
    cpuMsPerSetup: cpu / opts.setups,
    errors: tally.errors.length,
    fromMs,
    toMs: Date.now(),
  };
}

/**
 * Every watcher on A, answers streaming on B in `streamingRooms`, A killed with SIGKILL, every
 * client resuming on B from its last (epoch, offset). A client is caught up once it holds its
 * room's newest event as of the kill.
 */
export async function runStorm(app: Target, watchers: StormWatcher[], streamingRooms: StormRoom[], opts: StormOptions, log: (msg: string) => void): Promise<StormResult> {
  const tally = newTally();
  const clients = watchers.map((w) => new StormClient(w.token, w.room, tally));
  const connectStarted = performance.now();
  await pool(clients, 64, (c) => c.connect(app.a.baseUrl, app.a.wsUrl, opts.timeoutMs));
  log(`${clients.length} clients on A in ${((performance.now() - connectStarted) / 1000).toFixed(1)} s`);

  // One reference watcher per streaming room on B: its position at the kill is the room's head.
  const refTally = newTally();
  const refs = new Map<string, StormClient>();
  for (const r of streamingRooms) {
    const ref = new StormClient(r.studentToken, r.room, refTally);
    await ref.connect(app.b.baseUrl, app.b.wsUrl, opts.timeoutMs);
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

  const gate = limiter(opts.inflight);
  const times: number[] = [];
  let failed = 0;
  await Promise.all(
    clients.map(async (c) => {
      await Bun.sleep(Math.random() * opts.jitterMs);
      for (let attempt = 0; attempt < 5; attempt++) {
        try {
          await gate(() => c.connect(app.b.baseUrl, app.b.wsUrl, opts.timeoutMs));
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
  const toMs = Date.now();
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
    fromMs: killedAt,
    toMs,
  };
}

/** The setup line of a run, as both benches print it. */
export function describeSetup(setup: SetupResult): string {
  const w = setup.wire;
  const wire = w
    ? `\n  per setup: Postgres ${w.pgRoundTrips} round trips (${w.pgStatements} statements, ${w.pgWrites} writes, ${w.pgPackets} socket writes from the app); Redis ${JSON.stringify(w.redisByCommand)}${w.statements.map((st) => `\n    ${st.perSetup.toFixed(2)}× ${st.text}`).join("")}`
    : "";
  const sys = setup.syscallsPerSetup ? `\n  B's system calls per setup: ${JSON.stringify(setup.syscallsPerSetup)}` : "";
  return `setup: ${setup.setups} × (ticket + upgrade + subscribe by snapshot + close), ${setup.concurrency} at a time: ${setup.perSecond.toFixed(0)}/s wall, B ${setup.cpuMsPerSetup.toFixed(2)} ms CPU each (≈ ${(1000 / setup.cpuMsPerSetup).toFixed(0)}/s per core), errors ${setup.errors}${wire}${sys}`;
}

/** The storm line of a run, as both benches print it. */
export function describeStorm(result: StormResult): string {
  return `storm: ${result.caughtUp}/${result.clients} caught up, all by ${result.allCaughtUpMs} ms (p50 ${result.p50Ms} ms, p99 ${result.p99Ms} ms); resets ${result.resets}, duplicates ${result.duplicates}, gaps ${result.gaps}, failed ${result.failed}, errors ${result.errors}${result.firstErrors.length ? ` (${result.firstErrors.join("; ")})` : ""}; B CPU ${result.cpuMsB} ms`;
}
