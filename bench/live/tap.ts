/**
 * A bare Redis subscriber on the app's room channels, in the bench process: it sees each event
 * when Redis hands it to any subscriber, so a run's fan-out latency (the frame's `at`, stamped by
 * instance A before its publish script, → a watcher on B) splits into "A's publish path + Redis"
 * (`at` → here) and "B + the socket + the client" (the rest).
 *
 * With `record`, it also keeps every message as A published it, per channel in arrival order
 * (Redis hands a channel's messages out in publish order): what "B fed unpaced" replays onto the
 * same channels (bench/live/fed.ts).
 */
import { connectRedis, whenReady } from "../../packages/bus/src/index.ts";

const AT_KEY = '"at":"';
const DELTA = '"event":"message.delta"';

export interface RedisTap {
  /** Receive time − `at` (ms) of every `message.delta` seen on the room channels. */
  readonly latencies: number[];
  /** With `record`: channel → its messages, as published, in order (else empty). */
  readonly messages: Map<string, string[]>;
  stop(): Promise<void>;
}

export async function tapRoomChannels(redisUrl: string, opts: { record?: boolean; pattern?: string } = {}): Promise<RedisTap> {
  const pattern = opts.pattern ?? "rapt:bus:{session:*}:ch";
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
    if (!message.includes(DELTA)) return;
    const a = message.lastIndexOf(AT_KEY);
    latencies.push(now - Date.parse(message.slice(a + AT_KEY.length, a + AT_KEY.length + 24)));
  });
  await whenReady(sub, 10_000);
  await sub.psubscribe(pattern);
  return {
    latencies,
    messages,
    async stop() {
      await sub.punsubscribe(pattern).catch(() => undefined);
      sub.disconnect();
    },
  };
}
