import { afterAll, describe, expect, test } from "bun:test";
import { jobLeases } from "@raptscallions/db";
import { inArray } from "drizzle-orm";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { main, StartupError } from "../src/server.ts";

/**
 * The server's one entry point, started in this process: on the embedded defaults always, and on
 * Postgres + Redis when the test URLs are set. It must serve, run its jobs, and stop without
 * leaving anything open (a second start on the same data directory proves PGlite was released).
 */
const dataDir = mkdtempSync(join(tmpdir(), "rapt-main-"));
afterAll(() => rmSync(dataDir, { recursive: true, force: true }));

const quiet = { PORT: "0", HOST: "127.0.0.1", LOG_LEVEL: "error" };

describe("main()", () => {
  test("starts on embedded defaults in process, serves /health and /ready, runs its jobs, and stops cleanly", async () => {
    const handle = await main({ env: { ...quiet, DATA_DIR: dataDir } });
    try {
      expect(handle.deps.db.driver).toBe("pglite");
      const health = await fetch(`${handle.url}/health`);
      expect(health.status).toBe(200);
      expect(await health.json()).toEqual({ status: "ok" });
      expect((await fetch(`${handle.url}/ready`)).status).toBe(200);
      expect(handle.jobs.names().toSorted()).toEqual(["alert-escalation", "notification-digest", "retention", "roster-sync", "session-summaries", "sweeper"]);
      // "busy": the server's own scheduled run of the sweeper is in flight in this process; a
      // forced run waits for it to end, then must succeed.
      let outcome = await handle.jobs.runOnce("sweeper", { force: true });
      for (let i = 0; outcome === "busy" && i < 50; i++) {
        await Bun.sleep(100);
        outcome = await handle.jobs.runOnce("sweeper", { force: true });
      }
      expect(outcome).toBe("ok");
      const leases = await handle.deps.db.db
        .select()
        .from(jobLeases)
        .where(inArray(jobLeases.name, ["sweeper"]));
      expect(leases[0]).toMatchObject({ holder: null, lastOutcome: "ok" });
    } finally {
      await handle.stop();
    }
    await expect(fetch(`${handle.url}/health`)).rejects.toThrow();
    // Idempotent, and the embedded database was closed: it opens again from the same directory.
    await handle.stop();
    const again = await main({ env: { ...quiet, DATA_DIR: dataDir } });
    try {
      expect((await fetch(`${again.url}/health`)).status).toBe(200);
    } finally {
      await again.stop();
    }
  }, 120_000);

  test.if(Boolean(process.env.TEST_DATABASE_URL && process.env.TEST_REDIS_URL))(
    "starts on Postgres and Redis, and /ready checks both",
    async () => {
      const handle = await main({
        env: { ...quiet, DATA_DIR: dataDir, DATABASE_URL: process.env.TEST_DATABASE_URL, REDIS_URL: process.env.TEST_REDIS_URL },
      });
      try {
        expect(handle.deps.db.driver).toBe("postgres");
        const ready = await fetch(`${handle.url}/ready`);
        expect(ready.status).toBe(200);
        expect(JSON.stringify(await ready.json())).toContain("redis");
      } finally {
        await handle.stop();
      }
    },
    60_000,
  );

  test.if(Boolean(process.env.TEST_REDIS_CLUSTER_NODES))(
    "starts on a Redis Cluster: /ready checks it, the bus and key-value store run on it (and the limit store takes its tagged prefix)",
    async () => {
      const database = process.env.TEST_DATABASE_URL ? { DATABASE_URL: process.env.TEST_DATABASE_URL } : {};
      const handle = await main({
        env: { ...quiet, DATA_DIR: join(dataDir, "cluster"), ...database, REDIS_CLUSTER_NODES: process.env.TEST_REDIS_CLUSTER_NODES },
      });
      try {
        const ready = await fetch(`${handle.url}/ready`);
        expect(ready.status).toBe(200);
        expect(JSON.stringify(await ready.json())).toContain("redis");
        const key = `main-test:${crypto.randomUUID()}`;
        await handle.deps.kv.set(key, "v", 10_000);
        expect(await handle.deps.kv.getDel(key)).toBe("v");
        const room = `session:${crypto.randomUUID()}`;
        const event = await handle.deps.bus.publish(room, { type: "probe", payload: 1 });
        expect(event.epoch.startsWith("local:")).toBe(false);
        expect(await handle.deps.bus.head(room)).toEqual({ epoch: event.epoch, offset: 1 });
      } finally {
        await handle.stop();
      }
    },
    60_000,
  );

  test("a bad environment is a StartupError naming the keys, before anything is opened", async () => {
    const failed = await main({ env: { ...quiet, DATA_DIR: join(dataDir, "never"), PORT: "not-a-port", RETENTION_MODE: "shred" } }).catch((err: unknown) => err);
    expect(failed).toBeInstanceOf(StartupError);
    expect(String((failed as Error).message)).toContain("PORT");
    expect(String((failed as Error).message)).toContain("RETENTION_MODE");
  });
});
