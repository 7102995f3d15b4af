import { z } from "zod";
import { messageDtoSchema, REALTIME_LIMITS } from "../realtime/protocol.ts";
import { pageOf, pageQuerySchema } from "./common.ts";

export const startSessionBodySchema = z.union([
  z.object({ toolId: z.uuid(), classId: z.uuid().optional(), title: z.string().trim().min(1).max(200).optional() }).strict(),
  z.object({ assignmentId: z.uuid(), title: z.string().trim().min(1).max(200).optional() }).strict(),
]);
export type StartSessionBody = z.infer<typeof startSessionBodySchema>;

export const listSessionsQuerySchema = pageQuerySchema.extend({
  classId: z.uuid().optional(),
  assignmentId: z.uuid().optional(),
  state: z.enum(["active", "paused", "completed"]).optional(),
});

export const sessionDtoSchema = z.object({
  id: z.uuid(),
  toolId: z.uuid(),
  toolVersion: z.number().int(),
  studentId: z.uuid(),
  groupId: z.uuid(),
  classId: z.uuid().nullable(),
  assignmentId: z.uuid().nullable(),
  state: z.enum(["active", "paused", "completed"]),
  title: z.string().nullable(),
  startedAt: z.string(),
  endedAt: z.string().nullable(),
});

export const sendMessageBodySchema = z.object({
  clientMessageId: z
    .string()
    .min(1)
    .max(100)
    .regex(/^[\w.:-]+$/),
  content: z.string().trim().min(1).max(REALTIME_LIMITS.maxMessageChars),
});

export const ticketResponseSchema = z.object({
  ticket: z.string(),
  expiresAt: z.string(),
  url: z.string(),
});

/** `GET /api/sessions/:id`: the session and where its room stands, to load over REST then resume by offset. */
export const sessionWithRoomSchema = z.object({
  session: sessionDtoSchema,
  room: z.object({ name: z.string(), epoch: z.string().nullable(), offset: z.number().int() }),
});

/** `POST /api/sessions/:id/messages` (and the `message.send` result, which carries only ids). */
export const sendMessageResponseSchema = z.object({
  message: messageDtoSchema,
  answer: messageDtoSchema.nullable(),
  duplicate: z.boolean(),
});

/** `GET /api/sessions/:id/messages`: one page in seq order. */
export const messagePageSchema = pageOf(messageDtoSchema);

/** `POST /api/sessions/:id/stop`: the answer being stopped, if one was streaming. */
export const stopGenerationResponseSchema = z.object({ messageId: z.uuid().nullable() });

/** `{ session }`: what starting, pausing, resuming and ending a session answer. */
export const sessionResponseSchema = z.object({ session: sessionDtoSchema });

/** What a `snapshot` frame carries and `GET /api/sessions/:id/snapshot` answers as `payload`: the last 200 messages. */
export const sessionSnapshotPayloadSchema = z.object({
  session: sessionDtoSchema,
  messages: z.array(messageDtoSchema),
  streamingMessageId: z.string().nullable(),
  truncated: z.boolean(),
});

/** `GET /api/sessions/:id/snapshot`: the snapshot frame's content over REST. */
export const sessionSnapshotResponseSchema = z.object({
  room: z.string(),
  epoch: z.string().nullable(),
  offset: z.number().int(),
  payload: sessionSnapshotPayloadSchema,
});

/** `POST /api/sessions/:id/teacher-messages`. */
export const teacherMessageResponseSchema = z.object({ message: messageDtoSchema, duplicate: z.boolean() });

/** `POST /api/sessions/:id/submit`: the attempt, now submitted. */
export const submitSessionResponseSchema = z.object({
  submission: z.object({
    id: z.uuid(),
    assignmentId: z.uuid(),
    attempt: z.number().int(),
    state: z.string(),
    submittedAt: z.string().nullable(),
    sessionId: z.uuid(),
  }),
});
