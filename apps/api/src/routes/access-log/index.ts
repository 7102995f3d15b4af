import { accessLogQuerySchema, auditEntrySchema, pageOf } from "@raptscallions/core";
import { Hono } from "hono";
import { requireUser } from "../../auth/middleware.ts";
import type { AppEnv } from "../../deps.ts";
import { describeRoute, queryParams } from "../../openapi/index.ts";
import { listSessionAccessLog } from "../../services/access-log/list.ts";
import { serviceContext } from "../../services/context.ts";

/** The access trail of a student's session. Mounted at `/api/access-log`. */
export function accessLogRoutes() {
  const app = new Hono<AppEnv>();
  app.get(
    "/",
    describeRoute({
      summary: "Who viewed or acted on a session",
      description: "`session.view` entries (REST reads, WebSocket subscribes) and teacher actions on the session, newest first.",
      tags: ["access-log"],
      access: "admins over the session's group",
      responses: { 200: { description: "A page of audit entries", schema: pageOf(auditEntrySchema) } },
    }),
    requireUser,
    queryParams(accessLogQuerySchema),
    async (c) => c.json(await listSessionAccessLog({ ctx: serviceContext(c), input: c.req.valid("query") }), 200),
  );
  return app;
}
