import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { connectRedis, createRedisBus, createRedisKeyValueStore, createRedisPresence, type RedisBus } from "@raptscallions/bus";
import { type DbHandle, messages } from "@raptscallions/db";
import { makeSchoolScene, makeSession, type SchoolScene } from "@raptscallions/db/testing";
import { MemoryLimitStore } from "@raptscallions/gateway";
import { eq } from "drizzle-orm";
import { startCuttableProxy } from "../../../packages/bus/test/support.ts";
import { createTestDb } from "./helpers/deps.ts";
import { connect, ensureDevModels, type Instance, startDevModel, startInstance } from "./helpers/live.ts";

/**
 * Losing Redis degrades an instance to local delivery and it recovers when Redis returns:
 * watchers on the cut-off instance keep getting the answer, watchers elsewhere are told to
 * resynchronise (a reset) instead of silently missing events. Needs a real Redis.
 */
const redisUrl = process.env.TEST_REDIS_URL;

if (redisUrl) {
  describe("Redis lost and regained", () => {
    let db: DbHandle;
    let dev: ReturnType<typeof startDevModel>;
    let proxy: Awaited<ReturnType<typeof startCuttableProxy>>;
    let busA: RedisBus;
    let busB: RedisBus;
    let a: Instance;
    let b: Instance;
    let scene: SchoolScene;
    const commands = connectRedis(redisUrl, "commands");

    beforeAll(async () => {
      db = await createTestDb();
      await ensureDevModels(db);
      dev = startDevModel(300);
      proxy = await startCuttableProxy(redisUrl);
      const prefix = `loss${crypto.randomUUID().slice(0, 8)}:`;
      busA = createRedisBus({ url: proxy.url, keyPrefix: `${prefix}bus:`, recoveryIntervalMs: 100, onError: () => {} });
      busB = createRedisBus({ url: redisUrl, keyPrefix: `${prefix}bus:`, recoveryIntervalMs: 100, onError: () => {} });
      await busA.ready(5000);
      await busB.ready(5000);
      const shared = {
        presence: createRedisPresence({ redis: commands, keyPrefix: `${prefix}presence:` }),
        kv: createRedisKeyValueStore({ redis: commands, keyPrefix: `${prefix}kv:` }),
        gatewayUrl: dev.url,
        limits: new MemoryLimitStore(),
      };
      a = await startInstance(db, { ...shared, bus: () => busA });
      b = await startInstance(db, { ...shared, bus: () => busB });
      scene = await makeSchoolScene(db.db);
    }, 60_000);

    afterAll(async () => {
      await a.stop();
      await b.stop();
      await busA.close();
      await busB.close();
      commands.disconnect();
      await proxy.close();
      dev.stop();
      await db.close();
    });

    test("the cut-off instance keeps streaming locally; the other instance's watcher gets a reset, then live events again", async () => {
      const session = await makeSession(db.db, { toolId: scene.tool.id, studentId: scene.student.id, groupId: scene.department.id, classId: scene.cls.id });
      const room = `session:${session.id}`;
      const local = await connect(a, scene.teacher);
      await local.request({ type: "subscribe", room, lastOffset: 0 });
      const remote = await connect(b, scene.teacher);
      await remote.request({ type: "subscribe", room, lastOffset: 0 });
      const student = await connect(a, scene.student);
      // A first exchange while Redis is healthy: the remote watcher holds (epoch, offset) of the room.
      const first = await student.request({ type: "message.send", sessionId: session.id, clientMessageId: "r0", content: "Hello tutor" });
      expect(first.type).toBe("ack");
      await remote.next((f) => f.type === "event" && f.event === "message.completed", 15_000);

      proxy.cut();
      const start = Date.now();
      while (!busA.degraded && Date.now() - start < 5000) {
        await busA.publish(`session:${crypto.randomUUID()}`, { type: "probe", payload: {} }).catch(() => {});
        await Bun.sleep(50);
      }
      expect(busA.degraded).toBe(true);

      const ack = await student.request({ type: "message.send", sessionId: session.id, clientMessageId: "r1", content: "What is diffusion?" });
      expect(ack.type).toBe("ack");
      const localFrom = local.frames.length;
      const answerId = (ack.result as { answerId: string }).answerId;
      // The local watcher still follows the answer to its end (events, possibly after a reset).
      await local.next((f) => (f.type === "event" && f.event === "message.completed") || f.type === "reset", 15_000, localFrom);
      const deadline = Date.now() + 15_000;
      let row = (await db.db.select().from(messages).where(eq(messages.id, answerId)))[0];
      while (row?.state === "streaming" && Date.now() < deadline) {
        await Bun.sleep(50);
        row = (await db.db.select().from(messages).where(eq(messages.id, answerId)))[0];
      }
      expect(row?.state).toBe("complete");

      proxy.restore();
      const back = Date.now();
      while (busA.degraded && Date.now() - back < 10_000) await Bun.sleep(50);
      expect(busA.degraded).toBe(false);
      // The remote watcher missed the answer's events: it is told to reload rather than left with a gap.
      await remote.next((f) => f.type === "reset" && f.room === room, 10_000);

      // And live delivery across instances works again afterwards.
      const before = remote.frames.length;
      const again = await student.request({ type: "message.send", sessionId: session.id, clientMessageId: "r2", content: "And osmosis?" });
      expect(again.type).toBe("ack");
      await remote.next((f) => f.type === "event" && f.event === "message.completed", 15_000, before);
      local.close();
      remote.close();
      student.close();
    }, 60_000);
  });
}
