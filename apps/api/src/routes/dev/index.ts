import { NotFoundError } from "@raptscallions/core";
import { Hono } from "hono";
import { z } from "zod";
import type { AppEnv, DevSignIn } from "../../deps.ts";
import { describeRoute, jsonBody } from "../../openapi/index.ts";

const tags = ["dev"];
const access = "anyone — mounted only on dev auth outside production";

const devUserSchema = z.object({ key: z.string(), name: z.string(), email: z.string(), role: z.string() });
const devTokenResponseSchema = z.object({ token: z.string(), expiresAt: z.string(), user: devUserSchema });

/**
 * The console's dev sign-in: the seeded users, and a session token for one of them, signed with
 * the local dev key exactly like `bun run token`. createApp mounts this at `/api/dev` only when it
 * is given a `devSignIn` and verifies tokens with dev auth, and server.ts gives it one only on dev
 * auth outside production, so with Clerk (or NODE_ENV=production) the routes do not exist.
 */
export function devRoutes(signIn: DevSignIn) {
  const app = new Hono<AppEnv>();
  const keys = signIn.users.map((u) => u.key);
  const bodySchema = z.object({ user: z.enum(keys as [string, ...string[]]) }).strict();
  const summary = (u: DevSignIn["users"][number]) => ({ key: u.key, name: u.name, email: u.email, role: u.role });

  app.get(
    "/users",
    describeRoute({
      summary: "The seeded users dev sign-in offers",
      tags,
      access,
      responses: { 200: { description: "Users to sign in as", schema: z.object({ items: z.array(devUserSchema) }) } },
    }),
    (c) => c.json({ items: signIn.users.map(summary) }, 200),
  );

  app.post(
    "/token",
    describeRoute({
      summary: "A dev session token for a seeded user",
      description: "Signed with the local dev key, like `bun run token -- <user>`.",
      tags,
      access,
      responses: { 201: { description: "The token", schema: devTokenResponseSchema } },
    }),
    jsonBody(bodySchema),
    async (c) => {
      const key = c.req.valid("json").user;
      const user = signIn.users.find((u) => u.key === key);
      // The enum above admits only known keys; this keeps the type honest.
      if (!user) throw new NotFoundError("Dev user");
      const minted = await signIn.mint(user);
      return c.json({ ...minted, user: summary(user) }, 201);
    },
  );
  return app;
}
