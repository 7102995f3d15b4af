import {
  idParamSchema,
  listSessionsQuerySchema,
  messagePageSchema,
  pageOf,
  pageQuerySchema,
  sendMessageBodySchema,
  sendMessageResponseSchema,
  sessionDtoSchema,
  sessionResponseSchema,
  sessionSnapshotResponseSchema,
  sessionWithRoomSchema,
  startSessionBodySchema,
  stopGenerationResponseSchema,
  submitSessionResponseSchema,
  teacherMessageResponseSchema,
} from "@raptscallions/core";
import { Hono } from "hono";
import { requireUser } from "../../auth/middleware.ts";
import type { AppEnv } from "../../deps.ts";
import { describeRoute, jsonBody, pathParams, queryParams } from "../../openapi/index.ts";
import type { RealtimeRuntime } from "../../realtime/runtime.ts";
import { serviceContext } from "../../services/context.ts";
import type { StudentMessageGate } from "../../services/modules/hooks.ts";
import { sendStudentMessage } from "../../services/live/send-student-message.ts";
import { changeSessionState, postTeacherMessage, stopGeneration } from "../../services/live/teacher-actions.ts";
import { sessionRoom } from "../../services/rooms.ts";
import { getSession, listMessages, listSessions } from "../../services/sessions/read.ts";
import { sessionSnapshot } from "../../services/sessions/snapshot.ts";
import { startSession } from "../../services/sessions/start.ts";
import { submitSession } from "../../services/live/submit-session.ts";

const tags = ["sessions"];
const viewers = "the student, teachers of the session's class and admins over its group";
const staff = "teachers of the session's class and admins over its group";

/** Sessions over REST; the same services the WebSocket protocol calls. Mounted at `/api/sessions`. */
export function sessionRoutes(_runtime: RealtimeRuntime, gate?: StudentMessageGate) {
  const app = new Hono<AppEnv>();

  app.post(
    "/",
    describeRoute({
      summary: "Start a session with a tool (optionally in a class) or on an assignment",
      description: "With `assignmentId`, the session is an attempt at it (a submission in progress is created).",
      tags,
      access: "students of the class (or of the assignment's class); staff may start their own sessions with tools they can use",
      responses: { 201: { description: "The new session", schema: sessionResponseSchema } },
      errors: [409],
    }),
    requireUser,
    jsonBody(startSessionBodySchema),
    async (c) => {
      const session = await startSession({ ctx: serviceContext(c), input: c.req.valid("json") });
      return c.json({ session }, 201);
    },
  );

  app.get(
    "/",
    describeRoute({
      summary: "Sessions the caller can see, newest first",
      description: "`classId`, `assignmentId` and `state` narrow the list.",
      tags,
      access: "students: their own; teachers: their classes'; admins: their subtrees'",
      responses: { 200: { description: "A page of sessions", schema: pageOf(sessionDtoSchema) } },
    }),
    requireUser,
    queryParams(listSessionsQuerySchema),
    async (c) => c.json(await listSessions({ ctx: serviceContext(c), input: c.req.valid("query") }), 200),
  );

  app.get(
    "/:id",
    describeRoute({
      summary: "A session and where its room stands",
      description: "Load over REST, then subscribe to `room.name` with `(epoch, offset)` to continue live.",
      tags,
      access: viewers,
      responses: { 200: { description: "The session and its room position", schema: sessionWithRoomSchema } },
    }),
    requireUser,
    pathParams(idParamSchema),
    async (c) => c.json(await getSession({ ctx: serviceContext(c), input: { sessionId: c.req.valid("param").id } }), 200),
  );

  app.get(
    "/:id/snapshot",
    describeRoute({
      summary: "The session's last 200 messages with the room position they correspond to",
      description: "What a `snapshot` frame carries; a streaming answer holds its text so far. Records that a teacher viewed it.",
      tags,
      access: viewers,
      responses: { 200: { description: "The snapshot", schema: sessionSnapshotResponseSchema } },
    }),
    requireUser,
    pathParams(idParamSchema),
    async (c) => {
      const sessionId = c.req.valid("param").id;
      const snapshot = await sessionSnapshot(serviceContext(c), sessionId, { recordView: true });
      return c.json({ room: sessionRoom(sessionId), ...snapshot }, 200);
    },
  );

  app.get(
    "/:id/messages",
    describeRoute({
      summary: "A session's messages in seq order",
      tags,
      access: viewers,
      responses: { 200: { description: "A page of messages", schema: messagePageSchema } },
    }),
    requireUser,
    pathParams(idParamSchema),
    queryParams(pageQuerySchema),
    async (c) => {
      const input = { sessionId: c.req.valid("param").id, ...c.req.valid("query") };
      return c.json(await listMessages({ ctx: serviceContext(c), input }), 200);
    },
  );

  app.post(
    "/:id/messages",
    describeRoute({
      summary: "Send a student message; the answer streams over the session's room",
      description:
        "Idempotent on `clientMessageId`: a repeat answers 200 with `duplicate: true` and starts nothing, unless its answer failed, when a new answer is started (201).",
      tags,
      access: "the session's student",
      responses: {
        201: { description: "Stored (or a failed answer retried); `answer` is the answer now streaming, if any", schema: sendMessageResponseSchema },
        200: { description: "A repeat of a stored message (`duplicate: true`)", schema: sendMessageResponseSchema },
      },
      errors: [409, 429, 503],
    }),
    requireUser,
    pathParams(idParamSchema),
    jsonBody(sendMessageBodySchema),
    async (c) => {
      const input = { sessionId: c.req.valid("param").id, ...c.req.valid("json") };
      const r = await sendStudentMessage({ ctx: serviceContext(c), input, gate });
      // 201 whenever something was created: a new message, or a new answer retrying a failed one.
      return c.json(r, r.duplicate && !r.retried ? 200 : 201);
    },
  );

  app.post(
    "/:id/teacher-messages",
    describeRoute({
      summary: "Post a teacher message into the chat",
      description: "Idempotent on `clientMessageId`: a repeat answers 200 with `duplicate: true`.",
      tags,
      access: staff,
      responses: {
        201: { description: "Stored", schema: teacherMessageResponseSchema },
        200: { description: "A repeat of a stored message (`duplicate: true`)", schema: teacherMessageResponseSchema },
      },
      errors: [409],
    }),
    requireUser,
    pathParams(idParamSchema),
    jsonBody(sendMessageBodySchema),
    async (c) => {
      const input = { sessionId: c.req.valid("param").id, ...c.req.valid("json") };
      const r = await postTeacherMessage({ ctx: serviceContext(c), input });
      return c.json(r, r.duplicate ? 200 : 201);
    },
  );

  app.post(
    "/:id/stop",
    describeRoute({
      summary: "Stop the streaming answer",
      description: "Accepted: the answer is aborted upstream and finalised as `stopped` (watch the room for `message.completed`).",
      tags,
      access: viewers,
      responses: { 202: { description: "The answer being stopped (null when none was streaming)", schema: stopGenerationResponseSchema } },
    }),
    requireUser,
    pathParams(idParamSchema),
    async (c) => c.json(await stopGeneration({ ctx: serviceContext(c), input: { sessionId: c.req.valid("param").id } }), 202),
  );

  for (const [action, to, summary] of [
    ["pause", "paused", "Pause a session (students cannot send until it resumes)"],
    ["resume", "active", "Resume a paused session"],
    ["end", "completed", "End a session"],
  ] as const) {
    app.post(
      `/:id/${action}`,
      describeRoute({
        summary,
        description: "Idempotent: a session already in that state is answered as it is.",
        tags,
        access: staff,
        responses: { 200: { description: "The session", schema: sessionResponseSchema } },
        errors: [409],
      }),
      requireUser,
      pathParams(idParamSchema),
      async (c) => {
        const session = await changeSessionState({ ctx: serviceContext(c), input: { sessionId: c.req.valid("param").id, to } });
        return c.json({ session }, 200);
      },
    );
  }

  app.post(
    "/:id/submit",
    describeRoute({
      summary: "Hand in an assignment attempt (ends the session)",
      tags,
      access: "the session's student",
      responses: { 200: { description: "The submitted attempt", schema: submitSessionResponseSchema } },
      errors: [409],
    }),
    requireUser,
    pathParams(idParamSchema),
    async (c) => {
      const submission = await submitSession({ ctx: serviceContext(c), input: { sessionId: c.req.valid("param").id } });
      return c.json({ submission }, 200);
    },
  );

  return app;
}
