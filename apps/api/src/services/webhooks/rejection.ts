import { AppError, type ErrorCode, storableText } from "@raptscallions/core";
import { webhookEvents } from "@raptscallions/db";
import { recordAudit } from "../audit/record.ts";
import type { WebhookContext } from "./context.ts";

/** What an admin reads about a refused delivery (`details` of the error and of the audit entry). */
export interface RejectionDetails {
  /** A stable key: `invalid-json`, `too-deeply-nested`, `invalid-envelope`, `invalid-payload`, `impossible-timestamp`, `unstorable`. */
  reason: string;
  /** The event type when it could be read, else `unknown`. */
  type: string;
  issues?: { path: string; message: string }[];
}

/**
 * A signed delivery that can never be applied: no retry will change its bytes, so it is recorded
 * as `rejected` and answered with a 4xx that tells Svix to stop retrying (routes/webhooks).
 * Only ever thrown after the signature checked out.
 */
export class ClerkDeliveryRejected extends AppError {
  readonly rejection: RejectionDetails;
  constructor(code: Extract<ErrorCode, "INVALID_JSON" | "VALIDATION_FAILED">, message: string, rejection: RejectionDetails) {
    super(code, message, { details: rejection });
    this.rejection = rejection;
  }
}

const MAX_DETAIL_TEXT = 300;

/** Issue paths and messages echo payload keys: keep them short and storable in jsonb (no NUL, no lone surrogate). */
function safeText(s: string): string {
  return storableText(s.slice(0, MAX_DETAIL_TEXT));
}

export function safeRejection(r: RejectionDetails): RejectionDetails {
  return {
    reason: r.reason,
    type: safeText(r.type),
    ...(r.issues ? { issues: r.issues.slice(0, 20).map((i) => ({ path: safeText(i.path), message: safeText(i.message) })) } : {}),
  };
}

/**
 * Records a rejected delivery once per `svix-id`: a `webhook_events` row (outcome `rejected`,
 * with its reason) and an audit entry `webhook.clerk.reject` for system admins (no group).
 * A redelivery of the same message finds the row and adds nothing. An applied delivery's row is
 * never overwritten.
 */
export async function recordRejectedDelivery({ ctx, input }: { ctx: WebhookContext; input: { svixId: string; rejection: RejectionDetails } }): Promise<void> {
  const r = safeRejection(input.rejection);
  await ctx.db.transaction(async (tx) => {
    const now = ctx.clock.now();
    const inserted = await tx
      .insert(webhookEvents)
      .values({ svixId: input.svixId, type: r.type, receivedAt: now, processedAt: now, outcome: "rejected", reason: r.reason })
      .onConflictDoNothing({ target: webhookEvents.svixId })
      .returning({ svixId: webhookEvents.svixId });
    if (inserted.length === 0) return;
    await recordAudit(tx, ctx, {
      action: "webhook.clerk.reject",
      targetType: "webhook_delivery",
      targetId: input.svixId,
      groupId: null,
      details: { ...r },
    });
  });
}
