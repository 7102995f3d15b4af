import { usageSummaryQuerySchema, usageSummarySchema } from "@raptscallions/core";
import { Hono } from "hono";
import { requireUser } from "../../auth/middleware.ts";
import type { AppEnv } from "../../deps.ts";
import { describeRoute, queryParams } from "../../openapi/index.ts";
import { serviceContext } from "../../services/context.ts";
import { summarizeUsage } from "../../services/ai/summarize-usage.ts";

/** AI usage reports, scoped to what the caller may see (see services/ai/README.md). */
export function usageRoutes() {
  const app = new Hono<AppEnv>();
  app.get(
    "/summary",
    describeRoute({
      summary: "AI usage totals over a period, optionally by model, user, class, group or UTC day",
      description:
        "Filters (groupId = that subtree, classId, userId) narrow the rows and are intersected with what the caller may see. " +
        "Period [from, to): ISO timestamps or UTC dates (a date `to` includes that day); default the last 30 days, at most 400.",
      tags: ["usage"],
      access:
        "system admins: everything; group admins: their subtrees; teachers: their classes (and those classes' students); everyone: their own usage. A group or class the caller cannot see is a 404.",
      responses: { 200: { description: "Totals and buckets", schema: usageSummarySchema } },
      errors: [404],
    }),
    requireUser,
    queryParams(usageSummaryQuerySchema),
    async (c) => {
      const body = await summarizeUsage({ ctx: serviceContext(c), input: c.req.valid("query") });
      return c.json(body, 200);
    },
  );
  return app;
}
