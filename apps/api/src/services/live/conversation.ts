import { type Db, type DbOrTx, type MessageMeta, messages, preparedOn } from "@raptscallions/db";
import { type AnyColumn, and, asc, desc, eq, lte, sql } from "drizzle-orm";
import { qualified } from "../query-helpers.ts";
import { isWithheld, WITHHELD_FLAGS } from "../sessions/withheld.ts";

/** How many earlier messages the model sees; older context is dropped first. */
const MAX_CONTEXT_MESSAGES = 40;

export type HistoryRow = { seq: number; role: string; content: string; state: string | null; meta: MessageMeta };

// What the model may see of a stored message; the SQL below filters the same way so that only
// the last MAX_CONTEXT_MESSAGES rows are read, and this stays the one exact definition.
function keptForProvider(m: HistoryRow, upToSeq: number): boolean {
  return m.seq <= upToSeq && m.content.trim().length > 0 && (m.role !== "assistant" || m.state !== "failed") && !isWithheld(m.meta);
}

const historyColumns = { seq: messages.seq, role: messages.role, content: messages.content, state: messages.state, meta: messages.meta };

// The SQL side of `keptForProvider` (the content test is narrower than JavaScript's trim).
const keptInSql = and(
  sql`${messages.content} ~ '[^[:space:]]'`,
  sql`not (${messages.role} = 'assistant' and ${messages.state} is not distinct from 'failed')`,
  sql`not coalesce(jsonb_typeof(${messages.meta}->'flags') = 'array' and ${messages.meta}->'flags' ?| ${sql.raw(`array[${WITHHELD_FLAGS.map((f) => `'${f}'`).join(",")}]`)}, false)`,
);

// The newest rows that can be history, in SQL; prepared once per database (every turn runs it).
function prepareNewestKept(db: Db) {
  return db
    .select(historyColumns)
    .from(messages)
    .where(and(eq(messages.sessionId, sql.placeholder("sessionId")), lte(messages.seq, sql.placeholder("upToSeq")), keptInSql))
    .orderBy(desc(messages.seq))
    .limit(sql.placeholder("limit"))
    .prepare("provider_history");
}

/**
 * The rows `conversationFor` reads first (newest first), as one JSON column of another select:
 * a chat turn reads them with its session, through the session's last seq.
 */
export function newestHistoryField(byKey: { sessionId: AnyColumn; throughSeq: AnyColumn }) {
  const keys = qualified(byKey);
  return sql<
    HistoryRow[] | null
  >`(select json_agg(json_build_object('seq', h.seq, 'role', h.role, 'content', h.content, 'state', h.state, 'meta', h.meta) order by h.seq desc)
    from (select ${messages.seq} as seq, ${messages.role} as role, ${messages.content} as content, ${messages.state} as state, ${messages.meta} as meta
          from ${messages} where ${messages.sessionId} = ${keys.sessionId} and ${messages.seq} <= ${keys.throughSeq} and ${keptInSql}
          order by ${messages.seq} desc limit ${MAX_CONTEXT_MESSAGES}) h)`;
}

/**
 * `conversationFor(db, sessionId, current.seq)` without a statement, from the rows
 * {@link newestHistoryField} read through `throughSeq` and the turn's own message `current`, stored
 * since. Null (read it with `conversationFor`) unless `current` came right after what was read —
 * nothing else was stored in between — and the rows settle it exactly as that read would.
 */
export function conversationAfter(newest: readonly HistoryRow[], throughSeq: number, current: HistoryRow): Conversation | null {
  if (current.seq !== throughSeq + 1 || !keptForProvider(current, current.seq)) return null;
  // What the statement would have read: the turn's message (kept by SQL too: JavaScript's trim is
  // the wider test), then the newest rows before it.
  const page = [current, ...newest].slice(0, MAX_CONTEXT_MESSAGES);
  const kept = page.filter((m) => keptForProvider(m, current.seq));
  if (kept.length < page.length && page.length === MAX_CONTEXT_MESSAGES) return null;
  return asConversation(kept.reverse());
}

/** The conversation as the provider gets it. */
export type Conversation = { role: "system" | "assistant" | "user"; content: string }[];

function asConversation(kept: readonly HistoryRow[]): Conversation {
  return kept.map((m) =>
    m.role === "teacher"
      ? { role: "system" as const, content: `The student's teacher wrote to the student: ${m.content}` }
      : { role: m.role === "assistant" ? ("assistant" as const) : m.role === "system" ? ("system" as const) : ("user" as const), content: m.content },
  );
}

/**
 * The conversation as the model sees it: student and assistant turns, teacher interventions as
 * system notes (the tutor should know a teacher stepped in), failed/empty answers left out, and
 * turns the module gate withheld left out. This is the one place provider history is built.
 *
 * Reads only the newest MAX_CONTEXT_MESSAGES rows that pass the filters in SQL. Postgres' notion
 * of whitespace is narrower than JavaScript's `trim`, so the rows are filtered again here; in the
 * rare case that drops a row from a full page, the whole session is read as before.
 */
export async function conversationFor(db: DbOrTx, sessionId: string, upToSeq: number): Promise<Conversation> {
  const newest = await preparedOn(db, "provider_history", prepareNewestKept).execute({ sessionId, upToSeq, limit: MAX_CONTEXT_MESSAGES });
  let kept = newest.filter((m) => keptForProvider(m, upToSeq)).reverse();
  if (kept.length < newest.length && newest.length === MAX_CONTEXT_MESSAGES) {
    const all = await db.select(historyColumns).from(messages).where(eq(messages.sessionId, sessionId)).orderBy(asc(messages.seq));
    kept = all.filter((m) => keptForProvider(m, upToSeq)).slice(-MAX_CONTEXT_MESSAGES);
  }
  return asConversation(kept);
}
