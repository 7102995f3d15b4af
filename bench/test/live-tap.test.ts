import { describe, expect, test } from "bun:test";
import { connectRedis, whenReady } from "../../packages/bus/src/index.ts";
import { describeLoopDelay, summarise } from "../live/loop-delay.ts";
import { deltaLatencyMs, type TapPlace, tapRoomChannels } from "../live/tap.ts";

const AT = "2026-12-02T10:00:00.000Z";
const message = (event: string, at = AT) =>
  `f\nepoch\n7\n{"type":"event","room":"session:x","epoch":"epoch","offset":7,"event":"${event}","payload":{"text":"\\"at\\":\\"1999"},"at":"${at}"}`;

describe("the tap's arithmetic", () => {
  test("a delta's latency is its receive time minus its `at`, read from the frame's last key", () => {
    expect(deltaLatencyMs(message("message.delta"), Date.parse(AT) + 17)).toBe(17);
    expect(deltaLatencyMs(message("message.delta", "2026-12-02T10:00:00.250Z"), Date.parse(AT) + 251)).toBe(1);
    // Other events and messages without a readable `at` are not samples.
    expect(deltaLatencyMs(message("message.completed"), Date.parse(AT) + 17)).toBeNull();
    expect(deltaLatencyMs(`r\nepoch`, Date.parse(AT))).toBeNull();
    expect(deltaLatencyMs('{"event":"message.delta","at":"not a time at all......"}', Date.parse(AT))).toBeNull();
  });
});

describe("the client's loop delay", () => {
  test("percentiles of the delays to 0.1 ms, and the largest in each second of the run", () => {
    // 100 samples over 2.5 s: 98 of 0.04 ms, one of 12.34 ms in the first second, one of 31 ms in the third.
    const since = Array.from({ length: 100 }, (_, i) => i * 25);
    const delays = since.map((t) => (t === 500 ? 12.34 : t === 2100 ? 31 : 0.04));
    expect(summarise(since, delays)).toEqual({ samples: 100, p50Ms: 0, p99Ms: 12.3, maxMs: 31, perSecondMaxMs: [12.3, 0, 31] });
    expect(summarise([], [])).toEqual({ samples: 0, p50Ms: 0, p99Ms: 0, maxMs: 0, perSecondMaxMs: [] });
    expect(describeLoopDelay(summarise([10, 1200], [12.4, 0.2]))).toBe("client loop delay p50 0.2 / p99 12.4 / max 12.4 ms (max per second: 12, 0)");
  });
});

const REDIS = process.env.TEST_REDIS_URL;

describe.skipIf(!REDIS)("the tap on a real Redis", () => {
  for (const where of ["process", "inline"] as TapPlace[]) {
    test(`${where}: times each delta and records every message of the room channels, in order`, async () => {
      const pattern = `rapt-test-tap-${crypto.randomUUID()}:{session:*}:ch`;
      const tap = await tapRoomChannels(REDIS as string, { record: true, pattern, where });
      expect(tap.where).toBe(where);
      const pub = connectRedis(REDIS as string, "commands", { connectionName: "bench-live-tap-test" });
      await whenReady(pub, 10_000);
      const channel = pattern.replace("*", "a");
      const sent = [message("message.delta", new Date(Date.now() - 40).toISOString()), message("message.completed")];
      for (const m of sent) await pub.publish(channel, m);
      await pub.publish(pattern.replace("{session:*}", "other"), message("message.delta"));
      // The tap's unsubscribe is answered on its connection after every message sent to it before.
      await tap.stop();
      pub.disconnect();
      expect([...tap.messages]).toEqual([[channel, sent]]);
      expect(tap.latencies.length).toBe(1);
      expect(tap.latencies[0]).toBeGreaterThanOrEqual(40);
    });
  }
});
