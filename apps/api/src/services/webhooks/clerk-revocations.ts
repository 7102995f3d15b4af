import type { Bus } from "@raptscallions/bus";
import type { ClerkWebhookOutcome } from "@raptscallions/core";
import type { Logger } from "../../lib/logger.ts";
import { publishRevocation, type Revocation } from "../realtime/revocation.ts";
import type { ClerkSyncEvent } from "./parse-clerk-event.ts";

/**
 * The live-access re-check a Clerk event calls for: a ban, a deletion, or any membership change
 * (removal or re-role) of the user it names. Organisation changes (a deletion, a move in the tree)
 * touch everyone below them and are left to the periodic re-check.
 */
export function revocationForClerkEvent(event: ClerkSyncEvent): Revocation | null {
  switch (event.kind) {
    case "user.upsert":
      return event.user.banned ? { clerkUserId: event.user.id, reason: "user-suspended" } : null;
    case "user.delete":
      return { clerkUserId: event.deleted.id, reason: "user-deleted" };
    case "membership":
      return {
        clerkUserId: event.membership.public_user_data.user_id,
        reason: event.tombstone ? "membership-removed" : "membership-changed",
      };
    default:
      return null;
  }
}

/**
 * Tells every instance to re-check the user an applied Clerk event changed. Call it once the
 * delivery's transaction has committed; a duplicate, stale or ignored delivery changed nothing.
 */
export async function publishClerkRevocation(deps: { bus: Bus; logger: Logger }, event: ClerkSyncEvent, outcome: ClerkWebhookOutcome): Promise<void> {
  if (outcome !== "applied") return;
  const revocation = revocationForClerkEvent(event);
  if (revocation) await publishRevocation(deps, revocation);
}
