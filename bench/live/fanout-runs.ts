/**
 * The fan-out runs of the live bench: an app run (sessions on A, teachers watching on B, one
 * `message.send` per student) and each baseline's replay of it. Used for the single-Redis
 * scenarios and again on the Redis Cluster.
 */
import { describeLoopDelay } from "./loop-delay.ts";
import { type LiveSocket, percentile, pool, type Recorder } from "./clients.ts";
import { planFromTimelines, type RunResult, runStreaming } from "./scenario.ts";
import type { Scene } from "./scene.ts";
import { tapRoomChannels } from "./tap.ts";
import type { Baseline, Instance, Target } from "./targets.ts";

export interface FanoutOptions {
  watchers: number;
  timeoutMs: number;
  log: (msg: string) => void;
  /**
   * A single Redis's URL: each app run also times its deltas at a bare subscriber on the room
   * channels (bench/live/tap.ts) and adds the split by stage to `stages`. Not on a cluster
   * (sharded channels are not pattern-subscribable).
   */
  tap?: { redisUrl: string; stages: string[] };
  /** A second reader on every n-th room of each app and baseline run (bench/live/probe.ts); 0 or absent: none. */
  probeEvery?: number;
}

export interface AppRun {
  result: RunResult;
  recorder: Recorder;
  rooms: string[];
  /** Room i's student (its session's), whose class's teachers watched it. */
  students: Scene["students"];
  /** With `capture`: the room channels' messages as A published them (bench/live/tap.ts), else empty. */
  captured: Map<string, string[]>;
  /** Epoch ms of the run (for profiles). */
  fromMs: number;
  toMs: number;
}

/** Starts one session per student (REST on `on`) with `toolId`; returns their ids in order. */
export async function createSessions(on: Instance, students: Scene["students"], toolId: string): Promise<string[]> {
  return pool(students, 16, async (s) => {
    const res = await fetch(`${on.baseUrl}/api/sessions`, {
      method: "POST",
      headers: { authorization: `Bearer ${s.user.token}`, "content-type": "application/json" },
      body: JSON.stringify({ toolId, classId: s.classId }),
    });
    if (res.status !== 201) throw new Error(`start session: ${res.status} ${await res.text()}`);
    return ((await res.json()) as { session: { id: string } }).session.id;
  });
}

/** B's busiest threads, e.g. ` (bun.exe 150, JITWorker 30, HeapHelper 10)`. */
const bThreads = (r: RunResult) => {
  const top = Object.entries(r.cpuMsBByThread ?? {})
    .sort((a, b) => b[1] - a[1])
    .slice(0, 3);
  return top.length > 0 ? ` (${top.map(([name, ms]) => `${name} ${ms}`).join(", ")})` : "";
};

/** "; probe (20 sockets, own process): p50 3 / p99 9 ms, its loop delay p99 0.4 ms". */
export const describeProbe = (r: RunResult) =>
  r.probe
    ? `; probe (${r.probe.sockets} sockets, own process): p50 ${r.probe.p50Ms} / p99 ${r.probe.p99Ms} ms over ${r.probe.latencySamples} deltas${r.probe.incomplete ? `, ${r.probe.incomplete} incomplete` : ""}, its loop delay p99 ${r.probe.loopDelay.p99Ms} / max ${r.probe.loopDelay.maxMs} ms`
    : "";

export const describe = (target: string, r: RunResult) =>
  `${r.scenario} ${target}: ${r.events} events, ${r.eventsPerSecond.toFixed(0)}/s (peak ${r.peakEventsPerSecond.toFixed(0)}/s), p50 ${r.p50Ms} ms, p99 ${r.p99Ms} ms, CPU A ${r.cpuMsA} ms B ${r.cpuMsB} ms${bThreads(r)} client ${r.cpuMsClient} ms${r.clientLoopDelay ? `, ${describeLoopDelay(r.clientLoopDelay)}` : ""}${describeProbe(r)}`;

/** ", published in 120 ms (35,000 messages/s)": how densely a run's publisher fed Redis. */
export const publishedIn = (r: RunResult) =>
  r.publisher ? `, published in ${r.publisher.ms} ms (${Math.round((r.publisher.messages * 1000) / Math.max(1, r.publisher.ms))} messages/s)` : "";

/** An app run: sessions on A, K teachers of the class watching each on B, one message per student. */
/**
 * `n` sessions, one per student from `scene.students[from]` on, each making one turn. Warm-ups
 * pass the last students of the scene, so the measured runs' students are still new to A.
 * `capture`: the tap keeps every bus message of the run (needs `opts.tap`), for "B fed unpaced".
 */
export async function appRun(app: Target, scene: Scene, scenario: string, n: number, toolId: string, opts: FanoutOptions, from = 0, capture = false): Promise<AppRun> {
  const students = scene.students.slice(from, from + n);
  const sessionIds = await createSessions(app.a, students, toolId);
  const rooms = sessionIds.map((id) => `session:${id}`);
  const tap = opts.tap ? await tapRoomChannels(opts.tap.redisUrl, { record: capture }) : null;
  const fromMs = Date.now();
  const run = await runStreaming(app, {
    scenario,
    rooms,
    watchersOf: (i) => students[i]?.teachers.slice(0, opts.watchers) ?? [],
    studentOf: (i) => students[i]?.user ?? null,
    timeoutMs: opts.timeoutMs,
    // The probe's socket is another of the room's first teacher's.
    ...(opts.probeEvery ? { probe: { every: opts.probeEvery, userOf: (i: number) => students[i]?.teachers[0] ?? null } } : {}),
    async fire(students: (LiveSocket | null)[]) {
      const acks = await Promise.all(
        students.map((s, i) =>
          s
            ? s
                .request(
                  { type: "message.send", sessionId: sessionIds[i], clientMessageId: `bench-${i}`, content: `How do fractions work? Question ${i} of ${scenario}.` },
                  opts.timeoutMs,
                )
                .catch((err: Error) => ({ type: "error", message: err.message }))
            : { type: "error", message: "no student socket" },
        ),
      );
      return acks.filter((a) => a.type !== "ack").map((a) => `message.send: ${JSON.stringify(a).slice(0, 300)}`);
    },
  });
  const toMs = Date.now();
  await tap?.stop();
  if (tap && opts.tap) {
    const r = run.result;
    const line = `${scenario}, app, message.delta latency by stage: \`at\` (A, before its publish script) → Redis hands it to a bare subscriber (${tap.where === "process" ? "in a process of its own" : "in the client process"}) p50 ${percentile(tap.latencies, 0.5)} / p99 ${percentile(tap.latencies, 0.99)} ms; → a watcher on B p50 ${r.p50Ms} / p99 ${r.p99Ms} ms`;
    opts.tap.stages.push(line);
    opts.log(line);
  }
  opts.log(`${describe("app", run.result)}${run.result.errors.length ? `, errors: ${run.result.errors[0]}` : ""}`);
  return { ...run, rooms, students, captured: tap?.messages ?? new Map(), fromMs, toMs };
}

/** A baseline's replay of an app run (same rooms count, events, sizes; paced or not). */
async function baselineRun(baseline: Baseline, scenario: string, app: AppRun, paced: boolean, opts: FanoutOptions): Promise<RunResult> {
  const baselineRooms = app.rooms.map(() => `session:${crypto.randomUUID()}`);
  const plan = planFromTimelines(app.recorder, app.rooms, baselineRooms, paced);
  const planned = new Set(plan.rooms.map((r) => r.room));
  const rooms = baselineRooms.filter((r) => planned.has(r));
  let publisher: RunResult["publisher"];
  const run = await runStreaming(baseline, {
    scenario,
    rooms,
    watchersOf: () => Array.from({ length: opts.watchers }, () => null),
    studentOf: () => null,
    timeoutMs: opts.timeoutMs,
    ...(opts.probeEvery ? { probe: { every: opts.probeEvery, userOf: () => null } } : {}),
    async fire() {
      const r = await baseline.publish(plan);
      publisher = { messages: r.published, ms: Math.round(r.ms) };
      return r.published === plan.rooms.reduce((a, x) => a + x.events.length, 0) ? [] : [`published ${r.published}`];
    },
  });
  const result: RunResult = publisher ? { ...run.result, publisher } : run.result;
  opts.log(`${describe(baseline.kind, result)}${publishedIn(result)}`);
  return result;
}

/** Each baseline replays the app run, one after the other. */
export async function baselineRuns(baselines: Baseline[], scenario: string, app: AppRun, paced: boolean, opts: FanoutOptions): Promise<RunResult[]> {
  const out: RunResult[] = [];
  for (const b of baselines) out.push(await baselineRun(b, scenario, app, paced, opts));
  return out;
}
