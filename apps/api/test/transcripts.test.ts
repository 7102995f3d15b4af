import { afterEach, beforeAll, describe, expect, test } from "bun:test";
import { auditLog, messages, sessions } from "@raptscallions/db";
import { makeAssignment, makeMessage, makeSchoolScene, makeSession, type SchoolScene } from "@raptscallions/db/testing";
import { TRANSCRIPT_CSV_COLUMNS } from "@raptscallions/core";
import { parse } from "csv-parse/sync";
import { and, asc, eq, inArray } from "drizzle-orm";
import { TRANSCRIPT_PAGE } from "../src/services/transcripts/export.ts";
import { useHarness } from "./helpers/harness.ts";
import { errorCode } from "./helpers/security.ts";

const h = useHarness();
let s: SchoolScene;
let assignmentId: string;
const sessionIds: string[] = [];
let otherClassSession: string;
const EMAIL = "jo.pupil@example.org";

type Transcript = {
  scope: { kind: string; id: string };
  sessions: {
    session: { id: string; studentId: string };
    redacted: boolean;
    messages: { id: string; sessionId: string; seq: number; role: string; content: string; state: string | null; createdAt: string }[];
  }[];
};

beforeAll(async () => {
  s = await makeSchoolScene(h.db.db);
  assignmentId = (await makeAssignment(h.db.db, s.cls.id, s.tool.id)).id;
  const base = Date.parse("2026-11-01T09:00:00Z");
  // Three sessions started in order; one on the assignment; a fourth in another class.
  for (let i = 0; i < 3; i++) {
    const session = await makeSession(h.db.db, {
      toolId: s.tool.id,
      studentId: i === 1 ? s.otherStudent.id : s.student.id,
      groupId: s.department.id,
      classId: s.cls.id,
      assignmentId: i === 2 ? assignmentId : null,
      startedAt: new Date(base + i * 60_000),
    });
    sessionIds.push(session.id);
    const texts = [
      `My email is ${EMAIL}, help with fractions`,
      "Let's look at fractions together.",
      "=SUM(A1) is what I typed",
      'A teacher note, line one\nline two, with "quotes"',
    ];
    for (let seq = 1; seq <= 4; seq++) {
      const role = seq === 2 ? "assistant" : seq === 4 ? "teacher" : "user";
      await makeMessage(h.db.db, { sessionId: session.id, seq, role, state: role === "assistant" ? "complete" : null, content: texts[seq - 1] ?? "" });
    }
  }
  const other = await makeSchoolScene(h.db.db);
  otherClassSession = (await makeSession(h.db.db, { toolId: other.tool.id, studentId: other.student.id, groupId: other.department.id, classId: other.cls.id })).id;
}, 120_000);

const saved = { ...TRANSCRIPT_PAGE };
afterEach(() => Object.assign(TRANSCRIPT_PAGE, saved));

async function storedRows(ids: string[]) {
  const rows = await h.db.db
    .select({ message: messages, startedAt: sessions.startedAt })
    .from(messages)
    .innerJoin(sessions, eq(sessions.id, messages.sessionId))
    .where(inArray(messages.sessionId, ids))
    .orderBy(asc(sessions.startedAt), asc(sessions.id), asc(messages.seq));
  return rows.map((r) => r.message);
}

describe("transcript exports", () => {
  test("JSON: a class's sessions oldest first with every stored message, read in small pages (admin: unredacted)", async () => {
    TRANSCRIPT_PAGE.sessions = 2;
    TRANSCRIPT_PAGE.messages = 3;
    const res = await h.as(s.schoolAdmin).get<Transcript>(`/api/transcripts/classes/${s.cls.id}`);
    expect(res.status).toBe(200);
    expect(res.headers.get("content-disposition")).toContain(`transcript-class-${s.cls.id}.json`);
    expect(res.body.scope).toEqual({ kind: "class", id: s.cls.id });
    expect(res.body.sessions.map((x) => x.session.id)).toEqual(sessionIds);
    const flat = res.body.sessions.flatMap((x) => x.messages);
    const stored = await storedRows(sessionIds);
    expect(flat.map((m) => [m.id, m.seq, m.role, m.content, m.state, m.createdAt])).toEqual(
      stored.map((m) => [m.id, m.seq, m.role, m.content, m.state, m.createdAt.toISOString()]),
    );
    expect(res.body.sessions.every((x) => !x.redacted)).toBe(true);
    expect(flat.map((m) => m.sessionId)).not.toContain(otherClassSession);
  });

  test("CSV: one row per stored message under the documented header; formulas are neutralised", async () => {
    TRANSCRIPT_PAGE.sessions = 1;
    TRANSCRIPT_PAGE.messages = 2;
    const res = await h.as(s.schoolAdmin).get<string>(`/api/transcripts/classes/${s.cls.id}?format=csv`);
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toContain("text/csv");
    const rows = parse(res.body, { columns: true }) as Record<string, string>[];
    expect(Object.keys(rows[0] ?? {})).toEqual([...TRANSCRIPT_CSV_COLUMNS]);
    const stored = await storedRows(sessionIds);
    expect(rows.map((r) => [r.session_id, r.message_id, Number(r.seq), r.role, r.content, r.created_at, r.redacted])).toEqual(
      stored.map((m) => [m.sessionId, m.id, m.seq, m.role, m.content.startsWith("=") ? `'${m.content}` : m.content, m.createdAt.toISOString(), "false"]),
    );
  });

  test("a teacher's export has the student's details redacted in student and teacher texts; answers as stored", async () => {
    const res = await h.as(s.teacher).get<Transcript>(`/api/transcripts/classes/${s.cls.id}`);
    expect(res.status).toBe(200);
    expect(res.body.sessions.every((x) => x.redacted)).toBe(true);
    const flat = res.body.sessions.flatMap((x) => x.messages);
    expect(JSON.stringify(res.body)).not.toContain(EMAIL);
    const firstUser = flat.find((m) => m.seq === 1);
    expect(firstUser?.content).toContain("help with fractions");
    expect(flat.filter((m) => m.role === "assistant").every((m) => m.content === "Let's look at fractions together.")).toBe(true);
    const csv = await h.as(s.teacher).get<string>(`/api/transcripts/classes/${s.cls.id}?format=csv`);
    expect(csv.body).not.toContain(EMAIL);
    const rows = parse(csv.body, { columns: true }) as Record<string, string>[];
    expect(rows.every((r) => r.redacted === "true")).toBe(true);
  });

  test("the student exports their own session unredacted; an assignment's export holds only its sessions", async () => {
    const own = await h.as(s.student).get<Transcript>(`/api/transcripts/sessions/${sessionIds[0]}`);
    expect(own.status).toBe(200);
    expect(own.body.sessions).toHaveLength(1);
    expect(own.body.sessions[0]?.redacted).toBe(false);
    expect(own.body.sessions[0]?.messages[0]?.content).toContain(EMAIL);
    const assignment = await h.as(s.teacher).get<Transcript>(`/api/transcripts/assignments/${assignmentId}`);
    expect(assignment.body.sessions.map((x) => x.session.id)).toEqual(sessionIds.slice(2, 3));
  });

  test("every export is audited: the export itself, and a view of each session read", async () => {
    await h.as(s.teacher).get(`/api/transcripts/classes/${s.cls.id}?format=csv`);
    const exports = await h.db.db
      .select()
      .from(auditLog)
      .where(and(eq(auditLog.action, "transcript.export"), eq(auditLog.targetId, s.cls.id), eq(auditLog.actorId, s.teacher.id)));
    expect(exports.map((e) => (e.details as { format?: string }).format)).toContain("csv");
    const views = await h.db.db
      .select({ targetId: auditLog.targetId })
      .from(auditLog)
      .where(and(eq(auditLog.action, "session.view"), eq(auditLog.actorId, s.teacher.id), inArray(auditLog.targetId, sessionIds)));
    expect(new Set(views.map((v) => v.targetId))).toEqual(new Set(sessionIds));
    // The student reading their own session is no view by someone else.
    await h.as(s.student).get(`/api/transcripts/sessions/${sessionIds[0]}`);
    const own = await h.db.db
      .select()
      .from(auditLog)
      .where(and(eq(auditLog.action, "session.view"), eq(auditLog.actorId, s.student.id)));
    expect(own).toHaveLength(0);
  });

  test("refusals are JSON errors before any byte is streamed", async () => {
    expect(errorCode((await h.as(s.student).get(`/api/transcripts/classes/${s.cls.id}`)).body)).toBe("FORBIDDEN");
    expect(errorCode((await h.as(s.student).get(`/api/transcripts/assignments/${assignmentId}`)).body)).toBe("FORBIDDEN");
    expect((await h.as(s.otherStudent).get(`/api/transcripts/sessions/${sessionIds[0]}`)).status).toBe(404);
    expect((await h.as(s.teacher).get(`/api/transcripts/sessions/${otherClassSession}`)).status).toBe(404);
    expect((await h.as(s.teacher).get(`/api/transcripts/classes/${s.cls.id}?format=xml`)).status).toBe(400);
    expect(errorCode((await h.as(s.teacher).get("/api/transcripts/classes/not-a-uuid")).body)).toBe("NOT_FOUND");
    expect((await h.anonymous.get(`/api/transcripts/classes/${s.cls.id}`)).status).toBe(401);
  });
});
