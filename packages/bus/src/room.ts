import { AppError } from "@raptscallions/core";

// Braces are excluded because the room becomes a Redis Cluster hash tag (`{room}`); whitespace
// and control characters because rooms end up in logs and key names.
const ROOM_PATTERN = /^[A-Za-z0-9][A-Za-z0-9_.:-]{0,199}$/;

/** Throws BAD_REQUEST unless `room` is a safe room name such as `session:<uuid>`. */
export function assertRoom(room: string): void {
  if (!ROOM_PATTERN.test(room)) {
    throw new AppError("BAD_REQUEST", "Invalid room name", { details: { room: room.slice(0, 64) } });
  }
}

/** Throws BAD_REQUEST unless `offset` is a non-negative safe integer. */
export function assertOffset(offset: number): void {
  if (!Number.isSafeInteger(offset) || offset < 0) {
    throw new AppError("BAD_REQUEST", "Offset must be a non-negative integer", { details: { offset } });
  }
}

/** Throws BAD_REQUEST unless `prefix` can prefix Redis keys without breaking hash tags. */
export function assertKeyPrefix(prefix: string): void {
  if (/[{}\s]/.test(prefix)) {
    throw new AppError("BAD_REQUEST", "Key prefix may not contain braces or whitespace");
  }
}

/**
 * Every Redis name of one room's event log. They share the `{room}` hash tag so that in Redis
 * Cluster the stream, the counter and the (sharded) channel live in one slot:
 * the publish script touches several of them atomically, and SPUBLISH from a script must target
 * the slot of its keys.
 */
export function roomKeys(prefix: string, room: string) {
  const tag = `${prefix}{${room}}`;
  return {
    meta: `${tag}:meta`,
    log: `${tag}:log`,
    channel: `${tag}:ch`,
  };
}
