import { beforeAll, describe, expect, test } from "bun:test";
import { messages } from "@raptscallions/db";
import { makeSchoolScene, makeSession, type SchoolScene } from "@raptscallions/db/testing";
import { asc, eq } from "drizzle-orm";
import { pinDevModel } from "./helpers/ai.ts";
import { useHarness } from "./helpers/harness.ts";
import { useDeployment, useDevModel } from "./helpers/deployment.ts";
import { connect, type Instance, restCall } from "./helpers/live.ts";

/**
 * A failed answer is retried by resending its clientMessageId: a new answer for the stored
 * message, the failed one kept as it was; idempotent once an answer streams or completed; not
 * once the student has moved on.
 */
const h = useHarness();
const dev = useDevModel(h, 300);
const local = useDeployment(h, dev);
let a: Instance;

beforeAll(async () => {
  a = await local.start();
}, 60_000);

async function failingScene(): Promise<{ scene: SchoolScene; sessionId: string }> {
  const scene = await makeSchoolScene(h.db.db);
  await pinDevModel(h.db.db, scene.district.id, { model: { behaviour: "dev-fail-before" } });
  const session = await makeSession(h.db.db, { toolId: scene.tool.id, studentId: scene.student.id, groupId: scene.department.id, classId: scene.cls.id });
  return { scene, sessionId: session.id };
}

async function send(scene: SchoolScene, sessionId: string, clientMessageId: string, content: string) {
  const res = await restCall(a, scene.student, "POST", `/api/sessions/${sessionId}/messages`, { clientMessageId, content });
  const answer = res.body.answer as { id: string; state: string; meta: Record<string, unknown> } | null;
  if (answer) await a.app.realtime.runner.settled(answer.id);
  return { ...res, answer };
}

const rowsOf = (sessionId: string) => h.db.db.select().from(messages).where(eq(messages.sessionId, sessionId)).orderBy(asc(messages.seq));

describe("retrying a failed answer", () => {
  test("resending the clientMessageId starts a new answer for the stored message; once it completes the resend is a plain duplicate", async () => {
    const { scene, sessionId } = await failingScene();
    const first = await send(scene, sessionId, "q1", "Why is the sky blue?");
    expect(first.status).toBe(201);
    const failedId = first.answer?.id ?? "";
    expect((await rowsOf(sessionId)).map((m) => [m.role, m.state])).toEqual([
      ["user", null],
      ["assistant", "failed"],
    ]);

    await pinDevModel(h.db.db, scene.district.id);
    const student = await connect(a, scene.student);
    await student.request({ type: "subscribe", room: `session:${sessionId}`, lastOffset: 0 });
    const ack = await student.request({ type: "message.send", sessionId, clientMessageId: "q1", content: "Why is the sky blue?" });
    expect(ack.type).toBe("ack");
    const result = ack.result as { messageId: string; answerId: string; duplicate: boolean; retried: boolean };
    expect(result).toMatchObject({ messageId: (await rowsOf(sessionId))[0]?.id, duplicate: true, retried: true });
    expect(result.answerId).not.toBe(failedId);
    const done = await student.next(
      (f) => f.type === "event" && f.event === "message.completed" && (f.payload as { message: { id: string } }).message.id === result.answerId,
      15_000,
    );
    const answer = (done.payload as { message: { state: string; content: string; meta: Record<string, unknown> } }).message;
    expect(answer.state).toBe("complete");
    // The model answered the stored question, and the new row says which failure it retries.
    expect(answer.content).toContain("Why is the sky blue?");
    expect(answer.meta).toMatchObject({ replyTo: result.messageId, retryOf: failedId });
    student.close();

    // The failed answer stays as it was, finalised once; the transcript reads question, failure, answer.
    expect((await rowsOf(sessionId)).map((m) => [m.id, m.role, m.state])).toEqual([
      [result.messageId, "user", null],
      [failedId, "assistant", "failed"],
      [result.answerId, "assistant", "complete"],
    ]);
    const again = await send(scene, sessionId, "q1", "Why is the sky blue?");
    expect(again.status).toBe(200);
    expect(again.body).toMatchObject({ duplicate: true, retried: false, answer: { id: result.answerId, state: "complete" } });
    expect(await rowsOf(sessionId)).toHaveLength(3);
  });

  test("a failure retried while still failing fails again, and is retried again later", async () => {
    const { scene, sessionId } = await failingScene();
    const first = await send(scene, sessionId, "q1", "What is a prime number?");
    const second = await send(scene, sessionId, "q1", "What is a prime number?");
    expect(second.status).toBe(201);
    expect(second.body).toMatchObject({ duplicate: true, retried: true });
    expect(second.answer?.id).not.toBe(first.answer?.id);
    expect((await rowsOf(sessionId)).map((m) => m.state)).toEqual([null, "failed", "failed"]);
    await pinDevModel(h.db.db, scene.district.id);
    const third = await send(scene, sessionId, "q1", "What is a prime number?");
    expect(third.body).toMatchObject({ retried: true });
    expect((await rowsOf(sessionId)).map((m) => m.state)).toEqual([null, "failed", "failed", "complete"]);
  });

  test("once the student has sent another message, resending the failed one returns it unchanged", async () => {
    const { scene, sessionId } = await failingScene();
    const first = await send(scene, sessionId, "q1", "Explain photosynthesis");
    await pinDevModel(h.db.db, scene.district.id);
    await send(scene, sessionId, "q2", "Never mind, what is chlorophyll?");
    const stale = await send(scene, sessionId, "q1", "Explain photosynthesis");
    expect(stale.status).toBe(200);
    expect(stale.body).toMatchObject({ duplicate: true, retried: false, answer: { id: first.answer?.id, state: "failed" } });
    expect(await rowsOf(sessionId)).toHaveLength(4);
  });
});
