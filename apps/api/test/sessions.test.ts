import { beforeAll, describe, expect, test } from "bun:test";
import { makeAssignment, makeMessage, makeSchoolScene, makeSession, makeUser, type SchoolScene } from "@raptscallions/db/testing";
import { useHarness } from "./helpers/harness.ts";
import { errorCode, securityTests } from "./helpers/security.ts";

const h = useHarness();
let s: SchoolScene;
let sessionId: string;
let outsider: Awaited<ReturnType<typeof makeUser>>;

beforeAll(async () => {
  s = await makeSchoolScene(h.db.db);
  outsider = await makeUser(h.db.db);
  const session = await makeSession(h.db.db, { toolId: s.tool.id, studentId: s.student.id, groupId: s.department.id, classId: s.cls.id });
  sessionId = session.id;
  for (let seq = 1; seq <= 5; seq++) await makeMessage(h.db.db, { sessionId, seq, role: seq % 2 ? "user" : "assistant", state: seq % 2 ? null : "complete" });
}, 120_000);

describe("sessions over REST", () => {
  test("a student starts a session with a tool in their class", async () => {
    const res = await h.as(s.student).post<{ session: { id: string; classId: string; state: string } }>("/api/sessions", { toolId: s.tool.id, classId: s.cls.id });
    expect(res.status).toBe(201);
    expect(res.body.session).toMatchObject({ classId: s.cls.id, state: "active" });
  });

  test("start: bad bodies are 4xx with nothing created", async () => {
    expect((await h.as(s.student).post("/api/sessions", {})).status).toBe(422);
    expect((await h.as(s.student).post("/api/sessions", { toolId: "nope" })).status).toBe(422);
    expect((await h.as(s.student).post("/api/sessions", { toolId: s.tool.id, assignmentId: s.tool.id })).status).toBe(422);
    const missing = await h.as(s.student).post("/api/sessions", { toolId: crypto.randomUUID() });
    expect(missing.status).toBe(404);
    const notMine = await h.as(s.otherStudent).post("/api/sessions", { toolId: s.tool.id, classId: crypto.randomUUID() });
    expect(notMine.status).toBe(404);
    const teacherInClass = await h.as(s.teacher).post("/api/sessions", { toolId: s.tool.id, classId: s.cls.id });
    expect(errorCode(teacherInClass.body)).toBe("FORBIDDEN");
  });

  test("a student lists their own sessions; a teacher lists the class's, paginated by cursor", async () => {
    const mine = await h.as(s.student).get<{ items: { id: string; studentId: string }[] }>("/api/sessions");
    expect(mine.status).toBe(200);
    expect(mine.body.items.map((x) => x.id)).toContain(sessionId);
    expect(mine.body.items.every((x) => x.studentId === s.student.id)).toBe(true);
    const other = await h.as(s.otherStudent).get<{ items: unknown[] }>("/api/sessions");
    expect(other.body.items.map((x) => (x as { id: string }).id)).not.toContain(sessionId);
    const seen: string[] = [];
    let cursor: string | null = null;
    do {
      const page: { status: number; body: { items: { id: string }[]; nextCursor: string | null } } = await h
        .as(s.teacher)
        .get(`/api/sessions?classId=${s.cls.id}&limit=1${cursor ? `&cursor=${cursor}` : ""}`);
      expect(page.status).toBe(200);
      seen.push(...page.body.items.map((x) => x.id));
      cursor = page.body.nextCursor;
    } while (cursor);
    expect(seen).toContain(sessionId);
    expect(new Set(seen).size).toBe(seen.length);
    const completed = await makeSession(h.db.db, { toolId: s.tool.id, studentId: s.student.id, groupId: s.department.id, classId: s.cls.id, state: "completed" });
    const byState = await h.as(s.teacher).get<{ items: { id: string; state: string }[] }>(`/api/sessions?classId=${s.cls.id}&state=completed`);
    expect(byState.body.items.map((x) => x.id)).toContain(completed.id);
    expect(byState.body.items.map((x) => x.id)).not.toContain(sessionId);
    expect(byState.body.items.every((x) => x.state === "completed")).toBe(true);
  });

  test("list: malformed cursor and bad filters are 400; another class is 404", async () => {
    expect(errorCode((await h.as(s.student).get("/api/sessions?cursor=%%%")).body)).toBe("BAD_REQUEST");
    expect(errorCode((await h.as(s.student).get("/api/sessions?cursor=eyJ4IjoxfQ")).body)).toBe("BAD_REQUEST");
    expect((await h.as(s.student).get("/api/sessions?state=weird")).status).toBe(400);
    expect((await h.as(s.student).get("/api/sessions?limit=100000")).status).toBe(400);
    const other = await makeSchoolScene(h.db.db);
    expect((await h.as(s.teacher).get(`/api/sessions?classId=${other.cls.id}`)).status).toBe(404);
  });

  test("get one session with its room position, and its messages by seq with a cursor", async () => {
    const one = await h.as(s.teacher).get<{ session: { id: string }; room: { name: string; offset: number } }>(`/api/sessions/${sessionId}`);
    expect(one.status).toBe(200);
    expect(one.body.room.name).toBe(`session:${sessionId}`);
    const first = await h.as(s.student).get<{ items: { seq: number }[]; nextCursor: string }>(`/api/sessions/${sessionId}/messages?limit=2`);
    expect(first.body.items.map((m) => m.seq)).toEqual([1, 2]);
    const second = await h
      .as(s.student)
      .get<{ items: { seq: number }[]; nextCursor: string | null }>(`/api/sessions/${sessionId}/messages?limit=10&cursor=${first.body.nextCursor}`);
    expect(second.body.items.map((m) => m.seq)).toEqual([3, 4, 5]);
    expect(second.body.nextCursor).toBeNull();
    expect((await h.as(s.student).get("/api/sessions/not-a-uuid")).status).toBe(404);
  });

  test("end and submit an assignment attempt", async () => {
    const assignment = await makeAssignment(h.db.db, s.cls.id, s.tool.id, { maxAttempts: 2 });
    const started = await h.as(s.student).post<{ session: { id: string } }>("/api/sessions", { assignmentId: assignment.id });
    expect(started.status).toBe(201);
    const id = started.body.session.id;
    const submitted = await h.as(s.student).post<{ submission: { state: string; attempt: number } }>(`/api/sessions/${id}/submit`);
    expect(submitted.body.submission).toMatchObject({ state: "submitted", attempt: 1 });
    expect(errorCode((await h.as(s.student).post(`/api/sessions/${id}/submit`)).body)).toBe("CONFLICT");
    const ended = await h.as(s.student).get<{ session: { state: string } }>(`/api/sessions/${id}`);
    expect(ended.body.session.state).toBe("completed");
    expect(errorCode((await h.as(s.teacher).post(`/api/sessions/${id}/pause`)).body)).toBe("SESSION_ENDED");
    const plain = await h.as(s.student).post<{ session: { id: string } }>("/api/sessions", { toolId: s.tool.id });
    expect(errorCode((await h.as(s.student).post(`/api/sessions/${plain.body.session.id}/submit`)).body)).toBe("CONFLICT");
  });

  test("REST send: a paused session refuses, the teacher resumes, a bad body is 422", async () => {
    const fresh = await makeSession(h.db.db, { toolId: s.tool.id, studentId: s.student.id, groupId: s.department.id, classId: s.cls.id });
    expect((await h.as(s.teacher).post(`/api/sessions/${fresh.id}/pause`)).status).toBe(200);
    const refused = await h.as(s.student).post(`/api/sessions/${fresh.id}/messages`, { clientMessageId: "a", content: "hi" });
    expect(errorCode(refused.body)).toBe("SESSION_PAUSED");
    expect((await h.as(s.student).post(`/api/sessions/${fresh.id}/pause`)).status).toBe(403);
    expect((await h.as(s.teacher).post(`/api/sessions/${fresh.id}/resume`)).status).toBe(200);
    const bad = await h.as(s.student).post(`/api/sessions/${fresh.id}/messages`, { clientMessageId: "bad id!", content: "" });
    expect(bad.status).toBe(422);
    const note = await h.as(s.teacher).post(`/api/sessions/${fresh.id}/teacher-messages`, { clientMessageId: "t1", content: "Hello from your teacher" });
    expect(note.status).toBe(201);
    const dup = await h.as(s.teacher).post(`/api/sessions/${fresh.id}/teacher-messages`, { clientMessageId: "t1", content: "Hello from your teacher" });
    expect(dup.status).toBe(200);
  });
});

securityTests("sessions", () => h.app, [
  { method: "GET", route: "/api/sessions", path: () => "/api/sessions" },
  { method: "POST", route: "/api/sessions", path: () => "/api/sessions", body: () => ({ toolId: s.tool.id }), denied: () => [{ who: outsider, status: 404 }] },
  {
    method: "GET",
    route: "/api/sessions/:id",
    path: () => `/api/sessions/${sessionId}`,
    denied: () => [
      { who: s.otherStudent, status: 404 },
      { who: outsider, status: 404 },
    ],
  },
  { method: "GET", route: "/api/sessions/:id/messages", path: () => `/api/sessions/${sessionId}/messages`, denied: () => [{ who: s.otherStudent, status: 404 }] },
  {
    method: "POST",
    route: "/api/sessions/:id/messages",
    path: () => `/api/sessions/${sessionId}/messages`,
    body: () => ({ clientMessageId: "x", content: "hi" }),
    denied: () => [
      { who: s.otherStudent, status: 404 },
      { who: s.teacher, status: 403 },
    ],
  },
  {
    method: "POST",
    route: "/api/sessions/:id/teacher-messages",
    path: () => `/api/sessions/${sessionId}/teacher-messages`,
    body: () => ({ clientMessageId: "y", content: "hi" }),
    denied: () => [
      { who: s.student, status: 403 },
      { who: outsider, status: 404 },
    ],
  },
  {
    method: "POST",
    route: "/api/sessions/:id/pause",
    path: () => `/api/sessions/${sessionId}/pause`,
    denied: () => [
      { who: s.student, status: 403 },
      { who: s.otherStudent, status: 404 },
    ],
  },
  { method: "POST", route: "/api/sessions/:id/resume", path: () => `/api/sessions/${sessionId}/resume`, denied: () => [{ who: s.student, status: 403 }] },
  { method: "POST", route: "/api/sessions/:id/end", path: () => `/api/sessions/${sessionId}/end`, denied: () => [{ who: s.otherStudent, status: 404 }] },
  { method: "POST", route: "/api/sessions/:id/stop", path: () => `/api/sessions/${sessionId}/stop`, denied: () => [{ who: s.otherStudent, status: 404 }] },
  {
    method: "POST",
    route: "/api/sessions/:id/submit",
    path: () => `/api/sessions/${sessionId}/submit`,
    denied: () => [
      { who: s.teacher, status: 403 },
      { who: outsider, status: 404 },
    ],
  },
  { method: "POST", route: "/api/realtime/tickets", path: () => "/api/realtime/tickets" },
]);
