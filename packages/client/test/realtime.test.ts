import { beforeAll, describe, expect, test } from "bun:test";
import { messages } from "@raptscallions/db";
import { makeExtraction, makeSchoolScene, makeSession, type SchoolScene } from "@raptscallions/db/testing";
import { and, eq } from "drizzle-orm";
import { useHarness } from "../../../apps/api/test/helpers/harness.ts";
import { deploymentTransports, useDeployment, useDevModel } from "../../../apps/api/test/helpers/deployment.ts";
import { finishedAnswer, type Instance } from "../../../apps/api/test/helpers/live.ts";
import { alertIdOf, type RealtimeClient } from "../src/index.ts";
import { clientFor, eventually, onlyOnce, routed, seeded, type SocketTap, tappedWebSocket, trackClients } from "./helpers.ts";

const h = useHarness();
const dev = useDevModel(h, 150);

const finalRow = (answerId: string) => finishedAnswer(h.db.db, answerId, 15_000);

/** Waits until the client holds the answer as final, then checks it against the stored row. */
async function expectStoredAnswer(client: RealtimeClient, sessionId: string, answerId: string) {
  const row = await finalRow(answerId);
  const store = client.session(sessionId);
  await eventually(() => store.get().messages.find((m) => m.id === answerId && m.state !== "streaming"), "the client to hold the final answer");
  const held = onlyOnce(store.get().messages, answerId);
  expect(held.content).toBe(row.content);
  expect(held.state).toBe(row.state);
  return row;
}

for (const [name, skip] of deploymentTransports())
  describe.skipIf(skip)(`client over real sockets (${name})`, () => {
    const d = useDeployment(h, dev, name);
    let a: Instance;
    let b: Instance;
    let scene: SchoolScene;
    const track = trackClients(d);

    beforeAll(async () => {
      a = await d.start();
      b = await d.start();
      scene = await makeSchoolScene(h.db.db);
    }, 30_000);

    async function newSession(student: RealtimeClient) {
      const { session } = await student.rest("startSession", { body: { toolId: scene.tool.id, classId: scene.cls.id } });
      return session.id;
    }

    test("a watcher cut at random points during answers ends with exactly the stored text, once", async () => {
      const random = seeded(0x5eed);
      const tap: SocketTap = { sockets: [] };
      let cuts = 0;
      let deltasUntilCut = 1 + Math.floor(random() * 6);
      tap.onMessage = (ws, data) => {
        if (!data.includes('"message.delta"')) return;
        if (--deltasUntilCut > 0) return;
        deltasUntilCut = 1 + Math.floor(random() * 6);
        cuts++;
        ws.close();
      };
      const student = track(clientFor(scene.student, { baseUrl: a.baseUrl }));
      const teacher = track(clientFor(scene.teacher, { baseUrl: b.baseUrl, WebSocket: tappedWebSocket(tap), random }));
      student.connect();
      teacher.connect();
      const sessionId = await newSession(student);
      const watched = teacher.session(sessionId);
      student.session(sessionId);
      // Every state the UI sees holds the answer's text as a prefix of the final text: it grows in place, never doubled.
      const seen: { id: string; content: string }[] = [];
      watched.subscribe((s) => {
        for (const m of s.messages) if (m.role === "assistant") seen.push({ id: m.id, content: m.content });
      });
      await eventually(() => watched.get().status === "live", "the watcher to join");

      const questions = [
        "What is photosynthesis?",
        "Why do leaves change colour?",
        "How do roots take up water?",
        "What do stomata do?",
        "Where does the oxygen come from?",
        "Why do plants need light?",
        "What is chlorophyll made of?",
        "How do seeds store energy?",
      ];
      // Answers until the socket has been cut at least 30 times (about four cuts per answer with
      // this seed; fewer when the machine is slow and deltas coalesce into fewer frames).
      const asked: string[] = [];
      for (let i = 0; cuts < 30; i++) {
        if (i >= 24) throw new Error(`only ${cuts} cuts in ${i} answers`);
        const content = `${questions[i % questions.length]} (${i + 1})`;
        asked.push(content);
        const sent = await student.sendMessage({ sessionId, content, clientMessageId: `q-${i}` });
        expect(sent.duplicate).toBe(false);
        const answerId = sent.answerId;
        if (!answerId) throw new Error("no answer started");
        const row = await expectStoredAnswer(teacher, sessionId, answerId);
        expect(row.state).toBe("complete");
        for (const s of seen.filter((x) => x.id === answerId)) expect(row.content.startsWith(s.content)).toBe(true);
      }
      expect(cuts).toBeGreaterThanOrEqual(30);
      const held = watched.get().messages;
      expect(new Set(held.map((m) => m.id)).size).toBe(held.length);
      expect(held.filter((m) => m.role === "user").map((m) => m.content)).toEqual(asked);
      expect(held.map((m) => m.seq)).toEqual([...held.map((m) => m.seq)].sort((x, y) => x - y));
    }, 180_000);

    test("a send repeated across a reconnect stores one message", async () => {
      const tap: SocketTap = { sockets: [] };
      let ackSwallowed = false;
      let sends = 0;
      // The server stores the first send, but its ack dies with the socket; the second copy never leaves.
      tap.onMessage = (ws, data) => {
        if (ackSwallowed || !data.includes('"for":"message.send"')) return;
        ackSwallowed = true;
        ws.close();
        return "swallow";
      };
      tap.onSend = (ws, data) => {
        if (!data.includes('"message.send"')) return "pass";
        sends++;
        if (sends !== 2) return "pass";
        ws.close();
        return "drop";
      };
      const student = track(clientFor(scene.student, { baseUrl: a.baseUrl, WebSocket: tappedWebSocket(tap) }));
      student.connect();
      const sessionId = await newSession(student);
      student.session(sessionId);
      const sending = student.sendMessage({ sessionId, content: "Is a virus alive?", clientMessageId: "repeat-1" });
      const sent = await sending;
      expect(ackSwallowed).toBe(true);
      expect(sends).toBe(3);
      expect(sent.duplicate).toBe(true);
      expect(student.pendingSends()).toBe(0);
      const rows = await h.db.db
        .select()
        .from(messages)
        .where(and(eq(messages.sessionId, sessionId), eq(messages.clientMessageId, "repeat-1")));
      expect(rows.length).toBe(1);
      expect(rows[0]?.id).toBe(sent.messageId);
      // The duplicate starts nothing: one answer, the original send's.
      const answers = await h.db.db
        .select()
        .from(messages)
        .where(and(eq(messages.sessionId, sessionId), eq(messages.role, "assistant")));
      expect(answers.length).toBe(1);
      await expectStoredAnswer(student, sessionId, answers[0]?.id ?? "");
      const held = student.session(sessionId).get().messages;
      expect(held.filter((m) => m.clientMessageId === "repeat-1").length).toBe(1);
    }, 60_000);

    test("an instance restarted mid-answer: the watcher resumes on another and ends with the stored text", async () => {
      const doomed = await d.start();
      let alive = doomed;
      const route = routed(() => alive);
      const tap: SocketTap = { sockets: [] };
      const student = track(clientFor(scene.student, { baseUrl: route.baseUrl, fetch: route.fetch, WebSocket: tappedWebSocket(tap, route.rewriteWs) }));
      const teacher = track(clientFor(scene.teacher, { baseUrl: route.baseUrl, fetch: route.fetch, WebSocket: tappedWebSocket(tap, route.rewriteWs) }));
      student.connect();
      teacher.connect();
      const sessionId = await newSession(student);
      const watched = teacher.session(sessionId);
      await eventually(() => watched.get().status === "live", "the watcher to join");
      const sent = await student.sendMessage({ sessionId, content: "Explain the water cycle step by step", clientMessageId: "r-1" });
      const answerId = sent.answerId ?? "";
      await eventually(() => (watched.message(answerId)?.content.length ?? 0) > 20, "part of the answer to arrive");
      const statuses: string[] = [];
      teacher.connection.subscribe((s) => statuses.push(s.status));
      alive = b;
      await doomed.stop();
      const row = await expectStoredAnswer(teacher, sessionId, answerId);
      expect(["complete", "interrupted"]).toContain(String(row.state));
      expect(statuses).toContain("offline");
      await eventually(() => teacher.connection.get().status === "live", "the watcher to be live again");
      // The student's next message goes through the surviving instance.
      const next = await student.sendMessage({ sessionId, content: "And then what happens?", clientMessageId: "r-2" });
      await expectStoredAnswer(teacher, sessionId, next.answerId ?? "");
    }, 60_000);
  });

describe("client: the reset path", () => {
  // A replay buffer of two events: a watcher away for a whole answer cannot be replayed to, so
  // the server answers `reset` and the client reloads over REST.
  const d = useDeployment(h, dev, "in-process bus", { replayLimit: 2 });
  let a: Instance;
  let scene: SchoolScene;
  const createClientTracked = trackClients(d);
  beforeAll(async () => {
    // No lingering room feed: a watcher away for a whole answer must meet the trimmed buffer.
    a = await d.start({ live: { feedLingerMs: 0 } });
    scene = await makeSchoolScene(h.db.db);
  }, 30_000);

  test("reset reloads over REST and continues after latestOffset", async () => {
    const frames: string[] = [];
    const tap: SocketTap = { sockets: [], onMessage: (_ws, data) => void frames.push(data) };
    const student = createClientTracked(clientFor(scene.student, { baseUrl: a.baseUrl }));
    const teacher = createClientTracked(clientFor(scene.teacher, { baseUrl: a.baseUrl, WebSocket: tappedWebSocket(tap) }));
    student.connect();
    teacher.connect();
    const { session } = await student.rest("startSession", { body: { toolId: scene.tool.id, classId: scene.cls.id } });
    const watched = teacher.session(session.id);
    await eventually(() => watched.get().status === "live", "the watcher to join");
    const first = await student.sendMessage({ sessionId: session.id, content: "What is a cell?", clientMessageId: "x-1" });
    await expectStoredAnswer(teacher, session.id, first.answerId ?? "");

    // Away for a whole answer: far more than two events go by.
    teacher.disconnect();
    const second = await student.sendMessage({ sessionId: session.id, content: "What is a nucleus?", clientMessageId: "x-2" });
    await finalRow(second.answerId ?? "");
    teacher.connect();
    await eventually(() => frames.some((f) => f.includes('"type":"reset"')), "a reset frame");
    await expectStoredAnswer(teacher, session.id, second.answerId ?? "");
    await eventually(() => watched.get().status === "live", "the room to be live after the reload");
    const held = watched.get().messages;
    expect(held.map((m) => m.clientMessageId).filter(Boolean)).toEqual(["x-1", "x-2"]);

    // Live again after latestOffset: the next answer streams in as usual.
    const third = await student.sendMessage({ sessionId: session.id, content: "What is a ribosome?", clientMessageId: "x-3" });
    await expectStoredAnswer(teacher, session.id, third.answerId ?? "");
    expect(watched.get().messages.length).toBe(6);
  }, 60_000);

  test("a class room loads presence and open alerts on join, and reloads them after a reset", async () => {
    const frames: string[] = [];
    const tap: SocketTap = { sockets: [], onMessage: (_ws, data) => void frames.push(data) };
    const teacher = createClientTracked(clientFor(scene.teacher, { baseUrl: a.baseUrl, WebSocket: tappedWebSocket(tap) }));
    const before = await makeExtraction(h.db.db, {
      sessionId: (await makeSession(h.db.db, { toolId: scene.tool.id, studentId: scene.student.id, groupId: scene.department.id, classId: scene.cls.id })).id,
      classId: scene.cls.id,
      groupId: scene.department.id,
    });
    teacher.connect();
    const live = teacher.classRoom(scene.cls.id);
    // First join: the open alert raised before the teacher came is there, from REST.
    await eventually(() => live.get().status === "live" && live.get().alerts.some((x) => alertIdOf(x) === before.id), "the open alert on join").catch((err) => {
      throw new Error(`${err}: ${JSON.stringify({ ...live.get(), messages: undefined })}`);
    });
    expect(live.get().presence[scene.teacher.id]?.online).toBe(true);

    // Away while a student comes online and an answer streams: far more than two class events.
    teacher.disconnect();
    const student = createClientTracked(clientFor(scene.student, { baseUrl: a.baseUrl }));
    student.connect();
    const { session } = await student.rest("startSession", { body: { toolId: scene.tool.id, classId: scene.cls.id } });
    student.session(session.id);
    const sent = await student.sendMessage({ sessionId: session.id, content: "What is osmosis?", clientMessageId: "cls-1" });
    await finalRow(sent.answerId ?? "");
    const during = await makeExtraction(h.db.db, { sessionId: session.id, classId: scene.cls.id, groupId: scene.department.id });
    const resetsBefore = frames.filter((f) => f.includes('"type":"reset"')).length;
    teacher.connect();
    await eventually(() => frames.filter((f) => f.includes('"type":"reset"')).length > resetsBefore, "a reset frame for the class room");
    await eventually(() => live.get().status === "live" && live.get().alerts.some((x) => alertIdOf(x) === during.id), "the alert raised while away");
    expect(live.get().presence[scene.student.id]?.online).toBe(true);
    // One entry per alert, however many times it was loaded.
    expect(live.get().alerts.filter((x) => alertIdOf(x) === before.id)).toHaveLength(1);
    await eventually(() => teacher.connection.get().status === "live", "the connection to be live");
  }, 60_000);

  test("ackAlert goes over the socket while it is live, over REST when it is not", async () => {
    const sent: string[] = [];
    const tap: SocketTap = {
      sockets: [],
      onSend: (_ws, data) => {
        sent.push(data);
        return "pass";
      },
    };
    const teacher = createClientTracked(clientFor(scene.teacher, { baseUrl: a.baseUrl, WebSocket: tappedWebSocket(tap) }));
    const raise = async () =>
      makeExtraction(h.db.db, {
        sessionId: (await makeSession(h.db.db, { toolId: scene.tool.id, studentId: scene.student.id, groupId: scene.department.id, classId: scene.cls.id })).id,
        classId: scene.cls.id,
        groupId: scene.department.id,
      });

    const overSocket = await raise();
    teacher.connect();
    await eventually(() => teacher.connection.get().status === "live", "the connection to be live");
    const acked = await teacher.ackAlert(overSocket.id);
    expect(acked).toMatchObject({ id: overSocket.id, status: "acknowledged", resolvedBy: scene.teacher.id });
    expect(sent.filter((f) => f.includes('"alert.ack"') && f.includes(overSocket.id))).toHaveLength(1);

    teacher.disconnect();
    const overRest = await raise();
    const before = sent.length;
    const ackedByRest = await teacher.ackAlert(overRest.id);
    expect(ackedByRest).toMatchObject({ id: overRest.id, status: "acknowledged", resolvedBy: scene.teacher.id });
    expect(sent.length).toBe(before);
    // An alert that does not exist is refused the same way on either path.
    await expect(teacher.ackAlert(crypto.randomUUID())).rejects.toMatchObject({ code: "NOT_FOUND" });
  }, 60_000);
});
