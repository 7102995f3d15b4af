import { beforeAll, describe, expect, test } from "bun:test";
import { messages } from "@raptscallions/db";
import { makeSchoolScene, type SchoolScene } from "@raptscallions/db/testing";
import { eq } from "drizzle-orm";
import { pinDevModel } from "./helpers/ai.ts";
import { authHeader } from "./helpers/auth.ts";
import { useHarness } from "./helpers/harness.ts";
import { deploymentTransports, useDeployment, useDevModel } from "./helpers/deployment.ts";
import { assertContiguous, connect, type Instance, textFromDeltas } from "./helpers/live.ts";

// How often an answer's text is written to its row: by time (`checkpointMs`, here too long to
// matter) or once the room moved `checkpointEvents` past the last checkpoint. Late joiners resume
// from the newest checkpoint and replay the buffer after it, so either way they get every word.
const h = useHarness();
const dev = useDevModel(h, 150);
const EVERY_EVENTS = 4;

for (const [name, skip] of deploymentTransports())
  describe.skipIf(skip)(`answer checkpoints (${name})`, () => {
    const d = useDeployment(h, dev, name);
    let byEvents: Instance;
    let never: Instance;
    let watching: Instance;
    let scene: SchoolScene;

    beforeAll(async () => {
      byEvents = await d.start({ live: { checkpointMs: 600_000, heartbeatMs: 600_000, checkpointEvents: EVERY_EVENTS } });
      never = await d.start({ live: { checkpointMs: 600_000, heartbeatMs: 600_000, checkpointEvents: 100_000 } });
      watching = await d.start();
      // Paced at 30 tokens/s: the answer streams for seconds, so the checks below land mid-answer.
      scene = await makeSchoolScene(h.db.db);
      await pinDevModel(h.db.db, scene.district.id, { model: { tokensPerSecond: 30 } });
    }, 30_000);

    async function startAnswer(on: Instance, clientMessageId: string) {
      const res = await fetch(`${on.baseUrl}/api/sessions`, {
        method: "POST",
        headers: { ...(await authHeader(scene.student)), "content-type": "application/json" },
        body: JSON.stringify({ toolId: scene.tool.id, classId: scene.cls.id }),
      });
      expect(res.status).toBe(201);
      const sessionId = ((await res.json()) as { session: { id: string } }).session.id;
      const room = `session:${sessionId}`;
      const student = await connect(on, scene.student);
      await student.request({ type: "subscribe", room, lastOffset: 0 });
      const ack = await student.request({ type: "message.send", sessionId, clientMessageId, content: "Why are leaves green? Tell me a lot." });
      const answerId = (ack.result as { answerId: string }).answerId;
      const started = student.events(room).find((e) => e.event === "message.started") as unknown as { offset: number } | undefined;
      return { room, student, answerId, started };
    }

    async function row(answerId: string) {
      const [r] = await h.db.db.select().from(messages).where(eq(messages.id, answerId));
      if (!r) throw new Error("answer row missing");
      return r;
    }

    async function lateJoinerGetsEverything(room: string, answerId: string) {
      const late = await connect(watching, scene.teacher);
      await late.request({ type: "subscribe", room });
      const snapshot = await late.next((f) => f.type === "snapshot");
      const partial = (snapshot.payload as { messages: { id: string; content: string }[] }).messages.find((m) => m.id === answerId);
      await late.next((f) => f.type === "event" && f.event === "message.completed", 20_000);
      const final = await row(answerId);
      expect(final.state).toBe("complete");
      expect(textFromDeltas(late.frames, answerId, partial?.content ?? "")).toBe(final.content);
      assertContiguous(late.frames, room);
      expect((late.events(room)[0] as unknown as { offset: number }).offset).toBe((snapshot.offset as number) + 1);
      late.close();
      return { snapshotText: partial?.content ?? "", snapshotOffset: snapshot.offset as number };
    }

    test("a long answer is checkpointed every few room events, and a late joiner resumes from the newest checkpoint", async () => {
      const { room, student, answerId } = await startAnswer(byEvents, "c1");
      // checkpointMs and the heartbeat are ten minutes: text in the row mid-answer can only come
      // from the event bound.
      const deadline = Date.now() + 20_000;
      let mid = await row(answerId);
      while (!(mid.state === "streaming" && mid.content.length > 0) && Date.now() < deadline) {
        await Bun.sleep(20);
        mid = await row(answerId);
      }
      expect(mid.state).toBe("streaming");
      expect(mid.content.length).toBeGreaterThan(0);
      const started = student.events(room).find((e) => e.event === "message.started") as unknown as { offset: number };
      expect(mid.checkpointOffset ?? 0).toBeGreaterThanOrEqual(started.offset + EVERY_EVENTS);
      const { snapshotText, snapshotOffset } = await lateJoinerGetsEverything(room, answerId);
      expect(snapshotText.length).toBeGreaterThan(0);
      expect(snapshotOffset).toBeGreaterThan(started.offset);
      student.close();
    }, 40_000);

    test("with neither bound reached the row keeps the started checkpoint, and a late joiner replays every delta after it", async () => {
      const { room, student, answerId } = await startAnswer(never, "c2");
      await student.next((f) => f.type === "event" && f.event === "message.delta" && student.events(room).filter((e) => e.event === "message.delta").length >= 3, 15_000);
      const mid = await row(answerId);
      const started = student.events(room).find((e) => e.event === "message.started") as unknown as { offset: number };
      expect(mid.state).toBe("streaming");
      expect(mid.content).toBe("");
      expect(mid.checkpointOffset).toBe(started.offset);
      const { snapshotText, snapshotOffset } = await lateJoinerGetsEverything(room, answerId);
      expect(snapshotText).toBe("");
      expect(snapshotOffset).toBe(started.offset);
      student.close();
    }, 40_000);
  });
