import { type ClerkWebhookResponse, clerkWebhookResponseSchema } from "@raptscallions/core";
import { type Context, Hono } from "hono";
import type { AppEnv } from "../../deps.ts";
import { errorResponse, mapError } from "../../http/errors.ts";
import { describeRoute } from "../../openapi/index.ts";
import { createSemaphore, type Semaphore } from "../../lib/semaphore.ts";
import { type SystemActor, systemContext } from "../../services/context.ts";
import { receiveClerkDelivery } from "../../services/webhooks/receive-clerk-delivery.ts";
import { ClerkDeliveryRejected } from "../../services/webhooks/rejection.ts";
import { type VerifiedDelivery, verifySvixDelivery } from "./verify-svix.ts";

/** The actor name Clerk deliveries act under. */
export const CLERK_INTEGRATION: SystemActor = { kind: "integration", id: "clerk", name: "Clerk" };

/** Webhook transactions one instance runs at once unless configured (CLERK_WEBHOOK_CONCURRENCY). */
export const DEFAULT_WEBHOOK_CONCURRENCY = 4;

/**
 * `POST /api/webhooks/clerk`: Clerk's Svix deliveries, mirrored into users, groups and
 * group_members (docs/webhooks.md). Authenticated by the Svix signature, not a session token.
 * Without CLERK_WEBHOOK_SIGNING_SECRET the endpoint is not enabled and answers 404.
 */
export function webhookRoutes(options: { concurrency?: number | undefined } = {}) {
  const app = new Hono<AppEnv>();
  // One set of slots per app instance: a burst of deliveries waits here, holding no connection.
  const slots = createSemaphore(options.concurrency ?? DEFAULT_WEBHOOK_CONCURRENCY);
  app.post(
    "/clerk",
    describeRoute({
      summary: "Clerk webhook receiver (users, organisations, memberships)",
      description:
        "Svix-signed Clerk events, verified over the raw body. Idempotent on svix-id; applied in updated_at order " +
        "whatever the arrival order. 200 stops Svix retrying. A signed payload that can never be applied is recorded " +
        "as rejected (audit action webhook.clerk.reject) and answered 400/422 with `webhook-delivery: abort-message`, " +
        "which stops Svix retrying it. Signature failures answer 401 and are retried. See docs/webhooks.md.",
      tags: ["webhooks"],
      access: "Clerk only: a valid Svix signature (CLERK_WEBHOOK_SIGNING_SECRET); no session token",
      responses: { 200: { description: "Accepted: applied, stale, ignored or duplicate", schema: clerkWebhookResponseSchema } },
      errors: [400, 401, 404, 413, 422, 503],
    }),
    (c) => receiveClerkWebhook(c, slots),
  );
  return app;
}

/** Svix delivery control: stop retrying this message (it is recorded as rejected). */
export const ABORT_RETRIES = { "webhook-delivery": "abort-message" } as const;

/** Whether a request is a webhook delivery (the body limit answers those with ABORT_RETRIES). */
export function isWebhookDelivery(path: string): boolean {
  return path.startsWith("/api/webhooks/");
}

async function receiveClerkWebhook(c: Context<AppEnv>, slots: Semaphore) {
  const deps = c.var.deps;
  const secret = deps.config.clerkWebhookSecret;
  if (!secret) return errorResponse(c, 404, "NOT_FOUND", "Clerk webhooks are not enabled on this server");
  // The signature covers the exact bytes sent: read them raw, never re-serialise parsed JSON.
  const raw = await c.req.text();
  let delivery: VerifiedDelivery;
  try {
    delivery = verifySvixDelivery(secret, raw, (name) => c.req.header(name));
  } catch (err) {
    deps.logger.warn("clerk webhook refused", { requestId: c.var.requestId, err });
    throw err;
  }
  try {
    const outcome = await receiveClerkDelivery({
      ctx: { ...systemContext(c, CLERK_INTEGRATION), roleMap: deps.auth.roleMap, slots },
      input: { svixId: delivery.svixId, signedAtMs: delivery.signedAtMs, raw },
    });
    const body: ClerkWebhookResponse = { received: true, outcome };
    return c.json(body, 200);
  } catch (err) {
    if (err instanceof ClerkDeliveryRejected) return mapError(err, c, ABORT_RETRIES);
    throw err;
  }
}
