import { alertDeliveriesSchema, alertSchema, idParamSchema, listAlertsQuerySchema, pageOf } from "@raptscallions/core";
import { Hono } from "hono";
import { requireUser } from "../../auth/middleware.ts";
import type { AppEnv } from "../../deps.ts";
import { describeRoute, pathParams, queryParams } from "../../openapi/index.ts";
import { listAlerts } from "../../services/alerts/list.ts";
import { resolveAlert } from "../../services/alerts/resolve.ts";
import { listAlertDeliveries } from "../../services/notifications/deliveries.ts";
import { serviceContext } from "../../services/context.ts";

const tags = ["alerts"];
const reviewers = "teachers of the session's class and admins over its group";

/** Module alerts (safety, struggle, answer checks) for review. Mounted at `/api/alerts`. */
export function alertRoutes() {
  const app = new Hono<AppEnv>();

  app.get(
    "/",
    describeRoute({
      summary: "Alerts the caller may review",
      description:
        "Newest first. `classId`, `sessionId`, `runId` (a product tool run's alerts; teachers of its class and admins over its group) and `groupId` (admins: that subtree) narrow the list. A filter naming something the caller may not review is a 404.",
      tags,
      access: reviewers,
      responses: { 200: { description: "A page of alerts", schema: pageOf(alertSchema) } },
      errors: [404],
    }),
    requireUser,
    queryParams(listAlertsQuerySchema),
    async (c) => c.json(await listAlerts({ ctx: serviceContext(c), input: c.req.valid("query") }), 200),
  );

  for (const [action, to] of [
    ["acknowledge", "acknowledged"],
    ["dismiss", "dismissed"],
  ] as const) {
    app.post(
      `/:id/${action}`,
      describeRoute({
        summary: action === "acknowledge" ? "Acknowledge an alert" : "Dismiss an alert",
        description: "Records who and when, audited; repeating it is a no-op.",
        tags,
        access: reviewers,
        responses: { 200: { description: "The alert", schema: alertSchema } },
        errors: [409],
      }),
      requireUser,
      pathParams(idParamSchema),
      async (c) => c.json(await resolveAlert({ ctx: serviceContext(c), input: { id: c.req.valid("param").id, to } }), 200),
    );
  }

  app.get(
    "/:id/deliveries",
    describeRoute({
      summary: "An alert's delivery log",
      description: "Every email and webhook sent (or being retried, or dead-lettered) for the alert and its escalation steps, with each attempt's outcome and error.",
      tags,
      access: "admins over the alert's group",
      responses: { 200: { description: "The deliveries", schema: alertDeliveriesSchema } },
    }),
    requireUser,
    pathParams(idParamSchema),
    async (c) => c.json(await listAlertDeliveries({ ctx: serviceContext(c), input: { id: c.req.valid("param").id } }), 200),
  );

  return app;
}
