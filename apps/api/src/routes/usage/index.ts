import { usageSummaryQuerySchema } from "@raptscallions/core";
import { Hono } from "hono";
import { requireUser } from "../../auth/middleware.ts";
import type { AppEnv } from "../../deps.ts";
import { queryParams } from "../../http/validate.ts";
import { serviceContext } from "../../services/context.ts";
import { summarizeUsage } from "../../services/ai/summarize-usage.ts";

/** AI usage reports, scoped to what the caller may see (see services/ai/README.md). */
export function usageRoutes() {
  const app = new Hono<AppEnv>();
  app.get("/summary", requireUser, queryParams(usageSummaryQuerySchema), async (c) => {
    const body = await summarizeUsage({ ctx: serviceContext(c), input: c.req.valid("query") });
    return c.json(body, 200);
  });
  return app;
}
