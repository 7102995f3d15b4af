import { AppError, type ClerkWebhookOutcome } from "@raptscallions/core";
import { webhookEvents } from "@raptscallions/db";
import { eq, sql } from "drizzle-orm";
import { applyMembership } from "./clerk-memberships.ts";
import { applyOrgSnapshot, deleteClerkOrg, orgSnapshot } from "./clerk-orgs.ts";
import { deleteClerkUser, upsertClerkUser } from "./clerk-users.ts";
import type { Tx, WebhookContext } from "./context.ts";
import type { ClerkSyncEvent } from "./parse-clerk-event.ts";

/**
 * One lock for every Clerk delivery, held for its transaction. Webhook traffic is small (a few
 * events per user action), and serialising it makes the tree logic (re-parenting, cycle checks,
 * slug choice, waiting children) race-free across instances without per-row lock ordering.
 */
const CLERK_SYNC_LOCK = 727_274_202;
const MAX_ATTEMPTS = 3;
// unique_violation (a group slug taken concurrently by another writer), serialization_failure, deadlock_detected.
const RETRYABLE = new Set(["23505", "40001", "40P01"]);

function pgCode(err: unknown): string | undefined {
  for (let e: unknown = err, depth = 0; e && depth < 5; depth++) {
    if (typeof e === "object" && "code" in e && typeof e.code === "string") return e.code;
    e = typeof e === "object" && "cause" in e ? e.cause : undefined;
  }
  return undefined;
}

async function dispatch(ctx: WebhookContext, tx: Tx, event: ClerkSyncEvent): Promise<boolean> {
  switch (event.kind) {
    case "user.upsert":
      return upsertClerkUser(tx, event.user);
    case "user.delete":
      return deleteClerkUser(tx, event.deleted.id, event.at);
    case "org.upsert":
      return applyOrgSnapshot(ctx, tx, orgSnapshot(event.org));
    case "org.delete":
      return deleteClerkOrg(ctx, tx, event.deleted, event.at);
    case "membership":
      return applyMembership(ctx, tx, event.membership, event.tombstone, event.version);
    case "ignored":
      return false;
  }
}

/**
 * Applies one verified Clerk delivery exactly once. The `svix-id` is claimed in webhook_events in
 * the same transaction as the effect: a redelivery (even a concurrent one, which waits on the lock
 * and then finds the claim) changes nothing and answers `duplicate`; a failed effect rolls the
 * claim back so Svix's retry applies it.
 */
export async function applyClerkEvent({
  ctx,
  input,
}: {
  ctx: WebhookContext;
  input: { svixId: string; event: ClerkSyncEvent };
}): Promise<ClerkWebhookOutcome> {
  const { svixId, event } = input;
  for (let attempt = 1; ; attempt++) {
    try {
      return await ctx.db.transaction(async (tx) => {
        await tx.execute(sql`select pg_advisory_xact_lock(${sql.raw(String(CLERK_SYNC_LOCK))})`);
        const claimed = await tx
          .insert(webhookEvents)
          .values({ svixId, type: event.type, receivedAt: ctx.clock.now() })
          .onConflictDoNothing({ target: webhookEvents.svixId })
          .returning({ svixId: webhookEvents.svixId });
        if (claimed.length === 0) return "duplicate" as const;
        const changed = await dispatch(ctx, tx, event);
        const outcome: ClerkWebhookOutcome = event.kind === "ignored" ? "ignored" : changed ? "applied" : "stale";
        await tx
          .update(webhookEvents)
          .set({ processedAt: ctx.clock.now(), outcome })
          .where(eq(webhookEvents.svixId, svixId));
        return outcome;
      });
    } catch (err) {
      const code = pgCode(err);
      if (!code || !RETRYABLE.has(code)) throw err;
      if (attempt < MAX_ATTEMPTS) continue;
      ctx.logger.warn("clerk webhook: gave up after conflicting writes", { requestId: ctx.requestId, svixId, code });
      // Not a 500: Svix retries a 503 later, when the conflicting write is long committed.
      throw new AppError("SERVICE_UNAVAILABLE", "Conflicting concurrent write; retry later", {
        retryAfterSeconds: 5,
        cause: err,
      });
    }
  }
}
