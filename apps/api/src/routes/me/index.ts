import { meResponseSchema } from "@raptscallions/core";
import { Hono } from "hono";
import { requireUser } from "../../auth/middleware.ts";
import type { AppEnv } from "../../deps.ts";
import { describeRoute } from "../../openapi/index.ts";
import { serviceContext } from "../../services/context.ts";
import { getMe } from "../../services/users/get-me.ts";

/** The signed-in user. Mounted at `/api/me`. */
export function meRoutes() {
  const app = new Hono<AppEnv>();
  app.get(
    "/",
    describeRoute({
      summary: "The signed-in user, with their groups and classes and their role in each",
      tags: ["me"],
      access: "any signed-in user",
      responses: { 200: { description: "The user", schema: meResponseSchema } },
    }),
    requireUser,
    async (c) => {
      const body = await getMe({ ctx: serviceContext(c) });
      return c.json(body, 200);
    },
  );
  return app;
}
