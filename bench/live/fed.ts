/**
 * "B fed unpaced": the app's watching instance fed as densely as the relay's B is by its unpaced
 * replay. Goal 3's CPU aim is about the watching instance, but at saturation the app's B is fed by
 * A, which runs real chat turns and publishes far less densely than the relay's bare PUBLISH loop;
 * and how many frames share one socket write on B (most of a frame's cost) is set by the
 * publisher's density (bench/README.md, live.bench.ts, "Who writes on B at saturation").
 *
 * So after each saturation run, the messages A published on the run's room channels (captured by
 * the tap, bench/live/tap.ts) are published again, renumbered, onto the same channels by the
 * relay's publisher loop (relay.ts `POST /replay`: each room's messages one after another,
 * unpaced, all rooms at once, each frame stringified with its `at` as it is published — the loop
 * of its unpaced replay), to new watchers of the same rooms on the same app instances (same rooms ×
 * watchers, the same frames). B does its whole per-message work: the subscriber's read, the
 * follower's epoch and offset check, the tail, one topic publish per room. The watchers check every
 * frame's offset (no gap, no duplicate). The relay's A forwards each replayed channel to one socket
 * while it publishes, as it forwards its own rooms to their student sockets in its unpaced replay,
 * so both publishers share their event loop alike and feed Redis alike (the app's A holds no
 * student socket in these runs: it takes no part).
 *
 * Valid for B: a watcher's subscribe lines it up at the room's head in Redis (`<room>:meta`'s
 * epoch and seq, which the run left at its last offset); the replayed messages carry that epoch
 * and offsets seq + 1, seq + 2, … in their header and their frame alike, so B's follower takes
 * each as the next one (any other offset would send it to Redis for a replay). The publisher does
 * not write the room's log or counter, as the relay's does not: nobody reads them during the run.
 */
import { FrameReader } from "../../packages/bus/src/frame-reader.ts";
import { connectRedis, roomKeys, whenReady } from "../../packages/bus/src/index.ts";
import { closeQuietly, pool } from "./clients.ts";
import { type AppRun, describe, type FanoutOptions, publishedIn } from "./fanout-runs.ts";
import type { ReplayPlan } from "./frames.ts";
import { type RunResult, runStreaming } from "./scenario.ts";
import type { Baseline, Instance, Target } from "./targets.ts";

const PREFIX = "rapt:bus:";
const COMPLETED = '"event":"message.completed"';

/** A captured event message (`f\n<epoch>\n<offset>\n<frame>`) read by the bus's own reader; null if it is none. */
function readCaptured(message: string): { epoch: string; offset: number; frame: string } | null {
  if (!message.startsWith("f\n")) return null;
  const reader = new FrameReader("");
  try {
    reader.read(Buffer.from(message));
  } catch {
    return null;
  }
  return { epoch: reader.epoch, offset: reader.offset, frame: reader.frame };
}

/**
 * One captured bus message moved to `offset`, in the header and the frame's `"offset":`; null when
 * it is not an event message of `epoch`.
 */
export function renumber(message: string, epoch: string, offset: number): string | null {
  const read = readCaptured(message);
  if (read === null || read.epoch !== epoch) return null;
  const { frame } = read;
  const key = `"epoch":"${epoch}","offset":`;
  const k = frame.indexOf(key);
  if (k < 0) return null;
  const from = k + key.length;
  let to = from;
  while (to < frame.length && frame.charCodeAt(to) >= 48 && frame.charCodeAt(to) <= 57) to++;
  if (to === from) return null;
  return `f\n${epoch}\n${offset}\n${frame.slice(0, from)}${offset}${frame.slice(to)}`;
}

/** The header offset of a captured event message (NaN if none). */
const headerOffset = (message: string) => readCaptured(message)?.offset ?? Number.NaN;

/**
 * Each room's captured messages up to its last `message.completed`, renumbered to follow the
 * room's head in Redis; rooms that cannot be replayed exactly are left out and said why.
 */
export async function replayPlanOf(run: AppRun, redisUrl: string): Promise<{ plan: ReplayPlan; rooms: number[]; heads: [string, number][]; errors: string[] }> {
  const redis = connectRedis(redisUrl, "commands", { connectionName: "bench-live-fed" });
  const plan: ReplayPlan = { rooms: [] };
  const rooms: number[] = [];
  // Each planned room's meta key and the last offset replayed to it.
  const heads: [string, number][] = [];
  const errors: string[] = [];
  try {
    await whenReady(redis, 10_000);
    const metas = await Promise.all(run.rooms.map((room) => redis.hmget(roomKeys(PREFIX, room).meta, "epoch", "seq")));
    for (const [i, room] of run.rooms.entries()) {
      const { channel } = roomKeys(PREFIX, room);
      const captured = (run.captured.get(channel) ?? []).filter((m) => m.startsWith("f\n"));
      const last = captured.findLastIndex((m) => m.includes(COMPLETED));
      const [epoch, seq] = metas[i] ?? [];
      if (last < 0 || !epoch || !seq) {
        errors.push(`${room}: ${last < 0 ? "no message.completed captured" : "no head in Redis"}`);
        continue;
      }
      const taken = captured.slice(0, last + 1);
      // The tap saw every message of the room, in order: the offsets it captured run on by one.
      const consecutive = taken.every((m, j) => j === 0 || headerOffset(m) === headerOffset(taken[j - 1] ?? "") + 1);
      const messages = taken.map((m, j) => renumber(m, epoch, Number(seq) + j + 1));
      if (!consecutive || messages.some((m) => m === null)) {
        errors.push(`${room}: captured messages not one epoch's consecutive offsets`);
        continue;
      }
      plan.rooms.push({ channel, messages: messages as string[] });
      rooms.push(i);
      heads.push([roomKeys(PREFIX, room).meta, Number(seq) + messages.length]);
    }
  } finally {
    redis.disconnect();
  }
  return { plan, rooms, heads, errors };
}

/**
 * Moves each room's head in Redis to the last offset replayed to it (the publisher, like the
 * relay's, only PUBLISHes): a later subscribe to the room — another fed run of the same messages —
 * then lines up where B's feed stands, not behind it.
 */
async function advanceHeads(redisUrl: string, heads: [string, number][]): Promise<void> {
  const redis = connectRedis(redisUrl, "commands", { connectionName: "bench-live-fed" });
  try {
    await whenReady(redis, 10_000);
    await Promise.all(heads.map(([meta, seq]) => redis.hset(meta, "seq", seq)));
  } finally {
    redis.disconnect();
  }
}

/** Sends a replay plan to the relay's instance A (`POST /replay`, answered once all is published). */
async function replay(a: Instance, plan: ReplayPlan): Promise<{ published: number; ms: number }> {
  const res = await fetch(`${a.baseUrl}/replay`, { method: "POST", body: JSON.stringify(plan), headers: { "content-type": "application/json" } });
  if (!res.ok) throw new Error(`${a.child.name} replay: ${res.status} ${await res.text()}`);
  return (await res.json()) as { published: number; ms: number };
}

/**
 * A socket on the relay's `a` subscribed to `channel` by name, resolved once acked. What it is
 * forwarded are bus messages (`f\n…` headers, not JSON frames): it reads nothing after the ack.
 */
function forwardedSocket(a: Instance, channel: string, timeoutMs = 30_000): Promise<WebSocket> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(`${a.wsUrl}/ws`);
    const timer = setTimeout(() => {
      ws.close();
      reject(new Error(`relay subscribe ${channel}: no ack within ${timeoutMs} ms`));
    }, timeoutMs);
    const onMessage = (ev: MessageEvent) => {
      if (!String(ev.data).startsWith('{"type":"ack"')) return;
      clearTimeout(timer);
      ws.removeEventListener("message", onMessage);
      resolve(ws);
    };
    ws.addEventListener("message", onMessage);
    ws.addEventListener("open", () => ws.send(JSON.stringify({ type: "subscribe", id: "s", room: channel, channel: true })), { once: true });
    ws.addEventListener(
      "error",
      () => {
        clearTimeout(timer);
        reject(new Error(`relay socket for ${channel} failed to open`));
      },
      { once: true },
    );
  });
}

/** The app's B fed `run`'s own messages again, unpaced, by `relay`'s publisher; see the top. */
export async function fedRun(app: Target, relay: Baseline, scenario: string, run: AppRun, redisUrl: string, opts: FanoutOptions): Promise<RunResult> {
  const { plan, rooms, heads, errors } = await replayPlanOf(run, redisUrl);
  const total = plan.rooms.reduce((a, r) => a + r.messages.length, 0);
  const student = (k: number) => run.students[rooms[k] ?? -1];
  let publisher: RunResult["publisher"];
  // The publishing process forwards each replayed room to one socket, as the relay's A forwards
  // its rooms to their student sockets while it publishes its unpaced replay: the two publishers
  // share their event loop alike, so they feed Redis alike. (Hence no student sockets on the app's A.)
  const forwarded = await pool(plan.rooms, 24, (r) => forwardedSocket(relay.a, r.channel));
  let streamed: Awaited<ReturnType<typeof runStreaming>>;
  try {
    streamed = await runStreaming(app, {
      scenario,
      rooms: rooms.map((i) => run.rooms[i] ?? ""),
      watchersOf: (k) => student(k)?.teachers.slice(0, opts.watchers) ?? [],
      studentOf: () => null,
      timeoutMs: opts.timeoutMs,
      checkOffsets: true,
      async fire() {
        const r = await replay(relay.a, plan);
        publisher = { messages: r.published, ms: Math.round(r.ms) };
        return r.published === total ? [] : [`published ${r.published} of ${total}`];
      },
    });
  } finally {
    for (const ws of forwarded) closeQuietly(ws);
    await advanceHeads(redisUrl, heads);
  }
  const result: RunResult = publisher ? { ...streamed.result, publisher } : streamed.result;
  const expected = plan.rooms.reduce((a, r, k) => a + r.messages.length * (student(k)?.teachers.slice(0, opts.watchers).length ?? 0), 0);
  if (result.events !== expected) errors.push(`the watchers received ${result.events} event frames of the ${expected} replayed to them`);
  // Every delta the watchers got was stamped by this run's publisher: one stamped before (a frame
  // of an earlier replay, from B's tail) would mean B dropped the replayed ones as already seen.
  if (result.maxMs > result.cpuToMs - result.cpuFromMs) errors.push(`a frame stamped before the run reached a watcher (${result.maxMs} ms old)`);
  const checks = result.offsetChecks;
  if (checks && checks.gaps + checks.duplicates > 0) errors.push(`${checks.gaps} gaps and ${checks.duplicates} duplicates in the offsets the watchers saw`);
  result.errors.unshift(...errors);
  opts.log(
    `${describe("app", result)}${publishedIn(result)}, ${total} messages replayed to ${rooms.length} rooms; offsets checked: ${checks?.gaps ?? "?"} gaps, ${checks?.duplicates ?? "?"} duplicates${result.errors.length ? `; errors: ${result.errors.slice(0, 3).join("; ")}` : ""}`,
  );
  return result;
}
