/**
 * A bare Redis subscriber on the app's room channels: it sees each event when Redis hands it to any
 * subscriber, so a run's fan-out latency (the frame's `at`, stamped by instance A before its
 * publish script, → a watcher on B) splits into "A's publish path + Redis" (`at` → here) and
 * "B + the socket + the client" (the rest).
 *
 * It runs in a process of its own (bench/live/tap-process.ts) by default: in the bench's client
 * process it shared one loop with the 800 watcher sockets during the app's runs only (the baselines
 * have no tap), so it slowed the reader of one target and its own stamps waited behind the
 * watchers' frames. BENCH_LIVE_TAP=inline keeps it in the client process (the figure before
 * 2026-12-02's second pass), for a comparison.
 *
 * With `record`, it also keeps every message as A published it, per channel in arrival order
 * (Redis hands a channel's messages out in publish order): what "B fed unpaced" replays onto the
 * same channels (bench/live/fed.ts).
 */
import { join } from "node:path";
import { connectRedis, whenReady } from "../../packages/bus/src/index.ts";
import { startSideProcess } from "./side-process.ts";

const AT_KEY = '"at":"';
const DELTA = '"event":"message.delta"';
const PATTERN = "rapt:bus:{session:*}:ch";

export interface RedisTap {
  /** Receive time − `at` (ms) of every `message.delta` seen on the room channels. */
  readonly latencies: number[];
  /** With `record`: channel → its messages, as published, in order (else empty). */
  readonly messages: Map<string, string[]>;
  /** Where the tap ran: its own process, or the bench's client process. */
  readonly where: TapPlace;
  /** Stops it; `latencies` and `messages` are complete once this resolves. */
  stop(): Promise<void>;
}

export type TapPlace = "process" | "inline";

export interface TapOptions {
  record?: boolean;
  pattern?: string;
  /** Default: BENCH_LIVE_TAP (`inline`), else its own process. */
  where?: TapPlace;
}

/**
 * Receive time − `at` of a bus message that carries a `message.delta` (ms, `at` to the
 * millisecond), or null for any other message. `at` is the frame's last key.
 */
export function deltaLatencyMs(message: string, receivedMs: number): number | null {
  if (!message.includes(DELTA)) return null;
  const a = message.lastIndexOf(AT_KEY);
  if (a < 0) return null;
  const at = Date.parse(message.slice(a + AT_KEY.length, a + AT_KEY.length + 24));
  return Number.isFinite(at) ? receivedMs - at : null;
}

export const defaultTapPlace = (): TapPlace => (process.env.BENCH_LIVE_TAP === "inline" ? "inline" : "process");

export function tapRoomChannels(redisUrl: string, opts: TapOptions = {}): Promise<RedisTap> {
  return (opts.where ?? defaultTapPlace()) === "inline" ? tapInline(redisUrl, opts) : tapInProcess(redisUrl, opts);
}

/** The tap on this process's loop (the tap process runs this too). */
export async function tapInline(redisUrl: string, opts: TapOptions = {}): Promise<RedisTap> {
  const pattern = opts.pattern ?? PATTERN;
  const sub = connectRedis(redisUrl, "subscriber", { connectionName: "bench-live-tap" });
  sub.on("error", () => undefined);
  const latencies: number[] = [];
  const messages = new Map<string, string[]>();
  const record = opts.record === true;
  sub.on("pmessage", (_pattern: string, channel: string, message: string) => {
    const now = Date.now();
    if (record) {
      const list = messages.get(channel);
      if (list) list.push(message);
      else messages.set(channel, [message]);
    }
    const latency = deltaLatencyMs(message, now);
    if (latency !== null) latencies.push(latency);
  });
  await whenReady(sub, 10_000);
  await sub.psubscribe(pattern);
  return {
    latencies,
    messages,
    where: "inline",
    async stop() {
      await sub.punsubscribe(pattern).catch(() => undefined);
      sub.disconnect();
    },
  };
}

/** What the tap process writes when it stops. */
export interface TapOutput {
  latencies: number[];
  messages: [string, string[]][];
}

/** The tap in a child process (tap-process.ts): ready once it printed `ready`, read back when stopped. */
async function tapInProcess(redisUrl: string, opts: TapOptions): Promise<RedisTap> {
  const proc = await startSideProcess<TapOutput>(
    join(import.meta.dir, "tap-process.ts"),
    "tap",
    { TAP_REDIS_URL: redisUrl, TAP_PATTERN: opts.pattern ?? PATTERN, TAP_RECORD: opts.record ? "1" : "0" },
    "TAP_OUT",
  );
  const latencies: number[] = [];
  const messages = new Map<string, string[]>();
  return {
    latencies,
    messages,
    where: "process",
    async stop() {
      const output = await proc.stop();
      for (const l of output.latencies) latencies.push(l);
      for (const [channel, list] of output.messages) messages.set(channel, list);
    },
  };
}
