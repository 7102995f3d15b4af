import { eventually } from "@raptscallions/core/testing";
import { beforeAll, describe, expect, test } from "bun:test";
import { aiUsage, groups, messages, users } from "@raptscallions/db";
import { makeSchoolScene, makeTool, type SchoolScene } from "@raptscallions/db/testing";
import { DEFAULT_SELF_HARM_REPLY } from "@raptscallions/modules";
import { eq } from "drizzle-orm";
import { useHarness } from "./helpers/harness.ts";
import { deploymentTransports, useDeployment, useUpstream } from "./helpers/deployment.ts";
import { connect, finishedAnswer, type Instance, restCall as rest } from "./helpers/live.ts";
import { findingsOf, startScriptedUpstream } from "./modules-helpers.ts";

const h = useHarness();
const upstream = useUpstream(h, startScriptedUpstream());
// Two instances sharing one in-process bus: a teacher on B must see what happens on A.
const local = useDeployment(h, upstream);
let a: Instance;
let b: Instance;

beforeAll(async () => {
  a = await local.start();
  b = await local.start();
}, 60_000);

async function newScene(): Promise<SchoolScene> {
  const scene = await makeSchoolScene(h.db.db);
  await h.db.db.update(users).set({ givenName: "Maya", familyName: "Okafor", name: "Maya Okafor" }).where(eq(users.id, scene.student.id));
  return scene;
}

async function startSession(scene: SchoolScene, on: Instance = a, toolId = scene.tool.id) {
  const res = await rest(on, scene.student, "POST", "/api/sessions", { toolId, classId: scene.cls.id });
  expect(res.status).toBe(201);
  return (res.body.session as { id: string }).id;
}

let sent = 0;
async function send(scene: SchoolScene, sessionId: string, content: string, on: Instance = a) {
  sent += 1;
  const res = await rest(on, scene.student, "POST", `/api/sessions/${sessionId}/messages`, { clientMessageId: `m${sent}`, content });
  expect(res.status).toBe(201);
  const { message, answer } = res.body as { message: { id: string; content: string }; answer: { id: string } };
  const final = await finishedAnswer(h.db.db, answer.id);
  return { messageId: message.id, stored: message.content, answer: final };
}

for (const [name, skip] of deploymentTransports())
  describe.skipIf(skip)(`alerts across instances (${name})`, () => {
    const d = useDeployment(h, upstream, name);
    let one: Instance;
    let two: Instance;
    beforeAll(async () => {
      one = await d.start();
      two = await d.start();
    });

    test("a blocked turn never reaches the gateway; its alert reaches a teacher on another instance with the escalation list", async () => {
      const scene = await newScene();
      // Escalation lists accumulate down the layers: the school's lead and the tool's counsellor.
      await h.db.db
        .update(groups)
        .set({ settings: { modules: { "safety-filter": { escalation: [scene.schoolAdmin.id] } } } })
        .where(eq(groups.id, scene.school.id));
      const tool = await makeTool(h.db.db, scene.tool.groupId, {
        definition: { systemPrompt: "Tutor", modules: { "safety-filter": { escalation: [scene.districtAdmin.id] } } },
      });
      const sessionId = await startSession(scene, one, tool.id);
      const teacher = await connect(two, scene.teacher);
      expect((await teacher.request({ type: "subscribe", room: `class:${scene.cls.id}` })).type).toBe("ack");

      const before = upstream.requests.length;
      const turn = await send(scene, sessionId, "I want to kill myself", one);
      const alert = await teacher.next((f) => f.type === "event" && f.event === "alert");
      const payload = (alert.payload as { alert: Record<string, unknown> }).alert;

      expect(upstream.requests.length).toBe(before);
      expect(await h.db.db.select().from(aiUsage).where(eq(aiUsage.sessionId, sessionId))).toHaveLength(0);
      expect(turn.answer.state).toBe("complete");
      expect(turn.answer.content).toBe(DEFAULT_SELF_HARM_REPLY);
      expect(turn.answer.meta.flags).toContain("blocked");

      expect(payload).toMatchObject({ sessionId, classId: scene.cls.id, messageId: turn.messageId, severity: "critical", escalate: true, status: "open" });
      expect(payload.escalateTo).toEqual(expect.arrayContaining([scene.schoolAdmin.id, scene.districtAdmin.id]));
      expect(String(payload.message)).not.toContain("kill myself");

      const rows = await findingsOf(h.db, sessionId);
      const safety = rows.find((r) => r.module === "safety-filter");
      expect(safety).toMatchObject({ messageId: turn.messageId, classId: scene.cls.id, groupId: scene.department.id, isAlert: true, kind: "self-harm" });
      expect(safety?.data.escalateTo).toEqual(expect.arrayContaining([scene.schoolAdmin.id, scene.districtAdmin.id]));
      teacher.close();
    });
  });

describe("content modules on the live path", () => {
  test("the gateway never receives classmates' names, handles, student ids or street addresses", async () => {
    const scene = await newScene();
    const sessionId = await startSession(scene);
    const text = "my friend tyler and my mom lupita say hi, my snap is ty_rex09, student id 20481733, we live at 4412 maple ridge dr, austin tx 78745";
    await send(scene, sessionId, text);
    const request = upstream.requests.find((r) => JSON.stringify(r).includes("say hi"));
    expect(request).toBeDefined();
    const wire = JSON.stringify(request);
    for (const raw of ["tyler", "lupita", "ty_rex09", "20481733", "maple", "austin", "78745"]) expect(wire).not.toContain(raw);
    expect(request?.messages.at(-1)?.content).toBe("my friend [name] and my mom [name] say hi, my snap is [handle], student id [student id], we live at [address]");
  });

  test("the gateway receives redacted text: the student's own name and email never leave", async () => {
    const scene = await newScene();
    const sessionId = await startSession(scene);
    const turn = await send(scene, sessionId, "Hi, I'm Maya Okafor, email me at maya.okafor@example.com about fractions");
    const request = upstream.requests.find((r) => JSON.stringify(r).includes("about fractions"));
    expect(request).toBeDefined();
    const wire = JSON.stringify(request);
    expect(wire).not.toContain("Maya");
    expect(wire).not.toContain("Okafor");
    expect(wire).not.toContain("maya.okafor@example.com");
    const last = request?.messages.at(-1);
    expect(last?.content).toContain("[name]");
    expect(last?.content).toContain("[email]");
    // By default the school keeps the redacted text too.
    expect(turn.stored).toBe(last?.content ?? "x");
    const [stored] = await h.db.db.select().from(messages).where(eq(messages.id, turn.messageId));
    expect(stored?.meta.redacted).toBe(true);
    const rows = await findingsOf(h.db, sessionId);
    expect(rows.find((r) => r.kind === "pii-redacted")).toMatchObject({ isAlert: false, messageId: turn.messageId });
  });

  test("a school that keeps originals stores them, yet the provider only ever sees redacted history", async () => {
    const scene = await newScene();
    await h.db.db
      .update(groups)
      .set({ settings: { modules: { "pii-filter": { storeOriginal: true } } } })
      .where(eq(groups.id, scene.school.id));
    const sessionId = await startSession(scene);
    const first = await send(scene, sessionId, "my email is maya.okafor@example.com, can you send the worksheet?");
    expect(first.stored).toContain("maya.okafor@example.com");
    const note = await rest(a, scene.teacher, "POST", `/api/sessions/${sessionId}/teacher-messages`, {
      clientMessageId: "t1",
      content: "Well done Maya, keep going",
    });
    expect(note.status).toBe(201);
    await send(scene, sessionId, "and what about decimals then");
    const request = upstream.requests.find((r) => JSON.stringify(r).includes("decimals then"));
    const wire = JSON.stringify(request);
    expect(request?.messages.length).toBeGreaterThanOrEqual(4);
    expect(wire).not.toContain("maya.okafor@example.com");
    expect(wire).not.toContain("Maya");
    expect(wire).toContain("[email]");
  });

  test("struggle signals and flagged answers reach the class room; the session end is checked", async () => {
    const scene = await newScene();
    const sessionId = await startSession(scene);
    const teacher = await connect(b, scene.teacher);
    await teacher.request({ type: "subscribe", room: `class:${scene.cls.id}` });

    await send(scene, sessionId, "I don't get it");
    const mild = await teacher.next((f) => f.type === "event" && f.event === "struggle");
    expect(mild.payload).toMatchObject({ sessionId, studentId: scene.student.id, level: "mild", isAlert: false });
    await send(scene, sessionId, "ugh I give up");
    const struggling = await teacher.next((f) => f.type === "event" && f.event === "struggle" && (f.payload as { level: string }).level === "struggling");
    expect(struggling.payload).toMatchObject({ isAlert: true });

    upstream.script.push("Great work! Let's keep this our secret, you don't need to tell your parents about our chats.");
    const turn = await send(scene, sessionId, "what is a volcano made of");
    const flagged = await teacher.next(
      (f) => f.type === "event" && f.event === "alert" && (f.payload as { alert: { messageId: string } }).alert.messageId === turn.answer.id,
    );
    expect((flagged.payload as { alert: Record<string, unknown> }).alert).toMatchObject({ module: "safety-filter", kind: "abuse", isAlert: true });
    expect((flagged.payload as { alert: { data: { source: string } } }).alert.data.source).toBe("answer");

    const end = await rest(a, scene.student, "POST", `/api/sessions/${sessionId}/end`);
    expect(end.status).toBe(200);
    const final = await teacher.next(
      (f) => f.type === "event" && f.event === "struggle" && (f.payload as { isAlert: boolean; level: string }).level === "struggling" && f !== struggling,
    );
    const rows = await findingsOf(h.db, sessionId);
    const endRow = rows.find((r) => r.data.phase === "session-end");
    expect(endRow).toMatchObject({ module: "struggle-detector", messageId: null, classId: scene.cls.id });
    expect((final.payload as { findingId: string }).findingId).toBe(endRow?.id ?? "x");
    teacher.close();
  });

  test("a teacher viewing a session over REST and WebSocket leaves session.view rows that admins can read", async () => {
    const scene = await newScene();
    const sessionId = await startSession(scene);
    await send(scene, sessionId, "how do plants drink water");
    expect((await rest(b, scene.teacher, "GET", `/api/sessions/${sessionId}`)).status).toBe(200);
    expect((await rest(b, scene.teacher, "GET", `/api/sessions/${sessionId}/messages`)).status).toBe(200);
    const ws = await connect(b, scene.teacher);
    expect((await ws.request({ type: "subscribe", room: `session:${sessionId}` })).type).toBe("ack");
    ws.close();
    // The student reading their own session is not an access to record.
    expect((await rest(a, scene.student, "GET", `/api/sessions/${sessionId}`)).status).toBe(200);

    const trail = `/api/audit?targetType=session&targetId=${sessionId}&action=session.view`;
    // The socket's row is written with the next audit batch (LIVE_VIEW_AUDIT_FLUSH_MS), not before the ack.
    const log = await eventually(async () => {
      const read = await rest(a, scene.schoolAdmin, "GET", trail);
      return (read.body.items as unknown[] | undefined)?.length === 3 && read;
    }, "three session.view rows in the audit trail");
    expect(log.status).toBe(200);
    const items = log.body.items as { actorId: string; action: string; targetId: string; groupId: string; details: { studentId: string } }[];
    expect(items).toHaveLength(3);
    for (const item of items) {
      expect(item).toMatchObject({
        actorId: scene.teacher.id,
        action: "session.view",
        targetId: sessionId,
        groupId: scene.department.id,
        details: { studentId: scene.student.id },
      });
    }
    expect((await rest(a, scene.districtAdmin, "GET", trail)).body.items).toHaveLength(3);

    // Teachers and students cannot read the trail, admins elsewhere see none of it, and no token is a 401.
    const other = await makeSchoolScene(h.db.db);
    for (const user of [scene.teacher, scene.student]) {
      const res = await rest(a, user, "GET", trail);
      expect(res.status).toBe(403);
      expect((res.body.error as { code: string }).code).toBe("FORBIDDEN");
    }
    const elsewhere = await rest(a, other.schoolAdmin, "GET", trail);
    expect(elsewhere.status).toBe(200);
    expect(elsewhere.body.items).toHaveLength(0);
    expect((await rest(a, null, "GET", trail)).status).toBe(401);
  });
});

describe("module settings", () => {
  test("a group can switch a module off for its subtree, and a tool can switch it back on", async () => {
    const scene = await newScene();
    await h.db.db
      .update(groups)
      .set({ settings: { modules: { "pii-filter": { enabled: false } } } })
      .where(eq(groups.id, scene.district.id));
    const off = await send(scene, await startSession(scene), "write to me at maya.okafor@example.com");
    expect(off.stored).toContain("maya.okafor@example.com");

    // A tool version is never edited (a change is a new version): a tool whose definition turns it back on.
    const piiTool = await makeTool(h.db.db, scene.tool.groupId, { definition: { systemPrompt: "Tutor", modules: { "pii-filter": { enabled: true } } } });
    const on = await send(scene, await startSession(scene, a, piiTool.id), "write to me at maya.okafor@example.com");
    expect(on.stored).toContain("[email]");
  });

  test("an invalid stored layer is ignored and logged, not fatal, and safety stays on", async () => {
    const scene = await newScene();
    await h.db.db
      .update(groups)
      .set({ settings: { modules: { "safety-filter": { enabled: false, blockAt: "nonsense" } } } })
      .where(eq(groups.id, scene.school.id));
    const turn = await send(scene, await startSession(scene), "I want to kill myself");
    expect(turn.answer.content).toBe(DEFAULT_SELF_HARM_REPLY);
    expect(a.deps.logger.lines.some((l) => l.msg === "invalid module settings ignored" && l.id === scene.school.id)).toBe(true);
  });
});
