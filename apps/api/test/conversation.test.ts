/**
 * Provider history (`conversationFor`) reads only the newest rows it sends: checked against the
 * definition it must keep — the whole session filtered in JavaScript, last 40 — on sessions
 * longer than the window, with rows of every kind it leaves out.
 */
import { describe, expect, test } from "bun:test";
import { type MessageMeta, messages } from "@raptscallions/db";
import { makeMessage, makeSchoolScene, makeSession } from "@raptscallions/db/testing";
import { and, asc, eq, sql } from "drizzle-orm";
import { conversationAfter, conversationFor, newestHistoryField } from "../src/services/live/conversation.ts";
import { isWithheld } from "../src/services/sessions/withheld.ts";
import { useHarness } from "./helpers/harness.ts";

const h = useHarness();

type Role = "user" | "assistant" | "teacher" | "system";
type State = "complete" | "failed" | "stopped" | null;

/** The definition before the query was bounded: every row, filtered here, the last 40. */
async function reference(sessionId: string, upToSeq: number) {
  const rows = await h.db.db.select().from(messages).where(eq(messages.sessionId, sessionId)).orderBy(asc(messages.seq));
  return rows
    .filter((m) => m.seq <= upToSeq && m.content.trim().length > 0)
    .filter((m) => m.role !== "assistant" || m.state !== "failed")
    .filter((m) => !isWithheld(m.meta))
    .slice(-40)
    .map((m) => (m.role === "teacher" ? `system:The student's teacher wrote to the student: ${m.content}` : `${m.role}:${m.content}`));
}

async function sessionWith(rows: { role: Role; content: string; state?: State; meta?: MessageMeta }[]) {
  const scene = await makeSchoolScene(h.db.db);
  const session = await makeSession(h.db.db, { toolId: scene.tool.id, studentId: scene.student.id, groupId: scene.school.id, classId: scene.cls.id });
  let seq = 0;
  for (const row of rows) {
    seq += 1;
    await makeMessage(h.db.db, { sessionId: session.id, seq, role: row.role, content: row.content, state: row.state ?? null, meta: row.meta ?? {} });
  }
  return { sessionId: session.id, last: seq };
}

const asText = (history: { role: string; content: string }[]) => history.map((m) => `${m.role}:${m.content}`);

describe("conversationFor", () => {
  test("a long session: the last 40 kept messages, oldest first, whatever is left out between them", async () => {
    const rows: { role: Role; content: string; state?: State; meta?: MessageMeta }[] = [];
    for (let i = 0; i < 70; i++) {
      rows.push({ role: "user", content: `question ${i}` });
      if (i % 7 === 3) rows.push({ role: "assistant", content: `broken ${i}`, state: "failed" });
      else if (i % 11 === 5) rows.push({ role: "assistant", content: `withheld reply ${i}`, state: "complete", meta: { flags: ["blocked"] } });
      else if (i % 13 === 6) rows.push({ role: "user", content: `held ${i}`, meta: { flags: ["redacted", "held"] } });
      else if (i % 9 === 2) rows.push({ role: "teacher", content: `note ${i}` });
      else if (i % 10 === 4) rows.push({ role: "assistant", content: "   ", state: "stopped" });
      else rows.push({ role: "assistant", content: `answer ${i}`, state: "complete", meta: { flags: ["redacted"] } });
    }
    const { sessionId, last } = await sessionWith(rows);
    for (const upTo of [last, last - 1, last - 20, 30, 3]) {
      const got = asText(await conversationFor(h.db.db, sessionId, upTo));
      expect(got).toEqual(await reference(sessionId, upTo));
    }
    expect((await conversationFor(h.db.db, sessionId, last)).length).toBe(40);
  });

  test("whitespace Postgres does not count as space (no-break, zero-width no-break) still leaves a message out", async () => {
    const rows: { role: Role; content: string; state?: State }[] = [];
    for (let i = 0; i < 45; i++) rows.push({ role: "user", content: `line ${i}` });
    for (let i = 0; i < 5; i++) rows.push({ role: "assistant", content: "\u00a0\ufeff\u2028", state: "complete" });
    const { sessionId, last } = await sessionWith(rows);
    const got = asText(await conversationFor(h.db.db, sessionId, last));
    expect(got).toEqual(await reference(sessionId, last));
    expect(got.length).toBe(40);
    expect(got.at(-1)).toBe("user:line 44");
  });

  test("a short session and an empty one", async () => {
    const { sessionId, last } = await sessionWith([
      { role: "user", content: "hi" },
      { role: "assistant", content: "hello", state: "complete" },
      { role: "system", content: "a system note" },
    ]);
    expect(asText(await conversationFor(h.db.db, sessionId, last))).toEqual(["user:hi", "assistant:hello", "system:a system note"]);
    const empty = await sessionWith([]);
    expect(await conversationFor(h.db.db, empty.sessionId, 10)).toEqual([]);
  });
});

describe("conversationAfter (the history read with the session, completed by the turn's message)", () => {
  /** What a chat turn's first statement reads: the newest kept rows through `throughSeq`. */
  async function readWithSession(sessionId: string, throughSeq: number) {
    const [row] = await h.db.db
      .select({ history: newestHistoryField({ sessionId: sql`${sessionId}::uuid` as never, throughSeq: sql`${throughSeq}::int` as never }) })
      .from(sql`(select 1) as one`);
    return row?.history ?? [];
  }
  async function rowAt(sessionId: string, seq: number) {
    const [row] = await h.db.db
      .select()
      .from(messages)
      .where(and(eq(messages.sessionId, sessionId), eq(messages.seq, seq)));
    if (!row) throw new Error(`no row ${seq}`);
    return row;
  }

  test("is exactly what conversationFor reads, on a long session with every kind of row left out", async () => {
    const rows: { role: Role; content: string; state?: State; meta?: MessageMeta }[] = [];
    for (let i = 0; i < 60; i++) {
      rows.push({ role: "user", content: `question ${i}` });
      if (i % 7 === 3) rows.push({ role: "assistant", content: `broken ${i}`, state: "failed" });
      else if (i % 11 === 5) rows.push({ role: "assistant", content: `withheld reply ${i}`, state: "complete", meta: { flags: ["blocked"] } });
      else if (i % 9 === 2) rows.push({ role: "teacher", content: `note ${i}` });
      else if (i % 10 === 4) rows.push({ role: "assistant", content: "   ", state: "stopped" });
      else rows.push({ role: "assistant", content: `answer ${i}`, state: "complete" });
    }
    rows.push({ role: "user", content: "the turn's own message" });
    const { sessionId, last } = await sessionWith(rows);
    const got = conversationAfter(await readWithSession(sessionId, last - 1), last - 1, await rowAt(sessionId, last));
    expect(got).not.toBeNull();
    expect(asText(got ?? [])).toEqual(asText(await conversationFor(h.db.db, sessionId, last)));
    expect(got?.length).toBe(40);
    const short = await sessionWith([
      { role: "user", content: "hi" },
      { role: "assistant", content: "hello", state: "complete" },
      { role: "user", content: "and now?" },
    ]);
    const first = conversationAfter(await readWithSession(short.sessionId, 2), 2, await rowAt(short.sessionId, 3));
    expect(asText(first ?? [])).toEqual(["user:hi", "assistant:hello", "user:and now?"]);
    const alone = await sessionWith([{ role: "user", content: "first words" }]);
    expect(asText(conversationAfter(await readWithSession(alone.sessionId, 0), 0, await rowAt(alone.sessionId, 1)) ?? [])).toEqual(["user:first words"]);
  });

  test("is null, so the turn reads it again, when anything was stored between the read and the turn's message, or when JavaScript's trim drops a row of a full page", async () => {
    const between = await sessionWith([
      { role: "user", content: "hi" },
      { role: "teacher", content: "a note written meanwhile" },
      { role: "user", content: "the turn's message" },
    ]);
    // Read through seq 1; the note (seq 2) was stored before the turn's message (seq 3).
    expect(conversationAfter(await readWithSession(between.sessionId, 1), 1, await rowAt(between.sessionId, 3))).toBeNull();
    const rows: { role: Role; content: string; state?: State }[] = [];
    for (let i = 0; i < 45; i++) rows.push({ role: "user", content: `line ${i}` });
    for (let i = 0; i < 5; i++) rows.push({ role: "assistant", content: "\u00a0\ufeff\u2028", state: "complete" });
    rows.push({ role: "user", content: "the turn's message" });
    const odd = await sessionWith(rows);
    expect(conversationAfter(await readWithSession(odd.sessionId, odd.last - 1), odd.last - 1, await rowAt(odd.sessionId, odd.last))).toBeNull();
    // A message the provider would not see (blank) is not completed here either.
    const blank = await sessionWith([
      { role: "user", content: "hi" },
      { role: "user", content: "  " },
    ]);
    expect(conversationAfter(await readWithSession(blank.sessionId, 1), 1, await rowAt(blank.sessionId, 2))).toBeNull();
  });
});
