import type { KeyValueStore } from "@raptscallions/bus";
import type { Db } from "@raptscallions/db";
import type { Actor } from "../../access/actor.ts";
import type { ActorCache } from "./actor-cache.ts";
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

function parseClaim(raw: string): TicketClaim | null {
  try {
    const claim = JSON.parse(raw) as TicketClaim;
    return typeof claim.userId === "string" ? claim : null;
  } catch {
    return null;
  }
}

/**
 * Single use: of two concurrent redemptions exactly one gets the claim. A ticket outlives nothing
 * about its user: one issued before a ban or deletion is refused (and spent) when redeemed after
 * (the actor cache drops a user on the revocation such a change publishes). The actor loaded here
 * is the one the socket opens with.
 */
export async function redeemTicket(deps: { kv: KeyValueStore; db: Db; actors: ActorCache }, ticket: string): Promise<TicketClaim | null> {
  if (!TICKET_SHAPE.test(ticket)) return null;
  const raw = await deps.kv.getDel(PREFIX + ticket);
  const claim = raw ? parseClaim(raw) : null;
  if (!claim) return null;
  const { actor } = await deps.actors.actor(deps.db, claim.userId, claim.activeGroupId);
  return actor ? claim : null;
}
