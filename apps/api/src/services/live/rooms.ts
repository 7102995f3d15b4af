import type { Bus } from "@raptscallions/bus";
import type { RoomEventType } from "@raptscallions/core";
import type { messages } from "@raptscallions/db";
import { toMessageDto } from "../sessions/dto.ts";
import type { Logger } from "../../lib/logger.ts";

export const sessionRoom = (sessionId: string) => `session:${sessionId}`;
export const classRoom = (classId: string) => `class:${classId}`;

/** Publishes a room event; returns its offset. */
export async function publish(bus: Bus, room: string, type: RoomEventType, payload: unknown) {
  return bus.publish(room, { type, payload });
}

/**
 * Publishes an event that is secondary to a state change already committed (a class-room summary,
 * a presence note): a failure is logged, never turned into a failed request, because the row is
 * the truth and watchers resynchronise by offset or reload.
 */
export async function publishBestEffort(bus: Bus, logger: Logger, room: string, type: RoomEventType, payload: unknown) {
  try {
    await bus.publish(room, { type, payload });
  } catch (err) {
    logger.warn("publish failed", { room, type, err });
  }
}

/**
 * Tells watchers an answer was finalised (by its runner or by the sweeper): the whole message to
 * the session room, a short summary to the class room.
 */
export async function publishAnswerFinalised(
  bus: Bus,
  logger: Logger,
  row: typeof messages.$inferSelect,
  classId: string | null,
) {
  await publishBestEffort(bus, logger, sessionRoom(row.sessionId), "message.completed", { message: toMessageDto(row) });
  if (classId) {
    await publishBestEffort(bus, logger, classRoom(classId), "message.completed", {
      sessionId: row.sessionId,
      messageId: row.id,
      role: row.role,
      state: row.state,
      preview: row.content.slice(0, 280),
    });
  }
}
