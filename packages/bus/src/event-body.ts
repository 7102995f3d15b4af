import { AppError, encodeEventFrame } from "@raptscallions/core";
import type { BusEvent, BusEventInput } from "./types.ts";

/** The part of an event that is stored and sent as JSON; room, epoch and offset travel beside it. */
export interface EventBody {
  type: string;
  payload: unknown;
  at: string;
}

export const DEFAULT_MAX_PAYLOAD_BYTES = 256 * 1024;

/**
 * Serialises once, up front, so both implementations hand listeners the same JSON round-tripped
 * value (no shared mutable objects, no Dates that turn into strings only in production).
 */
export function encodeBody(input: BusEventInput, nowMs: number, maxBytes: number): { json: string; body: EventBody } {
  if (typeof input.type !== "string" || input.type.length === 0 || input.type.length > 100) {
    throw new AppError("BAD_REQUEST", "Event type must be a non-empty string of at most 100 characters");
  }
  const json = JSON.stringify({ type: input.type, payload: input.payload ?? null, at: new Date(nowMs).toISOString() });
  // Byte length, not string length: the limit protects Redis memory and socket frames.
  const bytes = Buffer.byteLength(json, "utf8");
  if (bytes > maxBytes) {
    throw new AppError("PAYLOAD_TOO_LARGE", "Event payload too large", { details: { bytes, maxBytes } });
  }
  return { json, body: decodeBody(json) };
}

/** Parses a stored body; throws on anything that is not one. */
export function decodeBody(json: string): EventBody {
  const value: unknown = JSON.parse(json);
  if (typeof value !== "object" || value === null) throw new Error("event body is not an object");
  const { type, payload, at } = value as Record<string, unknown>;
  if (typeof type !== "string" || typeof at !== "string") throw new Error("event body lacks type or at");
  return { type, payload, at };
}

// The JSON an event's body was decoded from, kept beside the event (not on it, so nothing that
// serialises events carries it twice). Lets a socket layer splice it into frames instead of
// stringifying the payload again for every event.
const wireBodies = new WeakMap<object, string>();

/** Records the body JSON (`{"type":…,"payload":…,"at":…}`) an event was built from. */
export function rememberWireBody<T extends object>(event: T, json: string): T {
  wireBodies.set(event, json);
  return event;
}

/** The body JSON of an event, when it came through a bus; `undefined` otherwise. */
export function wireBodyOf(event: object): string | undefined {
  return wireBodies.get(event);
}

/**
 * The protocol's `event` frame of an event (`encodeEventFrame`): its body JSON spliced when the
 * event came through a bus, else its fields stringified.
 */
export function eventFrame(e: BusEvent): string {
  const body = wireBodies.get(e) ?? JSON.stringify({ type: e.type, payload: e.payload, at: e.at });
  return encodeEventFrame(e.room, e.epoch, e.offset, body);
}

/** The event an `event` frame carries, for listeners that want it decoded; throws on anything else. */
export function decodeEventFrame(room: string, epoch: string, offset: number, frame: string): BusEvent {
  const value: unknown = JSON.parse(frame);
  if (typeof value !== "object" || value === null) throw new Error("event frame is not an object");
  const { event, payload, at } = value as Record<string, unknown>;
  if (typeof event !== "string" || typeof at !== "string") throw new Error("event frame lacks event or at");
  return { room, epoch, offset, type: event, payload, at };
}
