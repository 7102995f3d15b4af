import { classAttentionSchema, idParamSchema, sessionSummaryListSchema, sessionSummarySchema } from "@raptscallions/core";
import { Hono } from "hono";
import { z } from "zod";
import { requireUser } from "../../auth/middleware.ts";
import type { AppEnv } from "../../deps.ts";
import { insightsConfigOf } from "../../lib/insights-config.ts";
import { describeRoute, pathParams } from "../../openapi/index.ts";
import { getClassAttention } from "../../services/insights/attention.ts";
import { listSessionSummaries, requestSessionSummary } from "../../services/insights/summaries.ts";
import { serviceContext } from "../../services/context.ts";

const tags = ["insights"];
const steer = "the class's teachers and admins over the session's group (never the student)";

/** Teacher insights: session summaries and the class attention list. Mounted at `/api`. */
export function insightRoutes() {
  const app = new Hono<AppEnv>();

  app.get(
    "/sessions/:id/summaries",
    describeRoute({
      summary: "A session's summaries",
      description:
        "Newest first: the end-of-session summary (written by a background job once the session ends; `pending` until then) and any asked for while it ran. See docs/insights.md.",
      tags,
      access: steer,
      responses: { 200: { description: "The summaries", schema: sessionSummaryListSchema } },
    }),
    requireUser,
    pathParams(idParamSchema),
    async (c) => c.json(await listSessionSummaries({ ctx: serviceContext(c), input: { sessionId: c.req.valid("param").id } }), 200),
  );

  app.post(
    "/sessions/:id/summaries",
    describeRoute({
      summary: "Summarise a live session now",
      description:
        "Written in the request with the group's model, charged like a chat turn (the session's group budgets, the caller's per-user limits). 201 with a new summary; 200 with the one already written when nothing was said since. Over a limit or budget: 429 with the limit's code, and the refusal is recorded. An ended session: 409 `SESSION_ENDED` (its summary is written automatically).",
      tags,
      access: steer,
      responses: {
        200: { description: "The summary already written", schema: z.object({ summary: sessionSummarySchema }) },
        201: { description: "The new summary", schema: z.object({ summary: sessionSummarySchema }) },
      },
      errors: [409, 429, 502],
    }),
    requireUser,
    pathParams(idParamSchema),
    async (c) => {
      const { summary, created } = await requestSessionSummary({ ctx: serviceContext(c), input: { sessionId: c.req.valid("param").id } });
      return c.json({ summary }, created ? 201 : 200);
    },
  );

  app.get(
    "/classes/:id/attention",
    describeRoute({
      summary: "Who needs attention in a class",
      description:
        "Every student of the class, ranked by open alerts (by severity), sessions stuck without an answer, struggle level and silence, with the flags that put them there. The scoring is in docs/insights.md; the class room carries `attention.changed` when a rank or flag moves.",
      tags,
      access: "the class's teachers and admins over its group",
      responses: { 200: { description: "The ranked list", schema: classAttentionSchema } },
    }),
    requireUser,
    pathParams(idParamSchema),
    async (c) =>
      c.json(await getClassAttention({ ctx: serviceContext(c), input: { classId: c.req.valid("param").id, thresholds: insightsConfigOf(c.var.deps.config) } }), 200),
  );

  return app;
}
