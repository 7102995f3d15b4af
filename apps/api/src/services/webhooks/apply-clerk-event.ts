import { AppError, type ClerkWebhookOutcome } from "@raptscallions/core";
import { webhookEvents } from "@raptscallions/db";
import { eq, sql } from "drizzle-orm";
import { applyMembership } from "./clerk-memberships.ts";
import { applyOrgSnapshot, deleteClerkOrg, orgSnapshot } from "./clerk-orgs.ts";
import { deleteClerkUser, upsertClerkUser } from "./clerk-users.ts";
import type { Tx, WebhookContext } from "./context.ts";
import { entityKeys, lockEntities } from "./locks.ts";
import type { ClerkSyncEvent } from "./parse-clerk-event.ts";
import { ClerkDeliveryRejected } from "./rejection.ts";

const MAX_ATTEMPTS = 3;
// unique_violation (a group slug taken concurrently by a REST write), serialization_failure, deadlock_detected.
const RETRYABLE = new Set(["23505", "40001", "40P01"]);

function pgCode(err: unknown): string | undefined {
  for (let e: unknown = err, depth = 0; e && depth < 5; depth++) {
    if (typeof e === "object" && "code" in e && typeof e.code === "string") return e.code;
    e = typeof e === "object" && "cause" in e ? e.cause : undefined;
  }
  return undefined;
}

/**
 * Errors the same bytes would hit on every retry: data exceptions (class 22: a NUL, a value out
 * of range, an unparsable date) and program limits (54000: an index row too large). The schemas
 * refuse the known cases first; this is the backstop that keeps a new one from looping for days.
 */
function isPermanentDataError(code: string | undefined): boolean {
  return code !== undefined && (code.startsWith("22") || code === "54000");
}

async function dispatch(ctx: WebhookContext, tx: Tx, event: ClerkSyncEvent): Promise<boolean> {
  switch (event.kind) {
    case "user.upsert":
      return upsertClerkUser(tx, event.user);
    case "user.delete":
      return deleteClerkUser(tx, event.deleted.id, event.at);
    case "org.upsert":
      return (await applyOrgSnapshot(ctx, tx, orgSnapshot(event.org))).changed;
    case "org.delete":
      return deleteClerkOrg(ctx, tx, event.deleted, event.at);
    case "membership":
      return applyMembership(ctx, tx, event.membership, event.tombstone, event.version);
    case "ignored":
      return false;
  }
}

/** Thrown inside the transaction to roll back an effect whose `svix-id` turned out to be taken. */
class AlreadyProcessed extends Error {}

/**
 * Whether this `svix-id` was already processed (a committed outcome other than `rejected`): one
 * indexed read, no lock, so redeliveries never queue behind new work.
 */
export async function alreadyProcessed(ctx: WebhookContext, svixId: string): Promise<boolean> {
  const [row] = await ctx.db.select({ outcome: webhookEvents.outcome }).from(webhookEvents).where(eq(webhookEvents.svixId, svixId)).limit(1);
  return row !== undefined && row.outcome !== "rejected";
}

/**
 * Applies one verified Clerk delivery exactly once (callers answer known `svix-id`s first with
 * `alreadyProcessed`).
 *
 * The delivery waits for one of the webhook's transaction slots (`ctx.slots`, so a burst cannot take every pool connection), takes the locks of the
 * entities it writes (locks.ts), applies the effect, and records its `svix-id` and outcome in
 * webhook_events in the same transaction. If the id turns out to be recorded meanwhile (a
 * concurrent duplicate that committed first), the effect is rolled back and the answer is
 * `duplicate`. A failed effect rolls the record back too, so Svix's retry applies it. A rejected
 * record (the payload could not be applied before) does not block a later attempt.
 */
export async function applyClerkEvent({ ctx, input }: { ctx: WebhookContext; input: { svixId: string; event: ClerkSyncEvent } }): Promise<ClerkWebhookOutcome> {
  const { svixId, event } = input;
  return ctx.slots.run(async () => {
    for (let attempt = 1; ; attempt++) {
      try {
        return await ctx.db.transaction(async (tx) => {
          await lockEntities(tx, entityKeys(event));
          const changed = await dispatch(ctx, tx, event);
          const outcome: ClerkWebhookOutcome = event.kind === "ignored" ? "ignored" : changed ? "applied" : "stale";
          const now = ctx.clock.now();
          const claimed = await tx
            .insert(webhookEvents)
            .values({ svixId, type: event.type, receivedAt: now, processedAt: now, outcome })
            .onConflictDoUpdate({
              target: webhookEvents.svixId,
              set: { type: event.type, receivedAt: now, processedAt: now, outcome, reason: null },
              setWhere: sql`${webhookEvents.outcome} = 'rejected'`,
            })
            .returning({ svixId: webhookEvents.svixId });
          if (claimed.length === 0) throw new AlreadyProcessed();
          return outcome;
        });
      } catch (err) {
        if (err instanceof AlreadyProcessed) return "duplicate";
        const code = pgCode(err);
        if (isPermanentDataError(code)) {
          ctx.logger.error("clerk webhook: payload passed validation but cannot be stored", { requestId: ctx.requestId, svixId, code, err });
          throw new ClerkDeliveryRejected("VALIDATION_FAILED", "The payload cannot be stored", {
            reason: "unstorable",
            type: event.type,
            issues: [{ path: "", message: `database refused a value (SQLSTATE ${code})` }],
          });
        }
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
  });
}
