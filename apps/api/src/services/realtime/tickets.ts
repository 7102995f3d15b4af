import type { KeyValueStore } from "@raptscallions/bus";
import type { Actor } from "../../access/actor.ts";
import type { Clock, IdGenerator } from "../../lib/clock.ts";

const PREFIX = "ws-ticket:";
const TICKET_SHAPE = /^[A-Za-z0-9_-]{16,128}$/;

export interface TicketClaim {
  userId: string;
  activeGroupId: string | null;
}

export async function issueTicket(
  deps: { kv: KeyValueStore; ids: IdGenerator; clock: Clock; ttlMs: number },
  actor: Actor,
): Promise<{ ticket: string; expiresAt: string }> {
  const ticket = deps.ids.token(24);
  const claim: TicketClaim = { userId: actor.userId, activeGroupId: actor.activeGroupId };
  await deps.kv.set(PREFIX + ticket, JSON.stringify(claim), deps.ttlMs);
  return { ticket, expiresAt: new Date(deps.clock.now().getTime() + deps.ttlMs).toISOString() };
}

/** Single use: of two concurrent redemptions exactly one gets the claim. */
export async function redeemTicket(kv: KeyValueStore, ticket: string): Promise<TicketClaim | null> {
  if (!TICKET_SHAPE.test(ticket)) return null;
  const raw = await kv.getDel(PREFIX + ticket);
  if (!raw) return null;
  try {
    const claim = JSON.parse(raw) as TicketClaim;
    return typeof claim.userId === "string" ? claim : null;
  } catch {
    return null;
  }
}
