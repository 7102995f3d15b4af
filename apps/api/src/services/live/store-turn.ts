import { AppError, ConflictError } from "@raptscallions/core";
import { type Db, type DbOrTx, extractions, messages, preparedOn, sessions } from "@raptscallions/db";
import { getTableColumns, sql } from "drizzle-orm";
import type { ServiceContext } from "../context.ts";
import { extractionRowsFromJson } from "../modules/findings.ts";
import type { GateDecision } from "../modules/hooks.ts";
import { isUniqueViolation } from "../query-helpers.ts";
import { lockAndClaimSeqs } from "../sessions/seq.ts";
import { assertOpen, findByClientId, type MessageRow, type SendResult, type SessionRow, streamingAnswerOf } from "./answer-turn.ts";
import { withheldMeta } from "../sessions/withheld.ts";

/** The stored student message and its answer row. */
export type TurnRows = { user: MessageRow; answer: MessageRow };

interface TurnInput {
  sessionId: string;
  clientMessageId: string;
}

/**
 * Stores the student's message and its answer row: the answer streams, or (a turn the modules
 * withheld) is already the complete reply. One statement claims the two seqs and inserts both
 * rows, and the gate's quiet findings with them; a turn with an alert (its outbox rows commit
 * with the message: the gate's `persist`), or a session that refused the claim (paused, ended,
 * gone), takes the transaction below, which says why. A
 * concurrent send of the same clientMessageId that won the race is returned as `raced`.
 */
export async function storeTurn(
  ctx: ServiceContext,
  session: SessionRow,
  input: TurnInput,
  gated: GateDecision,
): Promise<{ rows: TurnRows; raced?: undefined } | { raced: SendResult; rows?: undefined }> {
  try {
    const oneStatement = !gated.persist || gated.inlineFindings !== undefined;
    const rows = (oneStatement && (await storeInOneStatement(ctx, session.id, input, gated))) || (await storeInTransaction(ctx, session, input, gated));
    return { rows };
  } catch (err) {
    if (isUniqueViolation(err, "messages_session_client_id_key")) {
      const again = await findByClientId(ctx, input.sessionId, input.clientMessageId);
      if (again) return { raced: again };
    }
    if (isUniqueViolation(err, "messages_one_streaming_key")) {
      const streaming = await streamingAnswerOf(ctx.db, session.id);
      throw new ConflictError("An answer is still streaming in this session", streaming ? { messageId: streaming } : undefined, "SESSION_BUSY");
    }
    throw err;
  }
}

/** The two rows' values as the insert writes them, whichever way they are stored. */
function turnValues(ctx: ServiceContext, gated: GateDecision) {
  const blocked = gated.blockedReply !== null;
  const now = ctx.clock.now();
  return {
    now,
    authorId: ctx.actor.userId,
    userContent: gated.stored,
    userMeta: blocked ? withheldMeta(gated.meta) : gated.meta,
    answerContent: blocked ? (gated.blockedReply ?? "") : "",
    answerState: blocked ? ("complete" as const) : ("streaming" as const),
    streamOwner: blocked ? null : ctx.instanceId,
    finalizedAt: blocked ? now : null,
    answerMeta: blocked ? { flags: gated.replyFlags ?? ["blocked"], model: "modules" } : {},
  };
}

function pair(rows: MessageRow[], seq: number): TurnRows | null {
  const user = rows.find((r) => r.seq === seq);
  const answer = rows.find((r) => r.seq === seq + 1);
  return user && answer ? { user, answer } : null;
}

/** Null when the session refused the claim (not open, or gone): the transaction path says which. */
async function storeInOneStatement(ctx: ServiceContext, sessionId: string, input: TurnInput, gated: GateDecision): Promise<TurnRows | null> {
  const v = turnValues(ctx, gated);
  const rows = await preparedOn(ctx.db, "store_turn", prepareStoreTurn).execute({
    sessionId,
    updatedAt: new Date().toISOString(),
    now: v.now.toISOString(),
    authorId: v.authorId,
    userContent: v.userContent,
    clientMessageId: input.clientMessageId,
    userMeta: JSON.stringify(v.userMeta),
    answerContent: v.answerContent,
    answerState: v.answerState,
    streamOwner: v.streamOwner,
    finalizedAt: v.finalizedAt?.toISOString() ?? null,
    answerMeta: JSON.stringify(v.answerMeta),
    findings: JSON.stringify(gated.inlineFindings?.values ?? []),
  });
  if (rows.length === 0) return null;
  const seq = Math.min(...rows.map((r) => r.seq));
  const stored = pair(
    rows.map(({ findings: _, ...row }) => row as MessageRow),
    seq,
  );
  if (!stored) throw new AppError("INTERNAL", "insert returned nothing");
  gated.inlineFindings?.stored(extractionRowsFromJson(rows[0]?.findings ?? []), stored.user.id);
  return stored;
}

// Claim and insert as one statement, prepared once per database. The update takes the session
// row's lock and, under it, re-checks that the session is open (Postgres re-reads a row it
// waited for), so seqs stay dense and serialised exactly as in the transaction; the insert reads
// the claimed seq from it, and a unique violation (same clientMessageId, or a second streaming
// answer) undoes the claim with the statement. Timestamps and JSON travel as text.
function prepareStoreTurn(db: Db) {
  const p = (name: string) => sql.placeholder(name);
  const claimed = db.$with("claimed", { seq: sql<number>`seq` }).as(
    sql`update ${sessions} set "last_seq" = "last_seq" + 2, "updated_at" = ${p("updatedAt")}::timestamptz
        where "id" = ${p("sessionId")} and "state" not in ('paused', 'completed')
        returning "last_seq" - 1 as seq`,
  );
  const inserted = db.$with("inserted", getTableColumns(messages)).as(
    sql`insert into ${messages} ("session_id", "seq", "role", "author_id", "content", "state", "client_message_id", "stream_owner", "heartbeat_at", "finalized_at", "meta", "created_at")
        select ${p("sessionId")}::uuid, seq, 'user', ${p("authorId")}::uuid, ${p("userContent")}::text, null, ${p("clientMessageId")}::text,
               null, null::timestamptz, null::timestamptz, ${p("userMeta")}::jsonb, ${p("now")}::timestamptz from claimed
        union all
        select ${p("sessionId")}::uuid, seq + 1, 'assistant', null, ${p("answerContent")}::text, ${p("answerState")}::text, null,
               ${p("streamOwner")}::text, ${p("now")}::timestamptz, ${p("finalizedAt")}::timestamptz, ${p("answerMeta")}::jsonb, ${p("now")}::timestamptz from claimed
        returning *`,
  );
  // The gate's quiet findings (none when the array is empty), on the user message's row.
  const found = db.$with("found", { id: sql<string>`id` }).as(
    sql`insert into ${extractions} ("session_id", "message_id", "class_id", "group_id", "module", "kind", "severity", "is_alert", "data", "created_at")
        select m."session_id", m."id", f.class_id, f.group_id, f.module, f.kind, f.severity, false, f.data, f.created_at
        from inserted m cross join jsonb_to_recordset(${p("findings")}::jsonb)
          as f(class_id uuid, group_id uuid, module text, kind text, severity text, data jsonb, created_at timestamptz)
        where m."role" = 'user'
        returning *`,
  );
  const fields = Object.fromEntries(Object.keys(getTableColumns(messages)).map((key) => [key, inserted[key as keyof typeof inserted]]));
  return db
    .with(claimed, inserted, found)
    .select({ ...(fields as typeof inserted._.selectedFields), findings: sql<unknown>`(select coalesce(json_agg(x), '[]'::json) from found x)` })
    .from(inserted)
    .prepare("store_turn");
}

/** Locks the session, claims the seqs and checks it is open, inserts both rows and the gate's findings. */
async function storeInTransaction(ctx: ServiceContext, session: SessionRow, input: TurnInput, gated: GateDecision): Promise<TurnRows> {
  return ctx.db.transaction(async (tx) => {
    // Locking the session row serialises seq allocation and re-checks state under the lock.
    const { seq, state } = await lockAndClaimSeqs(tx, session.id, 2);
    assertOpen(state);
    // One streaming answer per session is the partial unique index's to enforce (the insert
    // below fails on it). A turn the modules block stores a complete reply, so it is never
    // refused as busy: a student in crisis is answered and their teachers alerted even while
    // another answer streams.
    const created = await insertTurnRows(tx, ctx, { sessionId: session.id, seq, clientMessageId: input.clientMessageId, gated });
    await gated.persist?.(tx, { messageId: created.user.id, answerId: created.answer.id });
    return created;
  });
}

async function insertTurnRows(
  tx: DbOrTx,
  ctx: ServiceContext,
  turn: { sessionId: string; seq: number; clientMessageId: string; gated: GateDecision },
): Promise<TurnRows> {
  const v = turnValues(ctx, turn.gated);
  // Both rows in one statement: one round trip, and the pair exists or neither does.
  const rows = await tx
    .insert(messages)
    .values([
      {
        sessionId: turn.sessionId,
        seq: turn.seq,
        role: "user",
        authorId: v.authorId,
        content: v.userContent,
        clientMessageId: turn.clientMessageId,
        meta: v.userMeta,
        createdAt: v.now,
      },
      {
        sessionId: turn.sessionId,
        seq: turn.seq + 1,
        role: "assistant",
        content: v.answerContent,
        state: v.answerState,
        streamOwner: v.streamOwner,
        heartbeatAt: v.now,
        finalizedAt: v.finalizedAt,
        meta: v.answerMeta,
        createdAt: v.now,
      },
    ])
    .returning();
  const stored = pair(rows, turn.seq);
  if (!stored) throw new AppError("INTERNAL", "insert returned nothing");
  return stored;
}
