import { afterAll, describe, expect, test } from "bun:test";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { loadOrCreateDevKeys } from "../../apps/api/src/auth/dev-keys.ts";
import { EventTally, newRecorder, offsetOf } from "../live/clients.ts";
import { appRun } from "../live/fanout-runs.ts";
import { fedRun, renumber } from "../live/fed.ts";
import { type BenchDatabase, createBenchDatabase } from "../live/infra.ts";
import { stopAll } from "../live/procs.ts";
import { seedScene } from "../live/scene.ts";
import { startApp, startRelay } from "../live/targets.ts";

const EPOCH = "3f1c2a34-5b6d-4e7f-8a9b-0c1d2e3f4a5b";
const frame = (offset: number, at = "2026-12-02T06:00:00.000Z") =>
  `{"type":"event","room":"session:x","epoch":"${EPOCH}","offset":${offset},"event":"message.delta","payload":{"text":"\\"offset\\":1"},"at":"${at}"}`;

describe("B fed unpaced: the messages it replays", () => {
  test("a captured message is moved to a new offset in its header and its frame, nothing else", () => {
    const moved = renumber(`f\n${EPOCH}\n7\n${frame(7)}`, EPOCH, 131);
    expect(moved).toBe(`f\n${EPOCH}\n131\n${frame(131)}`);
    // Another epoch, a resync or a message of another shape is not replayed.
    expect(renumber(`f\n${EPOCH}\n7\n${frame(7)}`, "another", 131)).toBeNull();
    expect(renumber(`r\n${EPOCH}`, EPOCH, 131)).toBeNull();
    expect(renumber(`f\n${EPOCH}\n7\n{"type":"event"}`, EPOCH, 131)).toBeNull();
  });

  test("a watcher that checks offsets counts gaps and duplicates per room", () => {
    const recorder = newRecorder(true);
    const tally = new EventTally(recorder);
    expect(tally.checksOffsets).toBe(true);
    for (const [room, offset] of [
      ["a", 5],
      ["a", 6],
      ["b", 1],
      ["a", 8],
      ["a", 8],
      ["b", 2],
      ["a", 7],
    ] as const)
      tally.offset(room, offset);
    expect(recorder.offsets).toEqual({ gaps: 1, duplicates: 2 });
    expect(offsetOf(frame(1234))).toBe(1234);
    expect(new EventTally(newRecorder()).checksOffsets).toBe(false);
  });
});

/**
 * End to end at tiny knobs: a saturation run of the real app captured by the tap, then its messages
 * replayed unpaced onto its rooms by the relay's publisher to new watchers on B, every frame
 * counted and its offset checked. Needs TEST_DATABASE_URL (a role that may create databases) and
 * TEST_REDIS_URL.
 */
const DATABASE_URL = process.env.TEST_DATABASE_URL || undefined;
const REDIS_URL = process.env.TEST_REDIS_URL || undefined;

describe.skipIf(!DATABASE_URL || !REDIS_URL)("B fed unpaced, end to end", () => {
  const workDir = mkdtempSync(join(tmpdir(), "rapt-live-fed-"));
  let db: BenchDatabase | undefined;

  afterAll(async () => {
    await stopAll();
    await db?.drop();
    rmSync(workDir, { recursive: true, force: true });
  });

  test("B delivers every replayed message to every watcher, in order, with no gap or duplicate", async () => {
    const created = await createBenchDatabase(DATABASE_URL);
    if ("error" in created) throw new Error(created.error);
    db = created;
    const redisUrl = REDIS_URL ?? "";
    const dataDir = join(workDir, "data");
    const keys = await loadOrCreateDevKeys(dataDir);
    const scene = await seedScene({ databaseUrl: db.url, keys, students: 4, watchersPerSession: 2, rates: [200] });
    const app = await startApp({ tag: "fed", databaseUrl: db.url, redisUrl, dataDir, logDir: workDir, env: { LIVE_COALESCE_MS: "0" } });
    const relay = await startRelay({ redisUrl, logDir: workDir });
    const opts = { watchers: 2, timeoutMs: 20_000, log: () => undefined, tap: { redisUrl, stages: [] } };
    const s = await appRun(app, scene, "saturation 200 tok/s", 4, scene.toolsByRate.get(200) ?? scene.toolId, opts, 0, true);
    expect(s.result.incompleteWatchers).toBe(0);
    expect(s.captured.size).toBe(4);

    const fed = await fedRun(app, relay, "B fed unpaced, saturation 200 tok/s", s, redisUrl, opts);
    expect(fed.errors).toEqual([]);
    expect(fed.incompleteWatchers).toBe(0);
    expect(fed.offsetChecks).toEqual({ gaps: 0, duplicates: 0 });
    // The same frames as the app's run: each room's events once per watcher.
    expect(fed.events).toBe(s.result.events);
    expect(fed.publisher?.messages).toBe(s.result.events / 2);
    // Each `at` was stamped by the publisher inside the run, not when A first published it.
    expect(fed.latencySamples).toBeGreaterThan(0);
    expect(fed.maxMs).toBeLessThanOrEqual(fed.cpuToMs - fed.cpuFromMs);

    // The same messages once more (the bench's unmeasured warm-up comes first): the rooms' heads
    // moved on with the first replay, so the second is numbered after it and delivered exactly too.
    const again = await fedRun(app, relay, "B fed unpaced, again", s, redisUrl, opts);
    expect(again.errors).toEqual([]);
    expect(again.offsetChecks).toEqual({ gaps: 0, duplicates: 0 });
    expect(again.events).toBe(s.result.events);
    expect(again.maxMs).toBeLessThanOrEqual(again.cpuToMs - again.cpuFromMs);
  }, 120_000);
});
