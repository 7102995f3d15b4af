import type { Bus } from "@raptscallions/bus";
import type { messages } from "@raptscallions/db";
import type { Logger } from "../../lib/logger.ts";
import { classRoom, publishBestEffort, sessionRoom } from "../rooms.ts";
import { toMessageDto } from "../sessions/dto.ts";

/**
 * Tells watchers an answer was finalised (by its runner or by the sweeper): the whole message to
 * the session room, a short summary to the class room.
 */
export async function publishAnswerFinalised(bus: Bus, logger: Logger, row: typeof messages.$inferSelect, classId: string | null) {
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
