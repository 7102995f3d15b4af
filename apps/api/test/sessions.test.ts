import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import type { DbHandle } from "@raptscallions/db";
import { makeAssignment, makeMessage, makeSchoolScene, makeSession, makeUser, type SchoolScene } from "@raptscallions/db/testing";
import { createApp } from "../src/app.ts";
import { createTestDb, testDeps } from "./helpers/deps.ts";
import { call, errorCode, securityTests } from "./helpers/security.ts";

let db: DbHandle;
let app: ReturnType<typeof createApp>;
let s: SchoolScene;
let sessionId: string;
let outsider: Awaited<ReturnType<typeof makeUser>>;

beforeAll(async () => {
  db = await createTestDb();
  app = createApp(await testDeps(db));
  s = await makeSchoolScene(db.db);
  outsider = await makeUser(db.db);
  const session = await makeSession(db.db, { toolId: s.tool.id, studentId: s.student.id, groupId: s.department.id, classId: s.cls.id });
  sessionId = session.id;
  for (let seq = 1; seq <= 5; seq++) await makeMessage(db.db, { sessionId, seq, role: seq % 2 ? "user" : "assistant", state: seq % 2 ? null : "complete" });
}, 120_000);
afterAll(async () => {
  await db.close();
});

describe("sessions over REST", () => {
  test("a student starts a session with a tool in their class", async () => {
    const res = await call<{ session: { id: string; classId: string; state: string } }>(app, "POST", "/api/sessions", {
      as: s.student,
      body: { toolId: s.tool.id, classId: s.cls.id },
    });
    expect(res.status).toBe(201);
    expect(res.body.session).toMatchObject({ classId: s.cls.id, state: "active" });
  });

  test("start: bad bodies are 4xx with nothing created", async () => {
    expect((await call(app, "POST", "/api/sessions", { as: s.student, body: {} })).status).toBe(422);
    expect((await call(app, "POST", "/api/sessions", { as: s.student, body: { toolId: "nope" } })).status).toBe(422);
    expect((await call(app, "POST", "/api/sessions", { as: s.student, body: { toolId: s.tool.id, assignmentId: s.tool.id } })).status).toBe(422);
    const missing = await call(app, "POST", "/api/sessions", { as: s.student, body: { toolId: crypto.randomUUID() } });
    expect(missing.status).toBe(404);
    const notMine = await call(app, "POST", "/api/sessions", { as: s.otherStudent, body: { toolId: s.tool.id, classId: crypto.randomUUID() } });
    expect(notMine.status).toBe(404);
    const teacherInClass = await call(app, "POST", "/api/sessions", { as: s.teacher, body: { toolId: s.tool.id, classId: s.cls.id } });
    expect(errorCode(teacherInClass.body)).toBe("FORBIDDEN");
  });

  test("a student lists their own sessions; a teacher lists the class's, paginated by cursor", async () => {
    const mine = await call<{ items: { id: string; studentId: string }[] }>(app, "GET", "/api/sessions", { as: s.student });
    expect(mine.status).toBe(200);
    expect(mine.body.items.map((x) => x.id)).toContain(sessionId);
    expect(mine.body.items.every((x) => x.studentId === s.student.id)).toBe(true);
    const other = await call<{ items: unknown[] }>(app, "GET", "/api/sessions", { as: s.otherStudent });
    expect(other.body.items.map((x) => (x as { id: string }).id)).not.toContain(sessionId);
    const seen: string[] = [];
    let cursor: string | null = null;
    do {
      const page: { status: number; body: { items: { id: string }[]; nextCursor: string | null } } = await call(app, "GET", `/api/sessions?classId=${s.cls.id}&limit=1${cursor ? `&cursor=${cursor}` : ""}`, { as: s.teacher });
      expect(page.status).toBe(200);
      seen.push(...page.body.items.map((x) => x.id));
      cursor = page.body.nextCursor;
    } while (cursor);
    expect(seen).toContain(sessionId);
    expect(new Set(seen).size).toBe(seen.length);
    const completed = await makeSession(db.db, { toolId: s.tool.id, studentId: s.student.id, groupId: s.department.id, classId: s.cls.id, state: "completed" });
    const byState = await call<{ items: { id: string; state: string }[] }>(app, "GET", `/api/sessions?classId=${s.cls.id}&state=completed`, { as: s.teacher });
    expect(byState.body.items.map((x) => x.id)).toContain(completed.id);
    expect(byState.body.items.map((x) => x.id)).not.toContain(sessionId);
    expect(byState.body.items.every((x) => x.state === "completed")).toBe(true);
  });

  test("list: malformed cursor and bad filters are 400; another class is 404", async () => {
    expect(errorCode((await call(app, "GET", "/api/sessions?cursor=%%%", { as: s.student })).body)).toBe("BAD_REQUEST");
    expect(errorCode((await call(app, "GET", "/api/sessions?cursor=eyJ4IjoxfQ", { as: s.student })).body)).toBe("BAD_REQUEST");
    expect((await call(app, "GET", "/api/sessions?state=weird", { as: s.student })).status).toBe(400);
    expect((await call(app, "GET", "/api/sessions?limit=100000", { as: s.student })).status).toBe(400);
    const other = await makeSchoolScene(db.db);
    expect((await call(app, "GET", `/api/sessions?classId=${other.cls.id}`, { as: s.teacher })).status).toBe(404);
  });

  test("get one session with its room position, and its messages by seq with a cursor", async () => {
    const one = await call<{ session: { id: string }; room: { name: string; offset: number } }>(app, "GET", `/api/sessions/${sessionId}`, { as: s.teacher });
    expect(one.status).toBe(200);
    expect(one.body.room.name).toBe(`session:${sessionId}`);
    const first = await call<{ items: { seq: number }[]; nextCursor: string }>(app, "GET", `/api/sessions/${sessionId}/messages?limit=2`, { as: s.student });
    expect(first.body.items.map((m) => m.seq)).toEqual([1, 2]);
    const second = await call<{ items: { seq: number }[]; nextCursor: string | null }>(app, "GET", `/api/sessions/${sessionId}/messages?limit=10&cursor=${first.body.nextCursor}`, { as: s.student });
    expect(second.body.items.map((m) => m.seq)).toEqual([3, 4, 5]);
    expect(second.body.nextCursor).toBeNull();
    expect((await call(app, "GET", "/api/sessions/not-a-uuid", { as: s.student })).status).toBe(404);
  });

  test("end and submit an assignment attempt", async () => {
    const assignment = await makeAssignment(db.db, s.cls.id, s.tool.id, { maxAttempts: 2 });
    const started = await call<{ session: { id: string } }>(app, "POST", "/api/sessions", { as: s.student, body: { assignmentId: assignment.id } });
    expect(started.status).toBe(201);
    const id = started.body.session.id;
    const submitted = await call<{ submission: { state: string; attempt: number } }>(app, "POST", `/api/sessions/${id}/submit`, { as: s.student });
    expect(submitted.body.submission).toMatchObject({ state: "submitted", attempt: 1 });
    expect(errorCode((await call(app, "POST", `/api/sessions/${id}/submit`, { as: s.student })).body)).toBe("CONFLICT");
    const ended = await call<{ session: { state: string } }>(app, "GET", `/api/sessions/${id}`, { as: s.student });
    expect(ended.body.session.state).toBe("completed");
    expect(errorCode((await call(app, "POST", `/api/sessions/${id}/pause`, { as: s.teacher })).body)).toBe("SESSION_ENDED");
    const plain = await call<{ session: { id: string } }>(app, "POST", "/api/sessions", { as: s.student, body: { toolId: s.tool.id } });
    expect(errorCode((await call(app, "POST", `/api/sessions/${plain.body.session.id}/submit`, { as: s.student })).body)).toBe("CONFLICT");
  });

  test("REST send: a paused session refuses, the teacher resumes, a bad body is 422", async () => {
    const fresh = await makeSession(db.db, { toolId: s.tool.id, studentId: s.student.id, groupId: s.department.id, classId: s.cls.id });
    expect((await call(app, "POST", `/api/sessions/${fresh.id}/pause`, { as: s.teacher })).status).toBe(200);
    const refused = await call(app, "POST", `/api/sessions/${fresh.id}/messages`, { as: s.student, body: { clientMessageId: "a", content: "hi" } });
    expect(errorCode(refused.body)).toBe("SESSION_PAUSED");
    expect((await call(app, "POST", `/api/sessions/${fresh.id}/pause`, { as: s.student })).status).toBe(403);
    expect((await call(app, "POST", `/api/sessions/${fresh.id}/resume`, { as: s.teacher })).status).toBe(200);
    const bad = await call(app, "POST", `/api/sessions/${fresh.id}/messages`, { as: s.student, body: { clientMessageId: "bad id!", content: "" } });
    expect(bad.status).toBe(422);
    const note = await call(app, "POST", `/api/sessions/${fresh.id}/teacher-messages`, { as: s.teacher, body: { clientMessageId: "t1", content: "Hello from your teacher" } });
    expect(note.status).toBe(201);
    const dup = await call(app, "POST", `/api/sessions/${fresh.id}/teacher-messages`, { as: s.teacher, body: { clientMessageId: "t1", content: "Hello from your teacher" } });
    expect(dup.status).toBe(200);
  });
});

securityTests("sessions", () => app, [
  { method: "GET", route: "/api/sessions", path: () => "/api/sessions" },
  { method: "POST", route: "/api/sessions", path: () => "/api/sessions", body: () => ({ toolId: s.tool.id }), denied: () => [{ who: outsider, status: 404 }] },
  { method: "GET", route: "/api/sessions/:id", path: () => `/api/sessions/${sessionId}`, denied: () => [{ who: s.otherStudent, status: 404 }, { who: outsider, status: 404 }] },
  { method: "GET", route: "/api/sessions/:id/messages", path: () => `/api/sessions/${sessionId}/messages`, denied: () => [{ who: s.otherStudent, status: 404 }] },
  { method: "POST", route: "/api/sessions/:id/messages", path: () => `/api/sessions/${sessionId}/messages`, body: () => ({ clientMessageId: "x", content: "hi" }), denied: () => [{ who: s.otherStudent, status: 404 }, { who: s.teacher, status: 403 }] },
  { method: "POST", route: "/api/sessions/:id/teacher-messages", path: () => `/api/sessions/${sessionId}/teacher-messages`, body: () => ({ clientMessageId: "y", content: "hi" }), denied: () => [{ who: s.student, status: 403 }, { who: outsider, status: 404 }] },
  { method: "POST", route: "/api/sessions/:id/pause", path: () => `/api/sessions/${sessionId}/pause`, denied: () => [{ who: s.student, status: 403 }, { who: s.otherStudent, status: 404 }] },
  { method: "POST", route: "/api/sessions/:id/resume", path: () => `/api/sessions/${sessionId}/resume`, denied: () => [{ who: s.student, status: 403 }] },
  { method: "POST", route: "/api/sessions/:id/end", path: () => `/api/sessions/${sessionId}/end`, denied: () => [{ who: s.otherStudent, status: 404 }] },
  { method: "POST", route: "/api/sessions/:id/stop", path: () => `/api/sessions/${sessionId}/stop`, denied: () => [{ who: s.otherStudent, status: 404 }] },
  { method: "POST", route: "/api/sessions/:id/submit", path: () => `/api/sessions/${sessionId}/submit`, denied: () => [{ who: s.teacher, status: 403 }, { who: outsider, status: 404 }] },
  { method: "POST", route: "/api/realtime/tickets", path: () => "/api/realtime/tickets" },
]);
