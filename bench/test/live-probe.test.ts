import { afterAll, describe, expect, test } from "bun:test";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { probedRooms, startProbe } from "../live/probe.ts";
import { stopAll } from "../live/procs.ts";
import { startRelay } from "../live/targets.ts";

describe("the probe's rooms", () => {
  test("every n-th room from the first, with its index; none when off", () => {
    const rooms = ["r0", "r1", "r2", "r3", "r4", "r5", "r6"];
    expect(probedRooms(rooms, 3)).toEqual([
      { room: "r0", index: 0 },
      { room: "r3", index: 3 },
      { room: "r6", index: 6 },
    ]);
    expect(probedRooms(rooms, 1).length).toBe(7);
    expect(probedRooms(rooms, 0)).toEqual([]);
  });
});

const REDIS_URL = process.env.TEST_REDIS_URL || undefined;

describe.skipIf(!REDIS_URL)("the probe process, on the relay", () => {
  const workDir = mkdtempSync(join(tmpdir(), "rapt-live-probe-"));
  afterAll(async () => {
    await stopAll();
    rmSync(workDir, { recursive: true, force: true });
  });

  test("its watchers on B see every event of their rooms, and it times each delta", async () => {
    const relay = await startRelay({ redisUrl: REDIS_URL ?? "", logDir: workDir });
    const rooms = Array.from({ length: 4 }, () => `session:${crypto.randomUUID()}`);
    const probe = await startProbe("relay", relay.b, rooms, 2, () => null);
    if (!probe) throw new Error("no probe for 4 rooms, every 2nd");
    const events = (n: number) => Array.from({ length: n }, (_, i) => ({ delayMs: i * 5, bytes: 200, event: i === n - 1 ? "message.completed" : "message.delta" }));
    const published = await relay.publish({ paced: true, rooms: rooms.map((room, i) => ({ room, events: events(3 + i) })) });
    expect(published.published).toBe(3 + 4 + 5 + 6);
    const seen = await probe.stop(10_000);
    // Rooms 0 and 2: 3 and 5 events, of which 2 and 4 deltas.
    expect(seen.sockets).toBe(2);
    expect(seen.incomplete).toBe(0);
    expect(seen.events).toBe(3 + 5);
    expect(seen.latencies.length).toBe(2 + 4);
    expect(seen.loopDelay.samples).toBeGreaterThan(0);
  }, 60_000);
});
