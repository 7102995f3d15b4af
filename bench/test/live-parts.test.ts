import { afterAll, describe, expect, test } from "bun:test";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { loadOrCreateDevKeys } from "../../apps/api/src/auth/dev-keys.ts";
import { type BenchDatabase, createBenchDatabase } from "../live/infra.ts";
import { lateJoinerPart, type PartContext, stormPart } from "../live/parts.ts";
import { stopAll } from "../live/procs.ts";
import { seedScene } from "../live/scene.ts";

/**
 * The live bench's storm and late-joiner parts end to end at tiny knobs: real API processes on
 * Postgres and Redis, the same code the bench runs, checked for what they count (not how fast).
 * Needs TEST_DATABASE_URL (a role that may create databases) and TEST_REDIS_URL.
 */
const DATABASE_URL = process.env.TEST_DATABASE_URL || undefined;
const REDIS_URL = process.env.TEST_REDIS_URL || undefined;

describe.skipIf(!DATABASE_URL || !REDIS_URL)("live bench parts at tiny knobs", () => {
  const workDir = mkdtempSync(join(tmpdir(), "rapt-live-parts-"));
  let db: BenchDatabase | undefined;

  afterAll(async () => {
    await stopAll();
    await db?.drop();
    rmSync(workDir, { recursive: true, force: true });
  });

  test("the late joiner reads what it sends, counted on the wire; the storm resumes every client without a gap", async () => {
    const created = await createBenchDatabase(DATABASE_URL);
    if ("error" in created) throw new Error(created.error);
    db = created;
    const dataDir = join(workDir, "data");
    const keys = await loadOrCreateDevKeys(dataDir);
    const scene = await seedScene({ databaseUrl: db.url, keys, students: 6, watchersPerSession: 2, rates: [20] });
    const ctx: PartContext = { databaseUrl: db.url, redisUrl: REDIS_URL ?? "", dataDir, logDir: workDir, cpuProfDir: undefined, scene, log: () => undefined };

    const late = await lateJoinerPart(ctx, { messages: 450, joiners: 3, timeoutMs: 20_000 });
    expect(late.slot).toMatchObject({ sessionMessages: 450, sentMessages: 200, joiners: 3 });
    // Newest first with one look-ahead row, for each of the three joiners.
    expect(late.slot.rowsRead).toBe(201);
    expect(late.slot.p50Ms).toBeGreaterThan(0);
    const messagesQuery = late.detail.statements.find((s) => s.text.includes('from "messages"'));
    expect(messagesQuery?.rows).toBe(3 * 201);
    expect(late.windows["late-joiner"]?.instance).toBe("app-late-b");

    const storm = await stormPart(ctx, {
      rooms: 6,
      watchers: 2,
      streaming: 2,
      setups: 20,
      setupConcurrency: 4,
      jitterMs: 200,
      inflight: 16,
      timeoutMs: 20_000,
      toolId: scene.toolsByRate.get(20) ?? scene.toolId,
    });
    // 6 rooms × (a student + 2 teachers), all on A, all resumed on B.
    expect(storm.slot).toMatchObject({ clients: 18, caughtUp: 18, unneededResets: 0, gapsAndDuplicates: 0 });
    expect(storm.slot.seconds).toBeGreaterThan(0);
    expect(storm.slot.setupsPerSecond).toBeGreaterThan(0);
    expect(storm.detail.setup?.errors).toBe(0);
    expect(storm.detail.storm.eventsBeforeKill).toBeGreaterThan(0);
    expect(Object.keys(storm.windows).sort()).toEqual(["setup", "storm"]);
  }, 120_000);
});
