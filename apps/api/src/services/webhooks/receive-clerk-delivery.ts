import type { ClerkWebhookOutcome } from "@raptscallions/core";
import { alreadyProcessed, applyClerkEvent } from "./apply-clerk-event.ts";
import { publishClerkRevocation } from "./clerk-revocations.ts";
import type { WebhookContext } from "./context.ts";
import { parseClerkEvent } from "./parse-clerk-event.ts";
import { ClerkDeliveryRejected, recordRejectedDelivery } from "./rejection.ts";

/**
 * One Clerk delivery whose Svix signature checked out: answered `duplicate` when its `svix-id`
 * was processed before (without parsing it again), else parsed and applied. A payload that can
 * never be applied is recorded as rejected (webhook_events, audit log) and the
 * ClerkDeliveryRejected is rethrown for the route to answer.
 */
export async function receiveClerkDelivery({
  ctx,
  input,
}: {
  ctx: WebhookContext;
  input: { svixId: string; signedAtMs: number; raw: string };
}): Promise<ClerkWebhookOutcome> {
  const { svixId } = input;
  if (await alreadyProcessed(ctx, svixId)) return "duplicate";
  try {
    const event = parseClerkEvent(input.raw, input.signedAtMs);
    if (event.kind === "ignored") ctx.logger.info("clerk webhook ignored", { requestId: ctx.requestId, svixId, type: event.type });
    const outcome = await applyClerkEvent({ ctx, input: { svixId, event } });
    // The delivery's transaction has committed here: work that must follow a durable change
    // (and never happen for a rolled-back one) goes after this point, keyed on `event` and `outcome`.
    await publishClerkRevocation(ctx, event, outcome);
    return outcome;
  } catch (err) {
    if (err instanceof ClerkDeliveryRejected) {
      ctx.logger.warn("clerk webhook rejected", { requestId: ctx.requestId, svixId, reason: err.rejection.reason });
      await recordRejectedDelivery({ ctx, input: { svixId, rejection: err.rejection } });
    }
    throw err;
  }
}
