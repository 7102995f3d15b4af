import type { Bus, BusEvent } from "@raptscallions/bus";
import { z } from "zod";
import type { Logger } from "../../lib/logger.ts";

/**
 * The bus room every instance listens on for access changes. Clients cannot subscribe to it: the
 * protocol only admits `session:` and `class:` rooms.
 */
export const ACCESS_ROOM = "system:access";
export const REVOCATION_EVENT = "access.revoked";

export const REVOCATION_REASONS = ["user-suspended", "user-deleted", "membership-removed", "membership-changed", "role-changed", "class-member-removed"] as const;

const id = z.string().min(1).max(200);

/**
 * "Re-check this user's live access now." It names the user by our id or by Clerk's (a webhook
 * knows only Clerk's), and optionally where the change happened, for logs. It carries no verdict:
 * each instance re-runs the same checks as its periodic re-check, so a stale or reordered event
 * can only cause a redundant check, never grant or refuse anything by itself.
 */
export const revocationSchema = z
  .object({
    userId: id.optional(),
    clerkUserId: id.optional(),
    reason: z.enum(REVOCATION_REASONS),
    groupId: id.optional(),
    classId: id.optional(),
  })
  .refine((r) => r.userId !== undefined || r.clerkUserId !== undefined, "a revocation names a user");
export type Revocation = z.infer<typeof revocationSchema>;

/**
 * Tells every instance to re-check a user's sockets and rooms. Call it after the transaction that
 * changed the user's access has committed (before, a peer could re-check against the old rows).
 * Best effort: the change is already the truth in the database, and if the bus is unreachable the
 * periodic re-check (every minute) applies it.
 */
export async function publishRevocation(deps: { bus: Bus; logger: Logger }, revocation: Revocation): Promise<void> {
  for (const hook of localHooks.get(deps.bus) ?? []) hook(revocation);
  try {
    await deps.bus.publish(ACCESS_ROOM, { type: REVOCATION_EVENT, payload: revocation });
  } catch (err) {
    deps.logger.warn("revocation publish failed; the periodic re-check will apply it", { reason: revocation.reason, err });
  }
}

/** The revocation an access-room event carries, or null for anything else. */
export function revocationOf(event: BusEvent): Revocation | null {
  if (event.type !== REVOCATION_EVENT) return null;
  const parsed = revocationSchema.safeParse(event.payload);
  return parsed.success ? parsed.data : null;
}

const localHooks = new WeakMap<Bus, Set<(revocation: Revocation) => void>>();

/**
 * Runs `hook` for every revocation published through `bus` by this instance, before the publish
 * goes out: caches of this instance drop the user at once instead of when the bus echoes the
 * event back (a Redis round trip later). Returns the function that removes the hook.
 */
export function onLocalRevocation(bus: Bus, hook: (revocation: Revocation) => void): () => void {
  let hooks = localHooks.get(bus);
  if (!hooks) {
    hooks = new Set();
    localHooks.set(bus, hooks);
  }
  hooks.add(hook);
  return () => hooks.delete(hook);
}
