import { devOutboxSchema } from "@raptscallions/core";
import { Hono } from "hono";
import { requireUser } from "../../auth/middleware.ts";
import type { AppEnv } from "../../deps.ts";
import { describeRoute } from "../../openapi/index.ts";
import { serviceContext } from "../../services/context.ts";
import { readDevOutbox } from "../../services/notifications/outbox.ts";

/** Notification plumbing. Mounted at `/api/notifications`. */
export function notificationRoutes() {
  const app = new Hono<AppEnv>();
  app.get(
    "/outbox",
    describeRoute({
      summary: "The dev outbox",
      description: "Without SMTP_URL, emails are rendered, logged and kept here (newest first) instead of being sent. 404 when SMTP is configured.",
      tags: ["notifications"],
      access: "system admins",
      responses: { 200: { description: "Kept mails", schema: devOutboxSchema } },
    }),
    requireUser,
    (c) => c.json(readDevOutbox({ ctx: serviceContext(c), mail: c.var.deps.notifications?.mail }), 200),
  );
  return app;
}
