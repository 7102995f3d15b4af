import type { Bus } from "@raptscallions/bus";
import { aiUsage, type Db, type MessageMeta, messages, preparedOn } from "@raptscallions/db";
import { and, eq, getTableColumns, type SQL, sql } from "drizzle-orm";
import type { GenerationStatus, StartGenerationInput, StreamTarget, UsageRow } from "../../lib/ai-service.ts";
import type { Logger } from "../../lib/logger.ts";
import type { FinishedAnswer } from "../modules/hooks.ts";
import { sessionRoom } from "../rooms.ts";
import { toMessageDto } from "../sessions/dto.ts";
import { publishAnswerFinalised } from "./answer-events.ts";

export type { StreamTarget, TargetEvent } from "../../lib/ai-service.ts";

/** The runner's dependencies a message target uses. */
export interface AnswerTargetDeps {
  db: Db;
  bus: Bus;
  logger: Logger;
  onAnswerFinished?: ((info: FinishedAnswer) => Promise<void>) | undefined;
}

/** A chat answer: the assistant message row of a session, streamed into the session room. */
export function answerTarget(deps: AnswerTargetDeps, input: StartGenerationInput): StreamTarget {
  const room = sessionRoom(input.sessionId);
  return {
    id: input.messageId,
    room,
    epoch: input.epoch ?? null,
    offset: input.offset ?? null,
    delta: (charOffset, text) => ({ type: "message.delta", payload: { messageId: input.messageId, charOffset, text } }),
    stopType: "generation.stop-requested",
    isStopRequest: (ev) => ev.type === "generation.stop-requested" && (ev.payload as { messageId?: string } | null)?.messageId === input.messageId,
    async recordStarted(model) {
      const recorded =
        input.offset !== undefined && input.offset !== null
          ? preparedOn(deps.db, "answer_started", prepareStarted).execute({
              id: input.messageId,
              meta: JSON.stringify({ model }),
              offset: input.offset,
              epoch: input.epoch ?? null,
            })
          : deps.db
              .update(messages)
              .set({ meta: mergeMeta({ model }) })
              .where(and(eq(messages.id, input.messageId), eq(messages.state, "streaming")));
      await recorded;
    },
    async checkpoint(text, offset, epoch, model, at) {
      await preparedOn(deps.db, "answer_checkpoint", prepareCheckpoint).execute(checkpointValues(input.messageId, text, offset, epoch, model, at));
    },
    async checkpointForAnnounce(text, offset, epoch, model, at) {
      const [row] = await preparedOn(deps.db, "answer_checkpoint_row", prepareCheckpointReturningRow).execute(
        checkpointValues(input.messageId, text, offset, epoch, model, at),
      );
      return row ? { type: "message.started", payload: { message: toMessageDto(row) } } : null;
    },
    async finalize(state, content, meta, at, usage) {
      const values = { id: input.messageId, state, content, meta: JSON.stringify(meta), now: at.toISOString() };
      const [row] = usage ? await finalizeWithUsage(deps, values, usage) : await preparedOn(deps.db, "answer_finalize", prepareFinalize).execute(values);
      if (!row) return;
      await publishAnswerFinalised(deps.bus, deps.logger, row, input.classId);
      const hook = input.afterAnswer ?? deps.onAnswerFinished;
      if (hook) {
        try {
          await hook({ sessionId: input.sessionId, classId: input.classId, messageId: row.id, state, content });
        } catch (err) {
          deps.logger.error("answer hook failed", { messageId: row.id, err });
        }
      }
    },
  };
}

/** Adds to the row's meta instead of replacing it: what the answer was created with (a retry's links) stays. */
function mergeMeta(meta: MessageMeta): SQL {
  return sql`${messages.meta} || ${JSON.stringify(meta)}::jsonb`;
}

// The runner's updates run once or more per answer: prepared once per database (values as
// placeholders), each conditional on the row still streaming so a sweeper that finalised it wins.
const streamingRow = and(eq(messages.id, sql.placeholder("id")), eq(messages.state, "streaming"));
// Values in `set` go through `sql` (drizzle takes no bare placeholder there), so nothing maps
// them by column: timestamps are passed as ISO strings, as drizzle would send them.
const value = (name: string) => sql`${sql.placeholder(name)}`;
const mergePlaceholder = sql`${messages.meta} || ${sql.placeholder("meta")}::jsonb`;

function prepareStarted(db: Db) {
  return db
    .update(messages)
    .set({ meta: mergePlaceholder, checkpointOffset: value("offset"), checkpointEpoch: value("epoch") })
    .where(streamingRow)
    .prepare("answer_started");
}

function checkpointValues(id: string, text: string, offset: number | null, epoch: string | null, model: string | null, at: Date) {
  return { id, content: text, offset, epoch, heartbeatAt: at.toISOString(), meta: JSON.stringify(model ? { model } : {}) };
}

function checkpointUpdate(db: Db) {
  return db
    .update(messages)
    .set({
      content: value("content"),
      checkpointOffset: value("offset"),
      checkpointEpoch: value("epoch"),
      heartbeatAt: value("heartbeatAt"),
      meta: mergePlaceholder,
    })
    .where(streamingRow);
}

// A routine checkpoint reads nothing back: the whole row (its text too) is returned only when the
// runner must announce the answer again after a renumbering.
function prepareCheckpoint(db: Db) {
  return checkpointUpdate(db).prepare("answer_checkpoint");
}

function prepareCheckpointReturningRow(db: Db) {
  return checkpointUpdate(db).returning().prepare("answer_checkpoint_row");
}

/** What finalising writes, with or without the usage row beside it. */
function finalizedValues() {
  return { state: value("state"), content: value("content"), meta: mergePlaceholder, finalizedAt: value("now"), streamOwner: null, heartbeatAt: value("now") };
}

function prepareFinalize(db: Db) {
  return db.update(messages).set(finalizedValues()).where(streamingRow).returning().prepare("answer_finalize");
}

/**
 * The finalisation and the usage row in one statement; apart if that fails (a lost usage row must
 * not leave the answer streaming). Either way the row is written only by the finaliser that wins
 * the answer: when a sweeper finalised it first (this instance stalled past the stale limit and
 * came back), the sweeper's estimated row is the call's one and the limits were settled to it.
 */
async function finalizeWithUsage(deps: AnswerTargetDeps, values: { id: string; state: GenerationStatus; content: string; meta: string; now: string }, usage: UsageRow) {
  try {
    return await preparedOn(deps.db, "answer_finalize_usage", prepareFinalizeWithUsage).execute({ ...values, usage: usageJson(usage) });
  } catch (err) {
    deps.logger.warn("finalising with the usage row failed; writing them apart", { messageId: values.id, err });
  }
  const rows = await preparedOn(deps.db, "answer_finalize", prepareFinalize).execute(values);
  if (rows.length > 0) {
    await deps.db
      .insert(aiUsage)
      .values(usage)
      .catch((err: unknown) => deps.logger.error("writing the ai_usage row failed", { err, messageId: usage.messageId, model: usage.model }));
  }
  return rows;
}

// The usage row travels as one JSON parameter (column names as keys) and is inserted by a
// data-modifying WITH only when the update, a WITH of its own, returned the row: a sweeper that
// finalised the answer first leaves neither to do. The update's row lock re-checks the committed
// row, where a condition read from the statement's snapshot would not: a sweeper committing
// between this statement's snapshot and its row lock makes both match nothing
// (live-finalise-race.test.ts).
const usageColumns = Object.entries(getTableColumns(aiUsage)).filter(([key]) => key !== "id" && key !== "createdAt");
const usageColumnList = sql.raw(usageColumns.map(([, c]) => `"${c.name}"`).join(", "));

function usageJson(row: UsageRow): string {
  const out: Record<string, unknown> = {};
  for (const [key, column] of usageColumns) out[column.name] = row[key as keyof UsageRow] ?? null;
  return JSON.stringify(out);
}

function prepareFinalizeWithUsage(db: Db) {
  const finalized = db.$with("finalized").as(db.update(messages).set(finalizedValues()).where(streamingRow).returning());
  const usage = db
    .$with("usage", {})
    .as(
      sql`insert into ${aiUsage} (${usageColumnList}) select ${usageColumnList} from jsonb_populate_record(null::${aiUsage}, ${sql.placeholder("usage")}::jsonb) where exists (select 1 from ${finalized})`,
    );
  return db.with(finalized, usage).select().from(finalized).prepare("answer_finalize_usage");
}
