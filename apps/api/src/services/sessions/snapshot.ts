import { messages } from "@raptscallions/db";
import { asc, eq } from "drizzle-orm";
import type { ServiceContext } from "../context.ts";
import { sessionRoom } from "../rooms.ts";
import { toMessageDto, toSessionDto } from "./dto.ts";
import { loadVisibleSession } from "./load.ts";
import { recordView } from "./read.ts";

/**
 * A session's state and the room position it corresponds to: the `snapshot` frame of a watcher
 * who joins without an offset, and `GET /api/sessions/:id/snapshot` for a client reloading after
 * a reset. Events after `(epoch, offset)` — the rest of a streaming answer, then the live tail —
 * apply to exactly this text.
 *
 * A streaming answer's text is its last checkpoint, so the position is the checkpoint's. When the
 * checkpoint belongs to another numbering than the room's current one (the numbering restarted
 * mid-answer and the runner has not checkpointed in the new one yet), no offset of the current
 * numbering matches that text: the position is then the start of the current numbering, whose
 * events include the runner's re-announcement of the answer with its whole text so far.
 */
export async function sessionSnapshot(ctx: ServiceContext, sessionId: string, opts: { recordView?: boolean } = {}) {
  const head = await ctx.bus.head(sessionRoom(sessionId));
  const session = await loadVisibleSession(ctx.db, ctx.actor, sessionId);
  if (opts.recordView) await recordView(ctx, session);
  const rows = await ctx.db.select().from(messages).where(eq(messages.sessionId, sessionId)).orderBy(asc(messages.seq));
  const recent = rows.slice(-200);
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
      truncated: rows.length > recent.length,
    },
  };
}
