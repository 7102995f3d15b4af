import type { Bus, BusSignal, Unsubscribe } from "@raptscallions/bus";
import type { Db } from "@raptscallions/db";
import { LRUCache } from "lru-cache";
import type { Logger } from "../../lib/logger.ts";
import { staleSweep } from "../../lib/stale-sweep.ts";
import { ACCESS_ROOM, onLocalRevocation, type Revocation, revocationOf } from "./revocation.ts";
import { type Actor, loadActor, loadActorByClerkId } from "../../access/actor.ts";

/** A verified token's user as provisioning resolved it. */
export interface ResolvedPrincipal {
  userId: string;
  activeGroupId: string | null;
}

const MAX_USERS = 20_000;
/** After a failed subscription to the access room, how long the cache stays off before trying again. */
const RELISTEN_AFTER_MS = 5_000;

/**
 * A short-lived cache of actors (a user's roles) and of which user a token's Clerk identity is,
 * for connection setup: a ticket and the socket it opens load the same user within a second, and
 * a reconnect storm loads every user of an instance at once.
 *
 * It is never more stale than access revocations allow: every entry of a user is dropped when a
 * revocation for them is heard on the access room (synchronously for revocations this instance
 * publishes, through the bus for its peers'), everything is dropped on a bus `resync`, and the
 * cache holds nothing unless it is subscribed to the access room. A load that overlapped any
 * revocation is returned but not kept, so a read older than a revocation is never cached after it.
 * Entries also expire after `ttlMs`: the bound on staleness should a revocation be lost entirely.
 * Expired entries are swept every `ttlMs`, so an instance holds the users of its last few seconds
 * of connection setups, not of every setup since it started.
 *
 * Grants are not announced, so a cached actor can lack a role given in the last `ttlMs`: callers
 * that refuse on a cached actor reload it once (see `fresh`) before saying no.
 */
export class ActorCache {
  /**
   * By user id: the actor of the user's one active group (nearly everyone), or those of several.
   * An actor carries its active group, so no `Map` per user (its own hash table) is needed.
   */
  private readonly actors: LRUCache<string, Actor | Actor[]>;
  private readonly principals: LRUCache<string, ResolvedPrincipal & { clerkUserId: string }>;
  /** Bumped by every access signal; a load that saw it change is not stored. */
  private generation = 0;
  private listening: Promise<Unsubscribe | null> | null = null;
  private ready = false;
  private retryAt = 0;
  private readonly offLocal: () => void;
  private readonly sweeps: ReturnType<typeof staleSweep>[];

  constructor(
    private readonly deps: { bus: Bus; logger: Logger },
    readonly ttlMs: number,
  ) {
    const opts = { max: MAX_USERS, ttl: Math.max(1, ttlMs), ttlAutopurge: false } as const;
    this.actors = new LRUCache(opts);
    this.principals = new LRUCache(opts);
    this.sweeps = [staleSweep(this.actors, opts.ttl), staleSweep(this.principals, opts.ttl)];
    this.offLocal = onLocalRevocation(deps.bus, (r) => this.revoke(r));
  }

  get enabled(): boolean {
    return this.ttlMs > 0;
  }

  /** Subscribes to the access room (once); the cache is bypassed until that has succeeded. */
  private listen(): void {
    if (!this.enabled || this.listening || Date.now() < this.retryAt) return;
    this.listening = this.deps.bus
      .subscribe(ACCESS_ROOM, (signal) => this.onSignal(signal))
      .then((off) => {
        this.ready = true;
        return off;
      })
      .catch((err: unknown) => {
        this.deps.logger.warn("actor cache: access room unavailable; loading every actor fresh", { err });
        this.listening = null;
        this.retryAt = Date.now() + RELISTEN_AFTER_MS;
        return null;
      });
  }

  private onSignal(signal: BusSignal) {
    if (signal.kind === "resync") {
      // Revocations may have been missed while the feed was down.
      this.clear();
      return;
    }
    const revocation = revocationOf(signal.event);
    if (revocation) this.revoke(revocation);
  }

  private revoke(r: Revocation) {
    this.generation++;
    const userIds = new Set<string>();
    if (r.userId) userIds.add(r.userId);
    if (r.clerkUserId) {
      for (const [key, p] of this.principals.entries()) {
        if (p.clerkUserId === r.clerkUserId) {
          userIds.add(p.userId);
          this.principals.delete(key);
        }
      }
      for (const [userId, held] of this.actors.entries()) {
        const list = Array.isArray(held) ? held : [held];
        if (list.some((a) => a.clerkUserId === r.clerkUserId)) userIds.add(userId);
      }
    }
    for (const userId of userIds) this.actors.delete(userId);
    if (r.userId) {
      for (const [key, p] of this.principals.entries()) if (p.userId === r.userId) this.principals.delete(key);
    }
  }

  clear() {
    this.generation++;
    this.actors.clear();
    this.principals.clear();
  }

  private usable(): boolean {
    this.listen();
    return this.enabled && this.ready;
  }

  /** The user's actor, from the cache when a live entry exists; null when the user may not act. */
  async actor(db: Db, userId: string, activeGroupId: string | null): Promise<{ actor: Actor | null; cached: boolean }> {
    if (this.usable()) {
      const hit = inGroup(this.actors.get(userId), activeGroupId);
      if (hit) return { actor: hit, cached: true };
    }
    const seen = this.generation;
    const actor = await loadActor(db, userId, activeGroupId);
    this.keep(actor, seen);
    return { actor, cached: false };
  }

  /**
   * The actor of a provisioned user by their Clerk id, with no active group, loaded (one
   * statement) and kept like `actor`'s: for a token without an organisation, whose principal is
   * then this user. Null when unknown or inactive (provisioning decides then).
   */
  async byClerkId(db: Db, clerkUserId: string): Promise<Actor | null> {
    const seen = this.generation;
    const actor = await loadActorByClerkId(db, clerkUserId);
    this.keep(actor, seen);
    return actor;
  }

  private keep(actor: Actor | null, seen: number) {
    // Inactive users are not cached: the next attempt asks the database again.
    if (!actor || !this.usable() || seen !== this.generation) return;
    const held = this.actors.get(actor.userId);
    const others = (held === undefined ? [] : Array.isArray(held) ? held : [held]).filter((a) => a.activeGroupId !== actor.activeGroupId);
    this.actors.set(actor.userId, others.length === 0 ? actor : [...others, actor]);
    this.sweeps[0]?.armed();
  }

  /** Loads the actor from the database and replaces the cached one (after a refusal on a cached actor). */
  async fresh(db: Db, userId: string, activeGroupId: string | null): Promise<Actor | null> {
    this.actors.delete(userId);
    return (await this.actor(db, userId, activeGroupId)).actor;
  }

  /** Which user a verified Clerk identity is, from the cache or by `resolve` (provisioning). */
  async principal(key: { clerkUserId: string; orgId: string | null; orgRole: string | null }, resolve: () => Promise<ResolvedPrincipal>): Promise<ResolvedPrincipal> {
    // A token without an organisation (most) is keyed by the Clerk id string it already holds.
    const cacheKey = key.orgId === null && key.orgRole === null ? key.clerkUserId : `${key.clerkUserId}\u0000${key.orgId ?? ""}\u0000${key.orgRole ?? ""}`;
    if (this.usable()) {
      const hit = this.principals.get(cacheKey);
      if (hit) return { userId: hit.userId, activeGroupId: hit.activeGroupId };
    }
    const seen = this.generation;
    const resolved = await resolve();
    if (this.usable() && seen === this.generation) {
      // A principal resolved as an actor (a known user's, by their Clerk id) is kept as itself: the
      // actor entry holds that object already, so no second object per user while it is remembered.
      const held = (resolved as { clerkUserId?: unknown }).clerkUserId === key.clerkUserId;
      this.principals.set(cacheKey, held ? (resolved as ResolvedPrincipal & { clerkUserId: string }) : { ...resolved, clerkUserId: key.clerkUserId });
      this.sweeps[1]?.armed();
    }
    return resolved;
  }

  async close() {
    this.offLocal();
    for (const sweep of this.sweeps) sweep.stop();
    this.ready = false;
    const listening = this.listening;
    this.listening = null;
    (await listening)?.();
    this.clear();
  }
}

/** The held actor of `activeGroupId` among a user's cached ones, if any. */
function inGroup(held: Actor | Actor[] | undefined, activeGroupId: string | null): Actor | undefined {
  if (held === undefined) return undefined;
  if (!Array.isArray(held)) return held.activeGroupId === activeGroupId ? held : undefined;
  return held.find((a) => a.activeGroupId === activeGroupId);
}
