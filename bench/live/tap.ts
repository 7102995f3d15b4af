/**
 * A bare Redis subscriber on the app's room channels, in the bench process: it sees each event
 * when Redis hands it to any subscriber, so a run's fan-out latency (the frame's `at`, stamped by
 * instance A before its publish script, → a watcher on B) splits into "A's publish path + Redis"
 * (`at` → here) and "B + the socket + the client" (the rest).
 */
import { connectRedis, whenReady } from "../../packages/bus/src/index.ts";

const AT_KEY = '"at":"';
const DELTA = '"event":"message.delta"';

export interface RedisTap {
  /** Receive time − `at` (ms) of every `message.delta` seen on the room channels. */
  readonly latencies: number[];
  stop(): Promise<void>;
}

export async function tapRoomChannels(redisUrl: string, pattern = "rapt:bus:{session:*}:ch"): Promise<RedisTap> {
  const sub = connectRedis(redisUrl, "subscriber", { connectionName: "bench-live-tap" });
  sub.on("error", () => undefined);
  const latencies: number[] = [];
  sub.on("pmessage", (_pattern: string, _channel: string, message: string) => {
    const now = Date.now();
    if (!message.includes(DELTA)) return;
    const a = message.lastIndexOf(AT_KEY);
    latencies.push(now - Date.parse(message.slice(a + AT_KEY.length, a + AT_KEY.length + 24)));
  });
  await whenReady(sub, 10_000);
  await sub.psubscribe(pattern);
  return {
    latencies,
    async stop() {
      await sub.punsubscribe(pattern).catch(() => undefined);
      sub.disconnect();
    },
  };
}
