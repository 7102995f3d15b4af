import { beforeAll, describe, expect, test } from "bun:test";
import { createMemoryBus, createMemoryKeyValueStore, createMemoryPresence } from "@raptscallions/bus";
import { messages } from "@raptscallions/db";
import { makeSchoolScene, makeSession, type SchoolScene } from "@raptscallions/db/testing";
import { eq } from "drizzle-orm";
import { useHarness } from "./helpers/harness.ts";
import { useDevModel } from "./helpers/deployment.ts";
import { connect, followAnswer, type Instance, restCall, startInstance, type TestClient } from "./helpers/live.ts";

/**
 * A room's numbering restarts while an answer streams (on Redis: the instance lost or regained
 * Redis, see live-redis-loss.test.ts; here: the in-process room expired under a clock moved
 * forward). A watcher gets a reset, reloads the snapshot over REST, and must be able to apply
 * every delta that follows, ending with the full text — with the production checkpoint interval,
 * so the reload meets a checkpoint from the old numbering.
 */
type Frame = Awaited<ReturnType<TestClient["next"]>>;

const h = useHarness();
const dev = useDevModel(h, 30);
let a: Instance;
let scene: SchoolScene;
let skewMs = 0;

beforeAll(async () => {
  const hub = createMemoryBus({ roomTtlMs: 60_000, now: () => Date.now() + skewMs, onError: () => {} });
  a = await startInstance(
    h.db,
    { bus: () => hub.node(), kv: createMemoryKeyValueStore(), presence: createMemoryPresence(), gatewayUrl: dev.url },
    { live: { checkpointMs: 1000, heartbeatMs: 1000 } },
  );
  scene = await makeSchoolScene(h.db.db);
}, 60_000);

h.beforeClose(async () => {
  await a.stop();
});

describe("the room's numbering restarts mid-answer", () => {
  test("a watcher that reloads after the reset applies every later delta and ends with the full text", async () => {
    const session = await makeSession(h.db.db, { toolId: scene.tool.id, studentId: scene.student.id, groupId: scene.department.id, classId: scene.cls.id });
    const room = `session:${session.id}`;
    const watcher = await connect(a, scene.teacher);
    await watcher.request({ type: "subscribe", room, lastOffset: 0 });
    const sent = await restCall(a, scene.student, "POST", `/api/sessions/${session.id}/messages`, { clientMessageId: "n1", content: "What is diffusion?" });
    expect(sent.status).toBe(201);
    const answerId = (sent.body.answer as { id: string }).id;
    const isDelta = (f: Frame) => f.type === "event" && f.event === "message.delta" && (f.payload as { messageId: string }).messageId === answerId;
    await watcher.next((f) => isDelta(f) && watcher.frames.filter(isDelta).length >= 3, 15_000);
    const before = watcher.frames.length;
    // The room idles past its TTL as far as the bus can tell: the next delta starts a new numbering.
    skewMs = 120_000;

    await watcher.next((f) => f.type === "reset" && f.room === room, 10_000, before);
    expect((await watcher.request({ type: "unsubscribe", room })).type).toBe("ack");
    const reloaded = await restCall(a, scene.teacher, "GET", `/api/sessions/${session.id}/snapshot`);
    expect(reloaded.status).toBe(200);
    const snapshot = reloaded.body as unknown as { epoch: string | null; offset: number; payload: { messages: { id: string; state: string; content: string }[] } };
    const resumedAt = watcher.frames.length;
    expect((await watcher.request({ type: "subscribe", room, lastOffset: snapshot.offset, epoch: snapshot.epoch })).type).toBe("ack");
    const done = await watcher.next(
      (f) => f.type === "event" && f.event === "message.completed" && (f.payload as { message: { id: string } }).message.id === answerId,
      15_000,
      resumedAt,
    );
    const final = (done.payload as { message: { state: string; content: string } }).message;
    expect(final.state).toBe("complete");
    const followed = followAnswer(snapshot, watcher.frames.slice(resumedAt), room, answerId);
    expect(followed.unapplied).toBe(0);
    expect(followed.text).toBe(final.content);
    expect((await h.db.db.select().from(messages).where(eq(messages.id, answerId)))[0]?.content).toBe(final.content);
    watcher.close();
  }, 60_000);
});
