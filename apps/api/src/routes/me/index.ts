import { Hono } from "hono";
import { requireUser } from "../../auth/middleware.ts";
import type { AppEnv } from "../../deps.ts";
import { getMe } from "../../services/users/get-me.ts";

export function meRoutes() {
  const app = new Hono<AppEnv>();
  app.get("/", requireUser, async (c) => {
    const body = await getMe({ ctx: { db: c.var.deps.db.db, actor: c.var.actor } });
    return c.json(body, 200);
  });
  return app;
}
