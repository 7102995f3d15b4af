import type { Bus } from "@raptscallions/bus";
import type { RoomEventType } from "@raptscallions/core";
import type { Logger } from "../lib/logger.ts";

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
