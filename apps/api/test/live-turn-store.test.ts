// How a chat turn is written: the message pair in one statement (seq claim + both rows), the
// answer's finalisation with its ai_usage row in one statement. What must not change with it:
// dense seqs, SESSION_BUSY, one usage row per answer matching the answer's own accounting.
import { beforeAll, describe, expect, test } from "bun:test";
import { aiUsage, extractions, groups, messages, sessions } from "@raptscallions/db";
import { makeSchoolScene, type SchoolScene } from "@raptscallions/db/testing";
import { asc, eq } from "drizzle-orm";
import { authHeader } from "./helpers/auth.ts";
import { useHarness } from "./helpers/harness.ts";
import { useDeployment, useDevModel } from "./helpers/deployment.ts";
import { connect, finishedAnswer, type Instance } from "./helpers/live.ts";

const h = useHarness();
// Slow enough (an answer takes seconds) that every concurrent send below meets it streaming.
const dev = useDevModel(h, 15);
const local = useDeployment(h, dev);
let a: Instance;
let scene: SchoolScene;

beforeAll(async () => {
  a = await local.start();
  scene = await makeSchoolScene(h.db.db);
}, 60_000);

async function newSession(on: SchoolScene = scene): Promise<string> {
  const res = await fetch(`${a.baseUrl}/api/sessions`, {
    method: "POST",
    headers: { ...(await authHeader(on.student)), "content-type": "application/json" },
    body: JSON.stringify({ toolId: on.tool.id, classId: on.cls.id }),
  });
  expect(res.status).toBe(201);
  return ((await res.json()) as { session: { id: string } }).session.id;
}

const answerIdOf = (ack: { type: string; [k: string]: unknown }) => (ack.result as { answerId: string }).answerId;

describe("storing a chat turn", () => {
  test("concurrent sends to one session: one is stored, the others are SESSION_BUSY and claim no seq", async () => {
    const sessionId = await newSession();
    const student = await connect(a, scene.student);
    const sends = await Promise.all(
      Array.from({ length: 6 }, (_, i) => student.request({ type: "message.send", sessionId, clientMessageId: `c${i}`, content: `Question number ${i} about cells` })),
    );
    const acks = sends.filter((f) => f.type === "ack");
    expect(acks).toHaveLength(1);
    for (const f of sends.filter((s) => s.type !== "ack")) expect(f).toMatchObject({ type: "error", code: "SESSION_BUSY" });
    // The answer is stopped rather than waited for: at the model's slow pace it would stream for seconds.
    await student.request({ type: "generation.stop", sessionId });
    expect(await finishedAnswer(h.db.db, answerIdOf(acks[0] ?? { type: "none" }), 15_000)).toMatchObject({ state: "stopped" });
    // A refused send rolled its claim back with its statement: the next turn continues at 3.
    const next = await student.request({ type: "message.send", sessionId, clientMessageId: "after", content: "And what about plants?" });
    expect(next.type).toBe("ack");
    await student.request({ type: "generation.stop", sessionId });
    expect(await finishedAnswer(h.db.db, answerIdOf(next), 15_000)).toMatchObject({ state: "stopped" });
    const rows = await h.db.db.select({ seq: messages.seq, role: messages.role }).from(messages).where(eq(messages.sessionId, sessionId)).orderBy(asc(messages.seq));
    expect(rows).toEqual([
      { seq: 1, role: "user" },
      { seq: 2, role: "assistant" },
      { seq: 3, role: "user" },
      { seq: 4, role: "assistant" },
    ]);
    const [session] = await h.db.db.select({ lastSeq: sessions.lastSeq }).from(sessions).where(eq(sessions.id, sessionId));
    expect(session?.lastSeq).toBe(4);
    student.close();
  });

  test("a send to an ended session is refused as ended and stores nothing", async () => {
    const sessionId = await newSession();
    await h.db.db.update(sessions).set({ state: "completed" }).where(eq(sessions.id, sessionId));
    const student = await connect(a, scene.student);
    const refused = await student.request({ type: "message.send", sessionId, clientMessageId: "late", content: "Is anyone there?" });
    expect(refused).toMatchObject({ type: "error", code: "SESSION_ENDED" });
    expect(await h.db.db.select().from(messages).where(eq(messages.sessionId, sessionId))).toHaveLength(0);
    student.close();
  });
});

describe("a turn's quiet findings", () => {
  // Only the struggle detector speaks here (its findings are never alerts on a first "I don't
  // get it"): the safety filter, whose alerts take the transaction, is off for this school.
  let quiet: SchoolScene;
  beforeAll(async () => {
    quiet = await makeSchoolScene(h.db.db);
    await h.db.db
      .update(groups)
      .set({ settings: { modules: { "safety-filter": { enabled: false } } } })
      .where(eq(groups.id, quiet.school.id));
  });

  test("are stored by the turn's statement on the student's message, and their event names the row", async () => {
    const sessionId = await newSession(quiet);
    const student = await connect(a, quiet.student);
    const teacher = await connect(a, quiet.teacher);
    await teacher.request({ type: "subscribe", room: `class:${quiet.cls.id}` });
    const ack = await student.request({ type: "message.send", sessionId, clientMessageId: "lost", content: "I don't get it" });
    expect(ack.type).toBe("ack");
    const event = await teacher.next((f) => f.type === "event" && f.event === "struggle");
    await finishedAnswer(h.db.db, answerIdOf(ack), 15_000);
    const [user] = await h.db.db.select().from(messages).where(eq(messages.sessionId, sessionId)).orderBy(asc(messages.seq));
    const rows = await h.db.db.select().from(extractions).where(eq(extractions.sessionId, sessionId));
    expect(rows).toHaveLength(1);
    const row = rows[0];
    expect(row).toMatchObject({ module: "struggle-detector", isAlert: false, messageId: user?.id, classId: quiet.cls.id, groupId: quiet.cls.groupId, status: "open" });
    expect(row?.createdAt).toBeInstanceOf(Date);
    expect(typeof row?.data.message).toBe("string");
    expect(event.payload).toMatchObject({ sessionId, studentId: quiet.student.id, isAlert: false, findingId: row?.id });
    student.close();
    teacher.close();
  });

  test("a send refused as SESSION_BUSY stores none of its findings", async () => {
    const sessionId = await newSession(quiet);
    const student = await connect(a, quiet.student);
    const sends = await Promise.all(
      Array.from({ length: 4 }, (_, i) => student.request({ type: "message.send", sessionId, clientMessageId: `q${i}`, content: "I don't get it" })),
    );
    const acks = sends.filter((f) => f.type === "ack");
    expect(acks).toHaveLength(1);
    for (const f of sends.filter((s) => s.type !== "ack")) expect(f).toMatchObject({ type: "error", code: "SESSION_BUSY" });
    await finishedAnswer(h.db.db, answerIdOf(acks[0] ?? { type: "none" }), 15_000);
    const rows = await h.db.db.select({ messageId: extractions.messageId }).from(extractions).where(eq(extractions.sessionId, sessionId));
    const [user] = await h.db.db.select().from(messages).where(eq(messages.sessionId, sessionId)).orderBy(asc(messages.seq));
    expect(rows).toEqual([{ messageId: user?.id ?? "none" }]);
    student.close();
  });
});

describe("finalising an answer", () => {
  test("writes exactly one ai_usage row with the answer, matching the answer's own accounting", async () => {
    const sessionId = await newSession();
    const student = await connect(a, scene.student);
    const ack = await student.request({ type: "message.send", sessionId, clientMessageId: "u1", content: "Explain osmosis to me" });
    expect(ack.type).toBe("ack");
    const answerId = answerIdOf(ack);
    const answer = await finishedAnswer(h.db.db, answerId, 15_000);
    await a.app.realtime.runner.settled(answerId);
    expect(answer.state).toBe("complete");
    const usage = await h.db.db.select().from(aiUsage).where(eq(aiUsage.messageId, answerId));
    expect(usage).toHaveLength(1);
    expect(usage[0]).toMatchObject({
      sessionId,
      userId: scene.student.id,
      groupId: scene.department.id,
      classId: scene.cls.id,
      toolId: scene.tool.id,
      status: "complete",
      estimated: false,
      model: answer.meta.model,
      inputTokens: answer.meta.inputTokens,
      outputTokens: answer.meta.outputTokens,
      costUsd: answer.meta.costUsd,
    });
    expect(usage[0]?.outputTokens).toBeGreaterThan(0);
    student.close();
  });

  test("an answer someone else finalised first keeps their state, and this instance adds no usage row (the finaliser that won writes the call's one)", async () => {
    const sessionId = await newSession();
    const student = await connect(a, scene.student);
    await student.request({ type: "subscribe", room: `session:${sessionId}`, lastOffset: 0 });
    const ack = await student.request({ type: "message.send", sessionId, clientMessageId: "u1", content: "Tell me everything about mitochondria" });
    const answerId = answerIdOf(ack);
    await student.next((f) => f.type === "event" && f.event === "message.delta");
    // As the sweeper does for an answer it believes orphaned.
    await h.db.db.update(messages).set({ state: "interrupted", finalizedAt: new Date(), streamOwner: null }).where(eq(messages.id, answerId));
    await a.app.realtime.runner.settled(answerId);
    const [row] = await h.db.db.select().from(messages).where(eq(messages.id, answerId));
    expect(row?.state).toBe("interrupted");
    // The sweeper writes its estimated row when it finalises (live-crash-limits.test.ts); this
    // stand-in did not, so a row here could only be the late runner's second one.
    expect(await h.db.db.select().from(aiUsage).where(eq(aiUsage.messageId, answerId))).toHaveLength(0);
    student.close();
  });
});
