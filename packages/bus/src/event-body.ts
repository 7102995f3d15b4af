import { AppError, encodeEventFrame } from "@raptscallions/core";
import type { BusEvent, BusEventInput } from "./types.ts";

/** The part of an event that is stored and sent as JSON; room, epoch and offset travel beside it. */
export interface EventBody {
  type: string;
  payload: unknown;
  at: string;
}

export const DEFAULT_MAX_PAYLOAD_BYTES = 256 * 1024;

/** An event body as sent: its JSON, and the two fields a node needs without parsing it back. */
export interface EncodedBody {
  json: string;
  type: string;
  at: string;
}

// The last `at` made, for the publishes of the same millisecond (a flush of many answers).
let lastAtMs = Number.NaN;
let lastAt = "";

/**
 * Serialises once, up front. Listeners get a JSON round-tripped value (no shared mutable objects,
 * no Dates that turn into strings only in production): `decodeBody` of the JSON, made only where
 * a listener or caller reads the payload (`publishedEvent`), not on every publish.
 */
export function encodeBody(input: BusEventInput, nowMs: number, maxBytes: number): EncodedBody {
  if (typeof input.type !== "string" || input.type.length === 0 || input.type.length > 100) {
    throw new AppError("BAD_REQUEST", "Event type must be a non-empty string of at most 100 characters");
  }
  if (nowMs !== lastAtMs) {
    lastAt = new Date(nowMs).toISOString();
    lastAtMs = nowMs;
  }
  const at = lastAt;
  const json = JSON.stringify({ type: input.type, payload: input.payload ?? null, at });
  // Byte length, not string length: the limit protects Redis memory and socket frames. A UTF-16
  // code unit is at most 3 bytes of UTF-8, so only a body that long can pass the limit.
  if (json.length * 3 > maxBytes) {
    const bytes = Buffer.byteLength(json, "utf8");
    if (bytes > maxBytes) throw new AppError("PAYLOAD_TOO_LARGE", "Event payload too large", { details: { bytes, maxBytes } });
  }
  return { json, type: input.type, at };
}

/**
 * The event a publish resolves with, numbered: its payload is decoded from the body's JSON the
 * first time it is read (a copy, as listeners get), so a caller that wants only the position (a
 * streaming answer's runner, per delta) costs no parse. The body JSON is remembered for frames.
 */
export function publishedEvent(room: string, epoch: string, offset: number, encoded: EncodedBody): BusEvent {
  const json = encoded.json;
  let payload: unknown;
  let decoded = false;
  const event = {
    room,
    epoch,
    offset,
    type: encoded.type,
    at: encoded.at,
    get payload(): unknown {
      if (!decoded) {
        payload = decodeBody(json).payload;
        decoded = true;
      }
      return payload;
    },
    set payload(value: unknown) {
      payload = value;
      decoded = true;
    },
  };
  return rememberWireBody(event, json);
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
