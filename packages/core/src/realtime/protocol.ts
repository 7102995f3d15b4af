import { z } from "zod";
import { errorCodeSchema } from "../errors.ts";

/**
 * The WebSocket protocol (docs/protocol.md). Every frame either way is one JSON object with a
 * `type`. Clients check `protocolVersion` in the `hello` frame; a breaking change bumps it.
 */
export const PROTOCOL_VERSION = 1;

/** Limits the server enforces, announced in `hello` so clients can stay inside them. */
export const REALTIME_LIMITS = {
  /** Larger frames get a FRAME_TOO_LARGE error frame (the connection lives). */
  maxFrameBytes: 16 * 1024,
  /** Student and teacher message content, in characters. */
  maxMessageChars: 4000,
  /**
   * Sustained client frames per second; bursts up to `burstFrames` (a teacher opening a class
   * subscribes to every session room at once). Beyond: closed with 1008.
   */
  framesPerSecond: 20,
  burstFrames: 120,
} as const;

/** Close codes the server uses (documented in docs/protocol.md). */
export const CLOSE_CODES = {
  normal: 1000,
  goingAway: 1001,
  /** Abuse: sustained frame rate over the limit, or frames far past any sane size. */
  policyViolation: 1008,
  /** The user no longer exists or was deactivated. */
  unauthenticated: 4001,
  /** The consumer fell behind: its send queue passed the bound. Reconnect and resume by offset. */
  slowConsumer: 4008,
  /** The server is shutting down; reconnect (to another instance) and resume by offset. */
  serverRestart: 4012,
} as const;

export const roomSchema = z.string().regex(/^(session|class|run):[0-9a-f-]{36}$/i, "room must be session:<uuid>, class:<uuid> or run:<uuid>");
const requestId = z.string().min(1).max(64).optional();
const clientMessageId = z
  .string()
  .min(1)
  .max(100)
  .regex(/^[\w.:-]+$/, "letters, digits and _ . : - only");
const content = z.string().trim().min(1).max(REALTIME_LIMITS.maxMessageChars);

export const clientFrameSchema = z.discriminatedUnion("type", [
  z.object({
    type: z.literal("subscribe"),
    id: requestId,
    room: roomSchema,
    /** The last offset applied; omit to get a snapshot (session rooms) and the live tail. */
    lastOffset: z.number().int().min(0).optional(),
    epoch: z.string().min(1).max(100).optional(),
  }),
  z.object({ type: z.literal("unsubscribe"), id: requestId, room: roomSchema }),
  z.object({ type: z.literal("message.send"), id: requestId, sessionId: z.uuid(), clientMessageId, content }),
  z.object({ type: z.literal("generation.stop"), id: requestId, sessionId: z.uuid() }),
  z.object({ type: z.literal("session.pause"), id: requestId, sessionId: z.uuid() }),
  z.object({ type: z.literal("session.resume"), id: requestId, sessionId: z.uuid() }),
  z.object({ type: z.literal("session.end"), id: requestId, sessionId: z.uuid() }),
  z.object({ type: z.literal("teacher.message"), id: requestId, sessionId: z.uuid(), clientMessageId, content }),
  /** Acknowledges an alert, as `POST /api/alerts/:id/acknowledge` does (stops its escalation). */
  z.object({ type: z.literal("alert.ack"), id: requestId, alertId: z.uuid() }),
  z.object({ type: z.literal("ping"), id: requestId }),
]);
export type ClientFrame = z.infer<typeof clientFrameSchema>;

/** Event types carried in `event` frames. */
export const ROOM_EVENT_TYPES = [
  "message.created",
  "message.started",
  "message.delta",
  "message.completed",
  "generation.stop-requested",
  "session.started",
  "session.updated",
  "session.ended",
  "alert",
  "struggle",
  "presence.changed",
  "summary",
  "attention.changed",
  /** Run rooms (product tools): the run with its output so far, its output growing, the run finished. */
  "run.started",
  "run.delta",
  "run.completed",
  "run.stop-requested",
] as const;
export type RoomEventType = (typeof ROOM_EVENT_TYPES)[number];

export const messageDtoSchema = z.object({
  id: z.uuid(),
  sessionId: z.uuid(),
  seq: z.number().int(),
  role: z.enum(["user", "assistant", "system", "teacher"]),
  authorId: z.uuid().nullable(),
  content: z.string(),
  state: z.enum(["streaming", "complete", "stopped", "failed", "interrupted"]).nullable(),
  clientMessageId: z.string().nullable(),
  meta: z.record(z.string(), z.unknown()),
  createdAt: z.string(),
  finalizedAt: z.string().nullable(),
});
export type MessageDto = z.infer<typeof messageDtoSchema>;

export const serverFrameSchema = z.discriminatedUnion("type", [
  z.object({
    type: z.literal("hello"),
    protocolVersion: z.number().int(),
    connectionId: z.string(),
    userId: z.uuid(),
    limits: z.record(z.string(), z.number()),
  }),
  z.object({ type: z.literal("ack"), id: z.string().optional(), for: z.string(), result: z.unknown().optional() }),
  z.object({
    type: z.literal("error"),
    id: z.string().optional(),
    code: errorCodeSchema,
    message: z.string(),
    details: z.unknown().optional(),
  }),
  z.object({
    type: z.literal("event"),
    room: z.string(),
    epoch: z.string(),
    offset: z.number().int(),
    event: z.string(),
    payload: z.unknown(),
    at: z.string(),
  }),
  /** Session rooms, when subscribing without an offset: state so far; events after `offset` follow. */
  z.object({
    type: z.literal("snapshot"),
    room: z.string(),
    epoch: z.string().nullable(),
    offset: z.number().int(),
    payload: z.unknown(),
  }),
  /** What the client holds is stale: reload over REST, then continue after `latestOffset`. */
  z.object({
    type: z.literal("reset"),
    room: z.string(),
    epoch: z.string().nullable(),
    latestOffset: z.number().int(),
    reason: z.string(),
  }),
  z.object({ type: z.literal("pong"), id: z.string().optional(), at: z.string() }),
]);
export type ServerFrame = z.infer<typeof serverFrameSchema>;
