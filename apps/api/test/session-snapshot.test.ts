import { beforeAll, describe, expect, test } from "bun:test";
import { messages } from "@raptscallions/db";
import { makeSchoolScene, makeSession, type SchoolScene } from "@raptscallions/db/testing";
import { useHarness } from "./helpers/harness.ts";

/**
 * A late joiner's snapshot of a long session carries its newest 200 messages in seq order and
 * says that older ones exist; the streaming answer among them sets the resume position.
 */

const h = useHarness();
let s: SchoolScene;

type Snapshot = {
  offset: number;
  payload: { messages: { seq: number; id: string; state: string | null }[]; streamingMessageId: string | null; truncated: boolean };
};

async function sessionWith(count: number, streamingSeq?: number) {
  const session = await makeSession(h.db.db, { toolId: s.tool.id, studentId: s.student.id, groupId: s.department.id, classId: s.cls.id });
  const rows = Array.from({ length: count }, (_, i) => {
    const seq = i + 1;
    const assistant = seq % 2 === 0;
    const streaming = seq === streamingSeq;
    return {
      sessionId: session.id,
      seq,
      role: assistant ? ("assistant" as const) : ("user" as const),
      content: `message ${seq}`,
      state: streaming ? ("streaming" as const) : assistant ? ("complete" as const) : null,
      ...(streaming ? { checkpointOffset: 7, checkpointEpoch: null } : {}),
    };
  });
  // One insert: a few hundred factory calls would dominate the file's run time.
  if (rows.length > 0) await h.db.db.insert(messages).values(rows);
  return session.id;
}

beforeAll(async () => {
  s = await makeSchoolScene(h.db.db);
}, 120_000);

describe("session snapshot of a long session", () => {
  test("carries the newest 200 messages in seq order, marked truncated, with the streaming answer's position", async () => {
    const id = await sessionWith(260, 258);
    const res = await h.as(s.teacher).get<Snapshot>(`/api/sessions/${id}/snapshot`);
    expect(res.status).toBe(200);
    const seqs = res.body.payload.messages.map((m) => m.seq);
    expect(seqs).toEqual(Array.from({ length: 200 }, (_, i) => 61 + i));
    expect(res.body.payload.truncated).toBe(true);
    const streaming = res.body.payload.messages.find((m) => m.seq === 258);
    expect(streaming?.state).toBe("streaming");
    expect(res.body.payload.streamingMessageId).toBe(streaming?.id ?? "missing");
    // The room has no numbering yet (epoch null), which matches the checkpoint's: its offset is the position.
    expect(res.body.offset).toBe(7);
  });

  test("exactly 200 messages are all sent and not truncated; 201 are truncated by one", async () => {
    const full = await h.as(s.student).get<Snapshot>(`/api/sessions/${await sessionWith(200)}/snapshot`);
    expect(full.status).toBe(200);
    expect(full.body.payload.messages.map((m) => m.seq)).toEqual(Array.from({ length: 200 }, (_, i) => i + 1));
    expect(full.body.payload.truncated).toBe(false);
    expect(full.body.payload.streamingMessageId).toBeNull();
    const over = await h.as(s.student).get<Snapshot>(`/api/sessions/${await sessionWith(201)}/snapshot`);
    expect(over.body.payload.messages[0]?.seq).toBe(2);
    expect(over.body.payload.messages.at(-1)?.seq).toBe(201);
    expect(over.body.payload.truncated).toBe(true);
  });

  test("an empty session's snapshot is empty; another student's is 404", async () => {
    const id = await sessionWith(0);
    const empty = await h.as(s.student).get<Snapshot>(`/api/sessions/${id}/snapshot`);
    expect(empty.status).toBe(200);
    expect(empty.body.payload.messages).toEqual([]);
    expect(empty.body.payload.truncated).toBe(false);
    expect((await h.as(s.otherStudent).get(`/api/sessions/${id}/snapshot`)).status).toBe(404);
  });
});
