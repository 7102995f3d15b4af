import { beforeAll, describe, expect, test } from "bun:test";
import { connectRedisCluster, createRedisBus, createRedisKeyValueStore, createRedisPresence, type RedisBus, roomKeys, whenReady } from "@raptscallions/bus";
import { messages } from "@raptscallions/db";
import { makeSchoolScene, makeSession, type SchoolScene } from "@raptscallions/db/testing";
import { asc, eq } from "drizzle-orm";
import { CLUSTER, killPrimaryOf, requireCluster } from "../../../packages/bus/test/cluster.ts";
import { eventually } from "@raptscallions/core/testing";
import { useHarness } from "./helpers/harness.ts";
import { connect, ensureDevModels, finishedAnswer, followAnswer, type Instance, restCall, startDevModel, startInstance, type TestClient } from "./helpers/live.ts";

/**
 * A Redis Cluster primary dies while an answer streams: the instance generating it keeps going
 * (it delivers locally while the room's shard is gone), the replica is promoted, and afterwards
 * every watcher either resumes by offset or is told to reload (a reset) — never a silent gap —
 * while the answer and everything before it are stored in Postgres. Needs TEST_REDIS_CLUSTER_NODES.
 */
type Frame = Awaited<ReturnType<TestClient["next"]>>;
type MessageDto = { id: string; state: string; content: string };
type Snapshot = { epoch: string | null; offset: number; payload: { messages: MessageDto[]; streamingMessageId: string | null } };

describe.skipIf(CLUSTER === undefined)("Redis Cluster primary killed mid-answer", () => {
  const h = useHarness();
  let dev: ReturnType<typeof startDevModel>;
  let busA: RedisBus;
  let busB: RedisBus;
  let a: Instance;
  let b: Instance;
  let scene: SchoolScene;
  let restartKilled: () => Promise<void> = async () => undefined;
  const prefix = `fo${crypto.randomUUID().slice(0, 8)}:`;
  const commands = CLUSTER ? connectRedisCluster(requireCluster(), "commands") : undefined;
  commands?.on("error", () => {});

  beforeAll(async () => {
    if (!commands) return;
    await ensureDevModels(h.db);
    // Slow enough that the answer is still streaming through the failover.
    dev = startDevModel(30);
    await whenReady(commands, 10_000);
    const cluster = requireCluster();
    busA = createRedisBus({ cluster, keyPrefix: `${prefix}bus:`, recoveryIntervalMs: 100, onError: () => {} });
    busB = createRedisBus({ cluster, keyPrefix: `${prefix}bus:`, recoveryIntervalMs: 100, onError: () => {} });
    const shared = {
      presence: createRedisPresence({ redis: commands, keyPrefix: `${prefix}presence:` }),
      kv: createRedisKeyValueStore({ redis: commands, keyPrefix: `${prefix}kv:` }),
      gatewayUrl: dev.url,
    };
    a = await startInstance(h.db, { ...shared, bus: () => busA }, { live: { checkpointMs: 1000, heartbeatMs: 1000 } });
    b = await startInstance(h.db, { ...shared, bus: () => busB });
    scene = await makeSchoolScene(h.db.db);
  }, 60_000);

  h.beforeClose(async () => {
    await a?.stop();
    await b?.stop();
    await busA?.close();
    await busB?.close();
    commands?.disconnect();
    dev?.stop();
    await restartKilled();
  });

  test("the answer completes and is stored; watchers on both instances resume or reset, then follow live again", async () => {
    const session = await makeSession(h.db.db, { toolId: scene.tool.id, studentId: scene.student.id, groupId: scene.department.id, classId: scene.cls.id });
    const room = `session:${session.id}`;
    const remote = await connect(b, scene.teacher);
    await remote.request({ type: "subscribe", room, lastOffset: 0 });
    const student = await connect(a, scene.student);
    const first = await student.request({ type: "message.send", sessionId: session.id, clientMessageId: "f0", content: "Hello tutor" });
    expect(first.type).toBe("ack");
    await remote.next((f) => f.type === "event" && f.event === "message.completed", 15_000);

    const ack = await student.request({ type: "message.send", sessionId: session.id, clientMessageId: "f1", content: "What is diffusion?" });
    expect(ack.type).toBe("ack");
    const answerId = (ack.result as { answerId: string }).answerId;
    const isDelta = (f: Frame) => f.type === "event" && f.event === "message.delta" && (f.payload as { messageId: string }).messageId === answerId;
    await remote.next((f) => isDelta(f) && remote.frames.filter(isDelta).length >= 3, 15_000);
    const killedAt = remote.frames.length;

    const killed = await killPrimaryOf(roomKeys(`${prefix}bus:`, room).meta);
    restartKilled = () => killed.restart();
    await killed.waitForFailover();

    // The answer outlives the failover and is stored complete.
    const row = await finishedAnswer(h.db.db, answerId, 30_000);
    expect(row.state).toBe("complete");
    expect(row.content.length).toBeGreaterThan(0);
    await eventually(() => !busA.degraded && !busB.degraded, "both buses back on Redis", 15_000);

    // The watcher on the other instance either saw the answer end in the numbering it followed,
    // or was told to reload. After a reset it reloads over REST and resumes from the snapshot.
    // (Its shard subscriber reconnects to the promoted replica within a few seconds.)
    const isReset = (f: Frame) => f.type === "reset" && f.room === room;
    const isCompleted = (f: Frame) => f.type === "event" && f.event === "message.completed" && (f.payload as { message: MessageDto }).message.id === answerId;
    await remote.next((f) => isReset(f) || isCompleted(f), 20_000, killedAt);
    const after = remote.frames.slice(killedAt);
    const reset = after.find(isReset);
    const completedLive = after.find(isCompleted);
    if (reset) {
      expect((await remote.request({ type: "unsubscribe", room })).type).toBe("ack");
      const { snapshot, resumedAt } = await reloadAndResubscribe(remote, room, session.id);
      const stored = snapshot.payload.messages.find((m) => m.id === answerId);
      if (stored?.state !== "complete") {
        await remote.next((f) => f.type === "event" && f.event === "message.completed", 15_000, resumedAt);
        expect(followAnswer(snapshot, remote.frames.slice(resumedAt), room, answerId).text).toBe(row.content);
      } else {
        expect(stored.content).toBe(row.content);
      }
    } else {
      expect((completedLive?.payload as { message?: MessageDto } | undefined)?.message?.content).toBe(row.content);
    }

    // Nothing stored is lost: both exchanges, in order (by seq: a turn stores its question and answer in one statement, so their createdAt ties), both answers final and non-empty.
    const rows = await h.db.db.select().from(messages).where(eq(messages.sessionId, session.id)).orderBy(asc(messages.seq));
    expect(rows.map((m) => m.role)).toEqual(["user", "assistant", "user", "assistant"]);
    expect(rows.filter((m) => m.role === "assistant").map((m) => [m.state, m.content.length > 0])).toEqual([
      ["complete", true],
      ["complete", true],
    ]);

    // Live across instances again, on the promoted replica.
    const before = remote.frames.length;
    const again = await student.request({ type: "message.send", sessionId: session.id, clientMessageId: "f2", content: "And osmosis?" });
    expect(again).toMatchObject({ type: "ack", result: { duplicate: false } });
    await remote.next((f) => f.type === "event" && f.event === "message.completed", 20_000, before);
    remote.close();
    student.close();
  }, 120_000);

  /**
   * What a client does after a reset: reload over REST, then subscribe from the snapshot. While b's
   * shard subscriber is still moving to the promoted replica, the room's feed on b cannot reach the
   * snapshot's offset, and after waiting for it the subscribe is answered with the protocol's
   * retryable error (503 SERVICE_UNAVAILABLE with retryAfterSeconds, "subscribe again"; under load
   * a DATABASE_TIMEOUT carries the same hint): the client reloads and subscribes again after the
   * hint, as docs/protocol.md says — for 20 s at most. Any other answer fails, showing the frame.
   */
  async function reloadAndResubscribe(client: TestClient, room: string, sessionId: string): Promise<{ snapshot: Snapshot; resumedAt: number }> {
    const deadline = Date.now() + 20_000;
    for (;;) {
      const reloaded = await restCall(b, scene.teacher, "GET", `/api/sessions/${sessionId}/snapshot`);
      expect(reloaded.status).toBe(200);
      const snapshot = reloaded.body as unknown as Snapshot;
      const resumedAt = client.frames.length;
      // The server may wait up to 10 s for its feed to reach the offset before it answers.
      const answer = await client.request({ type: "subscribe", room, lastOffset: snapshot.offset, epoch: snapshot.epoch }, 15_000);
      const retryAfterSeconds = (answer.details as { retryAfterSeconds?: number } | undefined)?.retryAfterSeconds;
      if (answer.type === "error" && retryAfterSeconds !== undefined && Date.now() < deadline) {
        await Bun.sleep(retryAfterSeconds * 1000);
        continue;
      }
      expect(answer).toMatchObject({ type: "ack" });
      return { snapshot, resumedAt };
    }
  }
});
