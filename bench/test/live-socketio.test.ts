/**
 * The live bench's Socket.IO baseline end to end: the server bundled for Node and started with
 * `node`, both of the bench's clients (the wire-level one and socket.io-client) connecting,
 * subscribing with an ack and receiving a published plan. Across two instances through the Redis
 * adapter when TEST_REDIS_URL is set; otherwise one instance on Socket.IO's in-memory adapter.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { newRecorder } from "../live/clients.ts";
import { type SocketIoClient, startSocketIo } from "../live/socketio.ts";
import type { Baseline } from "../live/targets.ts";

const redisUrl = process.env.TEST_REDIS_URL ?? "";

for (const client of ["wire", "socket.io-client"] as const satisfies SocketIoClient[]) {
  describe(`Socket.IO baseline, ${client} client`, () => {
    let target: Baseline;
    let workDir = "";
    beforeAll(async () => {
      workDir = mkdtempSync(join(tmpdir(), "rapt-sio-test-"));
      target = await startSocketIo({ redisUrl, logDir: workDir, workDir, client });
    });
    afterAll(async () => {
      await target?.stop();
      rmSync(workDir, { recursive: true, force: true });
    });
    // With Redis the watcher is on the other instance, so the frames cross the adapter.
    const watchingInstance = () => (redisUrl ? target.b : target.a);

    test("a watcher gets every event of its room, in order, and nothing of another room", async () => {
      const recorder = newRecorder();
      const room = `session:${crypto.randomUUID()}`;
      const other = `session:${crypto.randomUUID()}`;
      const watcher = await target.watch(watchingInstance(), null, room, recorder, new Set([room]));
      const elsewhere = newRecorder();
      const bystander = await target.watch(watchingInstance(), null, other, elsewhere);
      const events = ["message.delta", "message.delta", "message.completed"].map((event, i) => ({ delayMs: i * 5, bytes: 300, event }));
      const published = await target.publish({ paced: true, rooms: [{ room, events }] });
      expect(published.published).toBe(3);
      await watcher.completed(room);
      expect(watcher.done.has(room)).toBe(true);
      expect(recorder.events).toBe(3);
      expect(recorder.latencies).toHaveLength(2);
      expect(recorder.timelines.get(room)?.map((e) => e.event)).toEqual(["message.delta", "message.delta", "message.completed"]);
      expect(elsewhere.events).toBe(0);
      watcher.close();
      bystander.close();
    });

    test("an idle socket connects and is seen closed after close()", async () => {
      const socket = await target.idle(watchingInstance(), null);
      expect(socket.closed).toBeNull();
      socket.close();
      for (let i = 0; i < 50 && socket.closed === null; i++) await Bun.sleep(20);
      expect(socket.closed).not.toBeNull();
    });

    test("a request other than subscribe is refused", async () => {
      const socket = await target.idle(watchingInstance(), null);
      await expect(socket.request({ type: "message.send", content: "hi" })).rejects.toThrow("only answers subscribe");
      socket.close();
    });
  });
}
