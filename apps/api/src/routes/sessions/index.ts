import {
  idParamSchema,
  listSessionsQuerySchema,
  pageQuerySchema,
  sendMessageBodySchema,
  startSessionBodySchema,
} from "@raptscallions/core";
import { Hono } from "hono";
import { requireUser } from "../../auth/middleware.ts";
import type { AppEnv } from "../../deps.ts";
import { jsonBody, pathParams, queryParams } from "../../http/validate.ts";
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

/** Sessions over REST; the same services the WebSocket protocol calls. */
export function sessionRoutes(runtime: RealtimeRuntime, gate?: StudentMessageGate) {
  const app = new Hono<AppEnv>();
  app.use("*", requireUser);

  app.post("/", jsonBody(startSessionBodySchema), async (c) => {
    const session = await startSession({ ctx: serviceContext(c), input: c.req.valid("json") });
    return c.json({ session }, 201);
  });

  app.get("/", queryParams(listSessionsQuerySchema), async (c) => {
    return c.json(await listSessions({ ctx: serviceContext(c), input: c.req.valid("query") }), 200);
  });

  app.get("/:id", pathParams(idParamSchema), async (c) => {
    return c.json(await getSession({ ctx: serviceContext(c), input: { sessionId: c.req.valid("param").id } }), 200);
  });

  app.get("/:id/snapshot", pathParams(idParamSchema), async (c) => {
    const ctx = serviceContext(c);
    const sessionId = c.req.valid("param").id;
    const snapshot = await sessionSnapshot(ctx, sessionId, { recordView: true });
    return c.json({ room: sessionRoom(sessionId), ...snapshot }, 200);
  });

  app.get("/:id/messages", pathParams(idParamSchema), queryParams(pageQuerySchema), async (c) => {
    const input = { sessionId: c.req.valid("param").id, ...c.req.valid("query") };
    return c.json(await listMessages({ ctx: serviceContext(c), input }), 200);
  });

  app.post("/:id/messages", pathParams(idParamSchema), jsonBody(sendMessageBodySchema), async (c) => {
    const input = { sessionId: c.req.valid("param").id, ...c.req.valid("json") };
    const r = await sendStudentMessage({ ctx: serviceContext(c), input, gate });
    // 201 whenever something was created: a new message, or a new answer retrying a failed one.
    return c.json(r, r.duplicate && !r.retried ? 200 : 201);
  });

  app.post("/:id/teacher-messages", pathParams(idParamSchema), jsonBody(sendMessageBodySchema), async (c) => {
    const input = { sessionId: c.req.valid("param").id, ...c.req.valid("json") };
    const r = await postTeacherMessage({ ctx: serviceContext(c), input });
    return c.json(r, r.duplicate ? 200 : 201);
  });

  app.post("/:id/stop", pathParams(idParamSchema), async (c) => {
    return c.json(await stopGeneration({ ctx: serviceContext(c), input: { sessionId: c.req.valid("param").id } }), 202);
  });

  for (const [action, to] of [
    ["pause", "paused"],
    ["resume", "active"],
    ["end", "completed"],
  ] as const) {
    app.post(`/:id/${action}`, pathParams(idParamSchema), async (c) => {
      const session = await changeSessionState({
        ctx: serviceContext(c),
        input: { sessionId: c.req.valid("param").id, to },
      });
      return c.json({ session }, 200);
    });
  }

  app.post("/:id/submit", pathParams(idParamSchema), async (c) => {
    const submission = await submitSession({ ctx: serviceContext(c), input: { sessionId: c.req.valid("param").id } });
    return c.json({ submission }, 200);
  });

  return app;
}
