import { beforeAll, describe, expect, test } from "bun:test";
import { aiSettings, aiUsage, auditLog, classMembers, extractions, messages, submissions, users } from "@raptscallions/db";
import { makeAssignment, makeSchoolScene, makeSession, makeUser, type SchoolScene, unique } from "@raptscallions/db/testing";
import { createJobRegistry } from "../src/jobs/index.ts";
import { sweeperJob } from "../src/jobs/sweeper.ts";
import { and, eq } from "drizzle-orm";
import { pinDevModel } from "./helpers/ai.ts";
import { authHeader } from "./helpers/auth.ts";
import { rawWebSocket } from "./helpers/raw-ws.ts";
import { useHarness } from "./helpers/harness.ts";
import { deploymentTransports, useDeployment, useDevModel } from "./helpers/deployment.ts";
import { assertContiguous, connect, type Instance, makeStaleAnswer, restCall as rest, textFromDeltas } from "./helpers/live.ts";

const h = useHarness();
const dev = useDevModel(h, 150);

for (const [name, skip] of deploymentTransports())
  describe.skipIf(skip)(`live sessions over real sockets (${name})`, () => {
    const d = useDeployment(h, dev, name);
    let a: Instance;
    let b: Instance;
    let scene: SchoolScene;

    beforeAll(async () => {
      a = await d.start();
      b = await d.start();
      scene = await makeSchoolScene(h.db.db);
    }, 30_000);

    async function newSession(studentKey: "student" | "otherStudent" = "student") {
      const res = await rest(a, scene[studentKey], "POST", "/api/sessions", { toolId: scene.tool.id, classId: scene.cls.id });
      expect(res.status).toBe(201);
      return (res.body.session as { id: string }).id;
    }

    async function finalRow(answerId: string, timeoutMs = 10_000) {
      const deadline = Date.now() + timeoutMs;
      while (Date.now() < deadline) {
        const [row] = await h.db.db.select().from(messages).where(eq(messages.id, answerId));
        if (row && row.state !== "streaming") return row;
        await Bun.sleep(25);
      }
      throw new Error("answer never finalised");
    }

    test("a ticket works once across instances: issued on A, racing upgrades on A and B open exactly one socket", async () => {
      const upgrade = (on: Instance, ticket: string) =>
        fetch(`${on.baseUrl}/ws?ticket=${ticket}`, {
          headers: { upgrade: "websocket", connection: "upgrade", "sec-websocket-key": "dGhlIHNhbXBsZSBub25jZQ==", "sec-websocket-version": "13" },
        });
      for (let i = 0; i < 5; i++) {
        const res = await fetch(`${a.baseUrl}/api/realtime/tickets`, { method: "POST", headers: await authHeader(scene.student) });
        const { ticket } = (await res.json()) as { ticket: string };
        const answers = await Promise.all([upgrade(a, ticket), upgrade(b, ticket)]);
        const statuses = answers.map((r) => r.status).sort();
        expect(statuses).toEqual([101, 401]);
        const refused = answers.find((r) => r.status === 401) ?? answers[1];
        expect(((await refused.json()) as { error: { code: string } }).error.code).toBe("TICKET_INVALID");
        // Spent on one instance means spent on every instance.
        expect((await upgrade(b, ticket)).status).toBe(401);
        expect((await upgrade(a, ticket)).status).toBe(401);
      }
    });

    test("a teacher on another instance receives every delta in order, matching the stored answer", async () => {
      const sessionId = await newSession();
      const room = `session:${sessionId}`;
      const teacher = await connect(b, scene.teacher);
      const sub = await teacher.request({ type: "subscribe", room });
      expect(sub.type).toBe("ack");
      const student = await connect(a, scene.student);
      await student.request({ type: "subscribe", room, lastOffset: 0 });
      const ack = await student.request({ type: "message.send", sessionId, clientMessageId: "m1", content: "What is photosynthesis?" });
      expect(ack.type).toBe("ack");
      const answerId = (ack.result as { answerId: string }).answerId;
      const done = await teacher.next(
        (f) => f.type === "event" && f.event === "message.completed" && (f.payload as { message: { id: string } }).message.id === answerId,
        15_000,
      );
      const row = await finalRow(answerId);
      expect(row.state).toBe("complete");
      expect(row.content.length).toBeGreaterThan(20);
      expect(textFromDeltas(teacher.frames, answerId)).toBe(row.content);
      expect((done.payload as { message: { content: string } }).message.content).toBe(row.content);
      assertContiguous(teacher.frames, room);
      // Deltas are coalesced: far fewer frames than tokens.
      const deltas = teacher.events(room).filter((f) => f.event === "message.delta").length;
      expect(deltas).toBeGreaterThan(0);
      expect(deltas).toBeLessThan(row.content.split(/\s+/).length);
      expect(row.meta.outputTokens).toBeGreaterThan(0);
      teacher.close();
      student.close();
    });

    test("disconnect and resume mid-answer loses and duplicates nothing", async () => {
      const sessionId = await newSession();
      const room = `session:${sessionId}`;
      const first = await connect(b, scene.teacher);
      await first.request({ type: "subscribe", room, lastOffset: 0 });
      const student = await connect(a, scene.student);
      const ack = await student.request({ type: "message.send", sessionId, clientMessageId: "m1", content: "Explain cell respiration in detail please" });
      const answerId = (ack.result as { answerId: string }).answerId;
      await first.next((f) => f.type === "event" && f.event === "message.delta");
      await first.next((f) => f.type === "event" && f.event === "message.delta", 5000, first.frames.findIndex((f) => f.event === "message.delta") + 1);
      first.close();
      const seen = first.events(room);
      const last = seen[seen.length - 1] as unknown as { offset: number; epoch: string };
      await Bun.sleep(150); // events keep flowing while the watcher is away
      const second = await connect(a, scene.teacher);
      await second.request({ type: "subscribe", room, lastOffset: last.offset, epoch: last.epoch });
      await second.next((f) => f.type === "event" && f.event === "message.completed", 15_000);
      const all = [...seen, ...second.events(room)];
      assertContiguous(all, room);
      const row = await finalRow(answerId);
      expect(textFromDeltas(all, answerId)).toBe(row.content);
      second.close();
      student.close();
    });

    test("a late joiner gets the answer so far, then the tail", async () => {
      // A scene of its own paced at 30 tokens/s: the answer streams for seconds, so a teacher who
      // joins once its first delta is out joins mid-answer however loaded the machine is.
      const paced = await makeSchoolScene(h.db.db);
      await pinDevModel(h.db.db, paced.district.id, { model: { tokensPerSecond: 30 } });
      const created = await rest(a, paced.student, "POST", "/api/sessions", { toolId: paced.tool.id, classId: paced.cls.id });
      expect(created.status).toBe(201);
      const sessionId = (created.body.session as { id: string }).id;
      const room = `session:${sessionId}`;
      const student = await connect(a, paced.student);
      await student.request({ type: "subscribe", room, lastOffset: 0 });
      const ack = await student.request({ type: "message.send", sessionId, clientMessageId: "m1", content: "Why are leaves green? Tell me a lot." });
      const answerId = (ack.result as { answerId: string }).answerId;
      await student.next((f) => f.type === "event" && f.event === "message.delta", 15_000);
      const late = await connect(b, paced.teacher);
      await late.request({ type: "subscribe", room });
      const snapshot = await late.next((f) => f.type === "snapshot");
      const payload = snapshot.payload as { messages: { id: string; content: string; state: string }[]; streamingMessageId: string | null };
      const partial = payload.messages.find((m) => m.id === answerId);
      expect(partial).toBeDefined();
      await late.next((f) => f.type === "event" && f.event === "message.completed", 15_000);
      const row = await finalRow(answerId);
      expect(payload.streamingMessageId).toBe(answerId);
      expect(row.content.startsWith(partial?.content ?? "x")).toBe(true);
      expect(textFromDeltas(late.frames, answerId, partial?.content ?? "")).toBe(row.content);
      assertContiguous(late.frames, room);
      const firstEvent = late.events(room)[0] as unknown as { offset: number };
      expect(firstEvent.offset).toBe((snapshot.offset as number) + 1);
      late.close();
      student.close();
    });

    test("stop aborts the upstream request and the answer ends stopped", async () => {
      const sessionId = await newSession();
      const student = await connect(a, scene.student);
      const watcher = await connect(b, scene.teacher);
      await watcher.request({ type: "subscribe", room: `session:${sessionId}`, lastOffset: 0 });
      const endsBefore = dev.ends.length;
      const ack = await student.request({ type: "message.send", sessionId, clientMessageId: "m1", content: "Tell me everything about mitochondria" });
      const answerId = (ack.result as { answerId: string }).answerId;
      await watcher.next((f) => f.type === "event" && f.event === "message.delta");
      // Stop from the OTHER instance: it must reach the instance running the answer.
      const stop = await watcher.request({ type: "generation.stop", sessionId });
      expect(stop.type).toBe("ack");
      const row = await finalRow(answerId);
      expect(row.state).toBe("stopped");
      const deadline = Date.now() + 3000;
      while (dev.ends.length === endsBefore && Date.now() < deadline) await Bun.sleep(20);
      expect(dev.ends.slice(endsBefore).some((e) => e.outcome === "aborted")).toBe(true);
      student.close();
      watcher.close();
    });

    test("pause refuses student messages, resume allows them, teacher messages reach the student", async () => {
      const sessionId = await newSession();
      const room = `session:${sessionId}`;
      const student = await connect(a, scene.student);
      await student.request({ type: "subscribe", room, lastOffset: 0 });
      const teacher = await connect(b, scene.teacher);
      expect((await teacher.request({ type: "session.pause", sessionId })).type).toBe("ack");
      await student.next((f) => f.type === "event" && f.event === "session.updated");
      const refused = await student.request({ type: "message.send", sessionId, clientMessageId: "p1", content: "hello?" });
      expect(refused).toMatchObject({ type: "error", code: "SESSION_PAUSED" });
      const note = await teacher.request({ type: "teacher.message", sessionId, clientMessageId: "t1", content: "Let's look at chapter 3 together." });
      expect(note.type).toBe("ack");
      const seen = await student.next(
        (f) => f.type === "event" && f.event === "message.created" && (f.payload as { message: { role: string } }).message.role === "teacher",
      );
      expect((seen.payload as { message: { content: string } }).message.content).toBe("Let's look at chapter 3 together.");
      // Students cannot pause, resume or post as a teacher.
      expect(await student.request({ type: "session.resume", sessionId })).toMatchObject({ type: "error", code: "FORBIDDEN" });
      expect(await student.request({ type: "teacher.message", sessionId, clientMessageId: "x", content: "hi" })).toMatchObject({ type: "error", code: "FORBIDDEN" });
      expect((await teacher.request({ type: "session.resume", sessionId })).type).toBe("ack");
      const ok = await student.request({ type: "message.send", sessionId, clientMessageId: "p2", content: "Thanks! What is chlorophyll?" });
      expect(ok.type).toBe("ack");
      await finalRow((ok.result as { answerId: string }).answerId);
      student.close();
      teacher.close();
    });

    test("an unauthorised subscribe is refused", async () => {
      const sessionId = await newSession();
      const other = await connect(a, scene.otherStudent);
      expect(await other.request({ type: "subscribe", room: `session:${sessionId}` })).toMatchObject({ type: "error", code: "NOT_FOUND" });
      expect(await other.request({ type: "subscribe", room: `class:${scene.cls.id}` })).toMatchObject({ type: "error", code: "FORBIDDEN" });
      const stranger = await connect(a, await makeUser(h.db.db));
      expect(await stranger.request({ type: "subscribe", room: `class:${scene.cls.id}` })).toMatchObject({ type: "error", code: "NOT_FOUND" });
      expect(await stranger.request({ type: "message.send", sessionId, clientMessageId: "s", content: "hi" })).toMatchObject({ type: "error", code: "NOT_FOUND" });
      // The connection lives after refusals.
      expect((await other.request({ type: "ping" })).type).toBe("pong");
      other.close();
      stranger.close();
    });

    test("malformed and oversized frames get error frames and the connection lives", async () => {
      const client = await connect(a, scene.student);
      client.ws.send("not json");
      expect(await client.next((f) => f.type === "error" && f.code === "PROTOCOL_ERROR")).toBeDefined();
      client.send({ type: "no.such.type" });
      expect(await client.next((f) => f.type === "error" && f.code === "VALIDATION_FAILED")).toBeDefined();
      client.ws.send(JSON.stringify({ type: "ping", pad: "x".repeat(20_000) }));
      expect(await client.next((f) => f.type === "error" && f.code === "FRAME_TOO_LARGE")).toBeDefined();
      const sessionId = await newSession();
      const long = await client.request({ type: "message.send", sessionId, clientMessageId: "l", content: "y".repeat(5000) });
      expect(long).toMatchObject({ type: "error", code: "MESSAGE_TOO_LONG" });
      client.ws.send(new Uint8Array([0xff, 0xfe, 0x00]));
      expect(
        await client.next((f) => f.type === "error" && f.code === "PROTOCOL_ERROR" && client.frames.filter((x) => x.code === "PROTOCOL_ERROR").length === 2),
      ).toBeDefined();
      const pong = await client.request({ type: "ping" });
      expect(pong.type).toBe("pong");
      expect(client.closed).toBeNull();
      client.close();
    });

    test("sending is idempotent on the client message id, and one answer streams at a time", async () => {
      const sessionId = await newSession();
      const student = await connect(a, scene.student);
      const first = await student.request({ type: "message.send", sessionId, clientMessageId: "dup", content: "What is ATP?" });
      const again = await student.request({ type: "message.send", sessionId, clientMessageId: "dup", content: "What is ATP?" });
      expect(again.type).toBe("ack");
      expect((again.result as { duplicate: boolean }).duplicate).toBe(true);
      expect((again.result as { messageId: string }).messageId).toBe((first.result as { messageId: string }).messageId);
      const busy = await student.request({ type: "message.send", sessionId, clientMessageId: "second", content: "And ADP?" });
      expect(busy).toMatchObject({ type: "error", code: "SESSION_BUSY" });
      await finalRow((first.result as { answerId: string }).answerId);
      const rows = await h.db.db.select().from(messages).where(eq(messages.sessionId, sessionId));
      expect(rows.filter((m) => m.role === "user")).toHaveLength(1);
      expect(rows.filter((m) => m.role === "assistant")).toHaveLength(1);
      student.close();
    });

    test("a message the safety filter blocks is answered even while another answer streams", async () => {
      const sessionId = await newSession();
      const student = await connect(a, scene.student);
      const first = await student.request({ type: "message.send", sessionId, clientMessageId: "long", content: "Tell me everything about cells" });
      const crisis = await student.request({ type: "message.send", sessionId, clientMessageId: "crisis", content: "I want to kill myself" });
      expect(crisis).toMatchObject({ type: "ack" });
      const blocked = await finalRow((crisis.result as { answerId: string }).answerId);
      expect(blocked.state).toBe("complete");
      expect(blocked.meta.flags).toContain("blocked");
      const [alert] = await h.db.db
        .select()
        .from(extractions)
        .where(and(eq(extractions.sessionId, sessionId), eq(extractions.isAlert, true)));
      expect(alert?.severity).toBe("critical");
      // The answer that was streaming finishes normally.
      expect((await finalRow((first.result as { answerId: string }).answerId)).state).toBe("complete");
      student.close();
    });

    test("generation goes on when the student's socket closes", async () => {
      const sessionId = await newSession();
      const student = await connect(a, scene.student);
      const ack = await student.request({ type: "message.send", sessionId, clientMessageId: "bye", content: "Describe the Krebs cycle" });
      student.close();
      const row = await finalRow((ack.result as { answerId: string }).answerId);
      expect(row.state).toBe("complete");
      const back = await rest(b, scene.student, "GET", `/api/sessions/${sessionId}/messages`);
      const items = back.body.items as { role: string; content: string; state: string | null }[];
      expect(items.map((m) => m.role)).toEqual(["user", "assistant"]);
      expect(items[1]?.content).toBe(row.content);
    });

    test("the class room shows sessions starting, messages, answers and who is online", async () => {
      const teacher = await connect(b, scene.teacher);
      const classRoomName = `class:${scene.cls.id}`;
      await teacher.request({ type: "subscribe", room: classRoomName });
      const sessionId = await newSession("otherStudent");
      await teacher.next((f) => f.type === "event" && f.event === "session.started" && (f.payload as { session: { id: string } }).session.id === sessionId);
      const student = await connect(a, scene.otherStudent);
      await student.request({ type: "subscribe", room: `session:${sessionId}`, lastOffset: 0 });
      await teacher.next(
        (f) =>
          f.type === "event" &&
          f.event === "presence.changed" &&
          (f.payload as { userId: string; online: boolean }).userId === scene.otherStudent.id &&
          (f.payload as { online: boolean }).online,
      );
      const ack = await student.request({ type: "message.send", sessionId, clientMessageId: "c1", content: "How do plants breathe?" });
      await teacher.next((f) => f.type === "event" && f.event === "message.created" && (f.payload as { sessionId: string }).sessionId === sessionId);
      await teacher.next(
        (f) => f.type === "event" && f.event === "message.completed" && (f.payload as { messageId: string }).messageId === (ack.result as { answerId: string }).answerId,
        15_000,
      );
      student.close();
      await teacher.next(
        (f) =>
          f.type === "event" &&
          f.event === "presence.changed" &&
          (f.payload as { userId: string; online: boolean }).userId === scene.otherStudent.id &&
          !(f.payload as { online: boolean }).online,
      );
      await rest(a, scene.otherStudent, "POST", `/api/sessions/${sessionId}/end`);
      await teacher.next((f) => f.type === "event" && f.event === "session.ended");
      assertContiguous(teacher.frames, classRoomName);
      teacher.close();
    });
  });

describe("tickets, abuse and the sweeper", () => {
  const d = useDeployment(h, dev);
  let a: Instance;
  let scene: SchoolScene;
  beforeAll(async () => {
    a = await d.start({ live: { staleAfterMs: 300, sweepIntervalMs: 100, maxBufferedBytes: 256 * 1024 } });
    scene = await makeSchoolScene(h.db.db);
  });

  test("each socket's hello carries an id of its own, UUID-shaped, two sockets of one user included", async () => {
    const first = await connect(a, scene.student);
    const second = await connect(a, scene.student);
    const other = await connect(a, scene.otherStudent);
    const ids = [first, second, other].map((c) => String(c.frames.find((f) => f.type === "hello")?.connectionId));
    for (const id of ids) expect(id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    expect(new Set(ids).size).toBe(3);
    for (const c of [first, second, other]) c.close();
  });

  test("a ticket is single-use, and a bad ticket is a 401 in the error shape", async () => {
    const res = await fetch(`${a.baseUrl}/api/realtime/tickets`, { method: "POST", headers: await authHeader(scene.student) });
    const { ticket } = (await res.json()) as { ticket: string };
    const ws = new WebSocket(`${a.wsUrl}/ws?ticket=${ticket}`);
    await new Promise((r) => ws.addEventListener("open", r));
    const reuse = await fetch(`${a.baseUrl}/ws?ticket=${ticket}`, {
      headers: { upgrade: "websocket", connection: "upgrade", "sec-websocket-key": "dGhlIHNhbXBsZSBub25jZQ==", "sec-websocket-version": "13" },
    });
    expect(reuse.status).toBe(401);
    expect(((await reuse.json()) as { error: { code: string } }).error.code).toBe("TICKET_INVALID");
    const none = await fetch(`${a.baseUrl}/ws`, { headers: { upgrade: "websocket" } });
    expect(none.status).toBe(401);
    const plain = await fetch(`${a.baseUrl}/ws?ticket=abc`);
    expect(plain.status).toBe(426);
    const unauth = await fetch(`${a.baseUrl}/api/realtime/tickets`, { method: "POST" });
    expect(unauth.status).toBe(401);
    ws.close();
  });

  test("a teacher subscribes to every session of a large class at once without tripping the rate limit", async () => {
    const local = await makeSchoolScene(h.db.db);
    const rooms: string[] = [];
    for (let i = 0; i < 60; i++) {
      const session = await makeSession(h.db.db, { toolId: local.tool.id, studentId: local.student.id, groupId: local.department.id, classId: local.cls.id });
      rooms.push(`session:${session.id}`);
    }
    const teacher = await connect(a, local.teacher);
    const acks = await Promise.all(rooms.map((room) => teacher.request({ type: "subscribe", room }, 20_000)));
    expect(acks.every((f) => f.type === "ack")).toBe(true);
    expect(teacher.closed).toBeNull();
    teacher.close();
  });

  test("flooding frames closes the connection with the policy code", async () => {
    const client = await connect(a, scene.student);
    for (let i = 0; i < 200; i++) client.send({ type: "ping" });
    const closed = await client.waitClosed();
    expect(closed.code).toBe(1008);
  });

  test("a slow consumer is cut off with 4008 while others receive everything", async () => {
    const session = await makeSession(h.db.db, { toolId: scene.tool.id, studentId: scene.student.id, groupId: scene.department.id, classId: scene.cls.id });
    const room = `session:${session.id}`;
    const fast = await connect(a, scene.teacher);
    await fast.request({ type: "subscribe", room, lastOffset: 0 });
    const res = await fetch(`${a.baseUrl}/api/realtime/tickets`, { method: "POST", headers: await authHeader(scene.teacher) });
    const { ticket } = (await res.json()) as { ticket: string };
    const slow = await rawWebSocket(a.server.port ?? 0, `/ws?ticket=${ticket}`);
    slow.sendText(JSON.stringify({ type: "subscribe", room, lastOffset: 0 }));
    await Bun.sleep(200);
    slow.sock.pause(); // stops reading: the kernel buffers fill, then the server's queue grows
    const payload = "x".repeat(8 * 1024);
    let published = 0;
    const cutsBefore = a.deps.logger.lines.filter((l) => l.msg === "closing slow consumer").length;
    const cutOff = () => a.deps.logger.lines.filter((l) => l.msg === "closing slow consumer").length > cutsBefore;
    while (!cutOff() && published < 8000) {
      // Batches well under the bound, so the reading client is never the one that falls behind.
      for (let i = 0; i < 10; i++) await a.deps.bus.publish(room, { type: "message.delta", payload: { messageId: session.id, charOffset: 0, text: payload } });
      published += 10;
      // The reading client keeps up batch by batch, so only the paused one can fall behind.
      await fast.next((f) => f.type === "event" && f.offset === published, 20_000);
    }
    expect(cutOff()).toBe(true);
    await fast.next((f) => f.type === "event" && f.offset === published, 20_000);
    expect(assertContiguous(fast.frames, room)).toHaveLength(published);
    expect(fast.closed).toBeNull();
    // The slow socket was closed by the server (its memory is released); reading again drains to the close.
    slow.sock.resume();
    await slow.closed;
    expect(slow.closeCode()).toBe(4008);
    fast.close();
  });

  test("a long-lived connection loses a room it may no longer see, and is closed when its user is deleted", async () => {
    const quick = await d.start({ live: { recheckIntervalMs: 150 } });
    const local = await makeSchoolScene(h.db.db);
    const room = `class:${local.cls.id}`;
    const teacher = await connect(quick, local.teacher);
    expect((await teacher.request({ type: "subscribe", room })).type).toBe("ack");
    await h.db.db.delete(classMembers).where(and(eq(classMembers.classId, local.cls.id), eq(classMembers.userId, local.teacher.id)));
    const revoked = await teacher.next((f) => f.type === "error" && (f.details as { room?: string } | undefined)?.room === room);
    expect(revoked.code).toBe("NOT_FOUND");
    await h.db.db.update(users).set({ deletedAt: new Date(), status: "deleted" }).where(eq(users.id, local.teacher.id));
    expect((await teacher.waitClosed()).code).toBe(4001);
    await quick.stop();
  });

  test("crossing a group's monthly budget alert threshold is recorded once per month for its admins", async () => {
    const local = await makeSchoolScene(h.db.db);
    await h.db.db.insert(aiSettings).values({ groupId: local.district.id, monthlyBudgetUsd: 1, alertThreshold: 0.000001 });
    const started = await rest(a, local.student, "POST", "/api/sessions", { toolId: local.tool.id, classId: local.cls.id });
    const sessionId = (started.body.session as { id: string }).id;
    for (const id of ["b1", "b2"]) {
      const sent = await rest(a, local.student, "POST", `/api/sessions/${sessionId}/messages`, { clientMessageId: id, content: "What is a ribosome?" });
      expect(sent.status).toBe(201);
      await a.app.realtime.runner.settled((sent.body.answer as { id: string }).id);
    }
    const rows = await h.db.db
      .select()
      .from(auditLog)
      .where(and(eq(auditLog.action, "ai.budget.threshold"), eq(auditLog.targetId, local.district.id)));
    expect(rows).toHaveLength(1);
    expect(rows[0]?.details).toMatchObject({ budgetUsd: 1 });
    const visible = await rest(a, local.districtAdmin, "GET", `/api/audit?action=ai.budget.threshold&groupId=${local.district.id}`);
    expect(visible.status).toBe(200);
    expect((visible.body.items as unknown[]).length).toBe(1);
  });

  test("the sweeper finalises an answer a dead instance left streaming, and watchers are told", async () => {
    const session = await makeSession(h.db.db, { toolId: scene.tool.id, studentId: scene.student.id, groupId: scene.department.id, classId: scene.cls.id });
    const watcher = await connect(a, scene.teacher);
    await watcher.request({ type: "subscribe", room: `session:${session.id}`, lastOffset: 0 });
    await h.db.db.insert(messages).values({ sessionId: session.id, seq: 1, role: "user", content: "Tell me about enzymes please" });
    const orphanId = (await makeStaleAnswer(h.db.db, { sessionId: session.id, seq: 2, meta: { model: "dev-tutor" } })).id;
    // What the dead instance published: a checkpointed delta, then more it never checkpointed.
    const room = `session:${session.id}`;
    const delta = (charOffset: number, text: string, messageId = orphanId) =>
      a.deps.bus.publish(room, { type: "message.delta", payload: { messageId, charOffset, text } });
    const checkpointed = await delta(0, "Half an ans");
    await h.db.db
      .update(messages)
      .set({ content: "Half an ans", checkpointOffset: checkpointed.offset, checkpointEpoch: checkpointed.epoch })
      .where(eq(messages.id, orphanId));
    await delta(11, "wer, then");
    await delta(0, "someone else's answer", crypto.randomUUID());
    await delta(20, " the rest");
    const jobs = createJobRegistry({ deps: a.deps, runner: a.app.realtime.runner }, { namespace: unique("live-test") });
    jobs.register(sweeperJob(a.deps.config.live));
    jobs.start();
    const told = await watcher.next((f) => f.type === "event" && f.event === "message.completed");
    // The stored text is everything the watcher was shown, not just the last checkpoint.
    const shown = textFromDeltas(watcher.frames, orphanId);
    expect(shown).toBe("Half an answer, then the rest");
    expect((told.payload as { message: { id: string; state: string; content: string } }).message).toMatchObject({ id: orphanId, state: "interrupted", content: shown });
    expect((await h.db.db.select().from(messages).where(eq(messages.id, orphanId)))[0]?.content).toBe(shown);
    // The dead instance never wrote its usage row: the sweeper records an estimate.
    const deadline = Date.now() + 3000;
    let usage = await h.db.db.select().from(aiUsage).where(eq(aiUsage.messageId, orphanId));
    while (usage.length === 0 && Date.now() < deadline) {
      await Bun.sleep(25);
      usage = await h.db.db.select().from(aiUsage).where(eq(aiUsage.messageId, orphanId));
    }
    expect(usage).toHaveLength(1);
    expect(usage[0]).toMatchObject({ status: "interrupted", estimated: true, model: "dev-tutor", outputTokens: 8, inputTokens: 7 });
    await jobs.stop();
    watcher.close();
  });

  test("an assignment session respects its window and attempts", async () => {
    const assignment = await makeAssignment(h.db.db, scene.cls.id, scene.tool.id, { maxAttempts: 1 });
    const start = await rest(a, scene.student, "POST", "/api/sessions", { assignmentId: assignment.id });
    expect(start.status).toBe(201);
    const again = await rest(a, scene.student, "POST", "/api/sessions", { assignmentId: assignment.id });
    expect(again.status).toBe(409);
    expect((again.body.error as { code: string }).code).toBe("ATTEMPTS_EXHAUSTED");
    const closed = await makeAssignment(h.db.db, scene.cls.id, scene.tool.id, { closeAt: new Date(Date.now() - 1000) });
    const late = await rest(a, scene.student, "POST", "/api/sessions", { assignmentId: closed.id });
    expect((late.body.error as { code: string }).code).toBe("ASSIGNMENT_NOT_OPEN");
    const notYet = await makeAssignment(h.db.db, scene.cls.id, scene.tool.id, { availableAt: new Date(Date.now() + 3600_000) });
    expect(((await rest(a, scene.student, "POST", "/api/sessions", { assignmentId: notYet.id })).body.error as { code: string }).code).toBe("ASSIGNMENT_NOT_OPEN");
    const teacherTry = await rest(a, scene.teacher, "POST", "/api/sessions", { assignmentId: assignment.id });
    expect(teacherTry.status).toBe(403);
    const sessionId = (start.body.session as { id: string }).id;
    const submitted = await rest(a, scene.student, "POST", `/api/sessions/${sessionId}/submit`);
    expect(submitted.status).toBe(200);
    const [sub] = await h.db.db.select().from(submissions).where(eq(submissions.sessionId, sessionId));
    expect(sub?.state).toBe("submitted");
  });
});
