import type { RoomHead } from "@raptscallions/bus";
import { type Db, messages, preparedOn } from "@raptscallions/db";
import { desc, eq, sql } from "drizzle-orm";
import type { ServiceContext } from "../context.ts";
import { sessionRoom } from "../rooms.ts";
import { toMessageDto, toSessionDto } from "./dto.ts";
import { type LoadedSession, loadVisibleSession } from "./load.ts";
import { recordView } from "./read.ts";

/** How many of a session's newest messages a snapshot carries; older ones are paged over REST. */
export const SNAPSHOT_MESSAGES = 200;

// Every late joiner's snapshot runs it: prepared once per database.
function prepareNewestMessages(db: Db) {
  return db
    .select()
    .from(messages)
    .where(eq(messages.sessionId, sql.placeholder("sessionId")))
    .orderBy(desc(messages.seq))
    .limit(SNAPSHOT_MESSAGES + 1)
    .prepare("snapshot_messages");
}

/**
 * A session's state and the room position it corresponds to: the `snapshot` frame of a watcher
 * who joins without an offset, and `GET /api/sessions/:id/snapshot` for a client reloading after
 * a reset. Events after `(epoch, offset)` — the rest of a streaming answer, then the live tail —
 * apply to exactly this text.
 *
 * Only the newest SNAPSHOT_MESSAGES (plus one, to tell whether older ones exist) are read, newest
 * first along the (session, seq) index, so a late joiner of a long session costs what it is sent.
 * A session streams at most one answer at a time (a unique index holds it) and that answer is
 * among the newest messages in any real session; the window is also where the snapshot looks for
 * it, as before.
 *
 * A streaming answer's text is its last checkpoint, so the position is the checkpoint's. When the
 * checkpoint belongs to another numbering than the room's current one (the numbering restarted
 * mid-answer and the runner has not checkpointed in the new one yet), no offset of the current
 * numbering matches that text: the position is then the start of the current numbering, whose
 * events include the runner's re-announcement of the answer with its whole text so far.
 *
 * `read` is a head and a session row the caller already read, in that order (the socket's
 * subscription check loads the session anyway): the snapshot then costs one query.
 */
export async function sessionSnapshot(ctx: ServiceContext, sessionId: string, opts: { recordView?: boolean; read?: { head: RoomHead; session: LoadedSession } } = {}) {
  // The head is read before the rows: every event after it then applies to rows at least this new.
  const head = opts.read?.head ?? (await ctx.bus.head(sessionRoom(sessionId)));
  const session = opts.read?.session ?? (await loadVisibleSession(ctx.db, ctx.actor, sessionId));
  if (opts.recordView) await recordView(ctx, session);
  const newestFirst = await preparedOn(ctx.db, "snapshot_messages", prepareNewestMessages).execute({ sessionId });
  const truncated = newestFirst.length > SNAPSHOT_MESSAGES;
  const recent = newestFirst.slice(0, SNAPSHOT_MESSAGES).reverse();
  const streaming = recent.find((m) => m.state === "streaming");
  let offset = head.offset;
  if (streaming && streaming.checkpointOffset !== null) {
    offset = streaming.checkpointEpoch === head.epoch ? streaming.checkpointOffset : 0;
  }
  return {
    epoch: head.epoch,
    offset,
    payload: {
      session: toSessionDto(session),
      messages: recent.map(toMessageDto),
      streamingMessageId: streaming?.id ?? null,
      truncated,
    },
  };
}
