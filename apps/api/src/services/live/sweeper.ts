import type { Bus } from "@raptscallions/bus";
import { type Db, messages, sessions } from "@raptscallions/db";
import { and, eq, lt } from "drizzle-orm";
import type { Clock } from "../../lib/clock.ts";
import type { Logger } from "../../lib/logger.ts";
import { toMessageDto } from "../sessions/dto.ts";
import { classRoom, publishBestEffort, sessionRoom } from "./rooms.ts";

/**
 * Finalises answers left `streaming` by a dead instance: a row whose heartbeat is older than
 * `staleAfterMs` ends `interrupted` with the text of its last checkpoint, and watchers are told.
 * Every instance runs it; the conditional update lets exactly one of them finalise each row.
 */
export async function sweepInterruptedMessages(deps: {
  db: Db;
  bus: Bus;
  clock: Clock;
  logger: Logger;
  staleAfterMs: number;
}): Promise<number> {
  const { db, bus, clock, logger } = deps;
  const cutoff = new Date(clock.now().getTime() - deps.staleAfterMs);
  const stale = await db
    .select({ id: messages.id })
    .from(messages)
    .where(and(eq(messages.state, "streaming"), lt(messages.heartbeatAt, cutoff)))
    .limit(200);
  let finalised = 0;
  for (const { id } of stale) {
    const [row] = await db
      .update(messages)
      .set({ state: "interrupted", finalizedAt: clock.now(), streamOwner: null })
      .where(and(eq(messages.id, id), eq(messages.state, "streaming"), lt(messages.heartbeatAt, cutoff)))
      .returning();
    if (!row) continue;
    finalised += 1;
    logger.warn("finalised an interrupted answer", { messageId: row.id, sessionId: row.sessionId });
    const dto = toMessageDto(row);
    await publishBestEffort(bus, logger, sessionRoom(row.sessionId), "message.completed", { message: dto });
    const [session] = await db.select({ classId: sessions.classId }).from(sessions).where(eq(sessions.id, row.sessionId));
    if (session?.classId) {
      await publishBestEffort(bus, logger, classRoom(session.classId), "message.completed", {
        sessionId: row.sessionId,
        messageId: row.id,
        role: "assistant",
        state: "interrupted",
        preview: row.content.slice(0, 280),
      });
    }
  }
  return finalised;
}

/** Runs the sweep on an interval; returns a stop function. */
export function startSweeper(deps: Parameters<typeof sweepInterruptedMessages>[0] & { intervalMs: number }) {
  let running = false;
  const timer = setInterval(async () => {
    if (running) return;
    running = true;
    try {
      await sweepInterruptedMessages(deps);
    } catch (err) {
      deps.logger.warn("sweep failed", { err });
    } finally {
      running = false;
    }
  }, deps.intervalMs);
  return () => clearInterval(timer);
}
