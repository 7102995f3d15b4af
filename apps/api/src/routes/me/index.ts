import { Hono } from "hono";
import { requireUser } from "../../auth/middleware.ts";
import type { AppEnv } from "../../deps.ts";
import { serviceContext } from "../../services/context.ts";
import { getMe } from "../../services/users/get-me.ts";

export function meRoutes() {
  const app = new Hono<AppEnv>();
  app.get("/", requireUser, async (c) => {
    const body = await getMe({ ctx: serviceContext(c) });
    return c.json(body, 200);
  });
  return app;
}
