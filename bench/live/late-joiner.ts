/**
 * Goal 6: a late joiner's snapshot of a long session. One session gets `messages` stored messages
 * (written straight into Postgres in the app's shape, seq 1…n, as thousands of chat turns would
 * leave them); then `joiners` teachers, one after another, open a socket on B and subscribe
 * without an offset, so B answers with a `snapshot`. The instances reach Postgres through the
 * wire counter (bench/turn/pg-counter.ts), which counts the rows Postgres sent back for each
 * statement: the rows read are those of the statements on `messages` while the joiners subscribed,
 * nothing estimated. Time is subscribe sent → snapshot received (the counter's hop included).
 */
import { SQL } from "bun";
import { openAppSocket } from "../storm/client.ts";
import type { PgCounter } from "../turn/pg-counter.ts";
import { closeQuietly, percentile } from "./clients.ts";
import { createSessions } from "./fanout-runs.ts";
import type { LateJoinerResult } from "./goals.ts";
import type { Scene } from "./scene.ts";
import type { Target } from "./targets.ts";

export interface LateJoinerRun {
  result: LateJoinerResult;
  /** Every statement that returned rows while the joiners subscribed: text, runs, rows. */
  statements: { text: string; count: number; rows: number }[];
  fromMs: number;
  toMs: number;
}

/** Stores `count` messages (alternating student and tutor, seq 1…count) in `sessionId`. */
async function fillSession(databaseUrl: string, sessionId: string, count: number): Promise<void> {
  const sql = new SQL(databaseUrl, { max: 1 });
  try {
    for (let from = 0; from < count; from += 1000) {
      const rows = Array.from({ length: Math.min(1000, count - from) }, (_, i) => {
        const seq = from + i + 1;
        const assistant = seq % 2 === 0;
        return {
          session_id: sessionId,
          seq,
          role: assistant ? "assistant" : "user",
          state: assistant ? "complete" : null,
          content: `A message of ordinary length, the kind a student or a tutor writes in a chat, number ${seq}.`,
        };
      });
      await sql`insert into messages ${sql(rows)}`;
    }
    await sql`update sessions set last_seq = ${count} where id = ${sessionId}`;
  } finally {
    await sql.close();
  }
}

/** Subscribes without an offset; resolves with the snapshot's message count and the time it took. */
async function join(app: Target, token: string, room: string, timeoutMs: number): Promise<{ sent: number; ms: number }> {
  let onSnapshot: ((sent: number) => void) | null = null;
  const ws = await openAppSocket(
    app.b.baseUrl,
    app.b.wsUrl,
    token,
    (data) => {
      if (!data.startsWith('{"type":"snapshot"')) return;
      const frame = JSON.parse(data) as { payload?: { messages?: unknown[] } };
      onSnapshot?.(frame.payload?.messages?.length ?? 0);
    },
    timeoutMs,
  );
  try {
    const started = performance.now();
    const sent = await new Promise<number>((resolve, reject) => {
      const t = setTimeout(() => reject(new Error(`no snapshot within ${timeoutMs} ms`)), timeoutMs);
      onSnapshot = (n) => {
        clearTimeout(t);
        resolve(n);
      };
      ws.send(JSON.stringify({ type: "subscribe", id: "late", room }));
    });
    return { sent, ms: performance.now() - started };
  } finally {
    closeQuietly(ws);
  }
}

/**
 * A session of `messages` messages started over REST on A by the first student, then `joiners`
 * late joiners on B (the class's teachers, in turn). `directDatabaseUrl` bypasses the counter.
 */
export async function measureLateJoiner(opts: {
  app: Target;
  counter: PgCounter;
  directDatabaseUrl: string;
  scene: Scene;
  messages: number;
  joiners: number;
  timeoutMs: number;
}): Promise<LateJoinerRun> {
  const student = opts.scene.students[0];
  if (!student || student.teachers.length === 0) throw new Error("late joiner: the scene has no student with a teacher");
  const [sessionId = ""] = await createSessions(opts.app.a, [student], opts.scene.toolId);
  await fillSession(opts.directDatabaseUrl, sessionId, opts.messages);
  const room = `session:${sessionId}`;
  const teachers = student.teachers;
  // One join first, unmeasured: JIT and prepared statements.
  await join(opts.app, teachers[0]?.token ?? "", room, opts.timeoutMs);

  opts.counter.reset();
  const fromMs = Date.now();
  const times: number[] = [];
  let sent = 0;
  for (let i = 0; i < opts.joiners; i++) {
    const r = await join(opts.app, teachers[i % teachers.length]?.token ?? "", room, opts.timeoutMs);
    times.push(r.ms);
    sent = r.sent;
  }
  const toMs = Date.now();
  const counts = opts.counter.snapshot();
  const statements = [...counts.rowsByText.entries()].map(([text, rows]) => ({ text, count: counts.byText.get(text) ?? 0, rows })).sort((a, b) => b.rows - a.rows);
  const messageRows = statements.filter((s) => /\bfrom "messages"/i.test(s.text)).reduce((a, s) => a + s.rows, 0);
  return {
    result: {
      sessionMessages: opts.messages,
      sentMessages: sent,
      rowsRead: opts.joiners > 0 ? messageRows / opts.joiners : Number.NaN,
      joiners: opts.joiners,
      p50Ms: percentile(times, 0.5),
    },
    statements,
    fromMs,
    toMs,
  };
}
