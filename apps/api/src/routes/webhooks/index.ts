import { type ClerkWebhookResponse, clerkWebhookResponseSchema } from "@raptscallions/core";
import { type Context, Hono } from "hono";
import type { AppEnv } from "../../deps.ts";
import { errorResponse } from "../../http/errors.ts";
import { describeRoute } from "../../openapi/index.ts";
import { applyClerkEvent } from "../../services/webhooks/apply-clerk-event.ts";
import { publishClerkRevocation } from "../../services/webhooks/clerk-revocations.ts";
import { parseClerkEvent } from "../../services/webhooks/parse-clerk-event.ts";
import { type VerifiedDelivery, verifySvixDelivery } from "./verify-svix.ts";

/**
 * `POST /api/webhooks/clerk`: Clerk's Svix deliveries, mirrored into users, groups and
 * group_members (docs/webhooks.md). Authenticated by the Svix signature, not a session token.
 * Without CLERK_WEBHOOK_SIGNING_SECRET the endpoint is not enabled and answers 404.
 */
export function webhookRoutes() {
  const app = new Hono<AppEnv>();
  app.post(
    "/clerk",
    describeRoute({
      summary: "Clerk webhook receiver (users, organisations, memberships)",
      description:
        "Svix-signed Clerk events, verified over the raw body. Idempotent on svix-id; applied in updated_at order " +
        "whatever the arrival order. 200 stops Svix retrying; any other status makes it retry. See docs/webhooks.md.",
      tags: ["webhooks"],
      access: "Clerk only: a valid Svix signature (CLERK_WEBHOOK_SIGNING_SECRET); no session token",
      responses: { 200: { description: "Accepted: applied, stale, ignored or duplicate", schema: clerkWebhookResponseSchema } },
      errors: [400, 401, 404, 413, 503],
    }),
    receiveClerkWebhook,
  );
  return app;
}

async function receiveClerkWebhook(c: Context<AppEnv>) {
  const deps = c.var.deps;
  const secret = deps.config.clerkWebhookSecret;
  if (!secret) return errorResponse(c, 404, "NOT_FOUND", "Clerk webhooks are not enabled on this server");
  // The signature covers the exact bytes sent: read them raw, never re-serialise parsed JSON.
  const raw = await c.req.text();
  let delivery: VerifiedDelivery;
  try {
    delivery = verifySvixDelivery(secret, raw, (name) => c.req.header(name));
  } catch (err) {
    deps.logger.warn("clerk webhook rejected", { requestId: c.var.requestId, err });
    throw err;
  }
  const event = parseClerkEvent(raw, delivery.signedAtMs);
  if (event.kind === "ignored") {
    deps.logger.info("clerk webhook ignored", { requestId: c.var.requestId, svixId: delivery.svixId, type: event.type });
  }
  const outcome = await applyClerkEvent({
    ctx: {
      db: deps.db.db,
      clock: deps.clock,
      ids: deps.ids,
      logger: deps.logger,
      requestId: c.var.requestId,
      roleMap: deps.auth.roleMap,
    },
    input: { svixId: delivery.svixId, event },
  });
  // After the commit, so peers re-checking the user read the new rows.
  await publishClerkRevocation({ bus: deps.bus, logger: deps.logger }, event, outcome);
  const body: ClerkWebhookResponse = { received: true, outcome };
  return c.json(body, 200);
}
