import type { Actor } from "../access/actor.ts";

/** Everything an access decision reads from an actor, in a stable order. */
function signature(actor: Actor): string {
  const groups = actor.groupRoles.map((g) => `${g.groupId}:${g.role}:${g.path}`).sort();
  const classes = [...actor.classRoles].map(([id, c]) => `${id}:${c.role}:${c.groupId}:${c.groupPath}`).sort();
  const districts = [...(actor.recordDistricts ?? [])].sort();
  return JSON.stringify([actor.clerkUserId, actor.isSystemAdmin, actor.activeGroupId, groups, classes, districts]);
}

/**
 * Connections of one user hold one Actor object between them while what each loaded is the same.
 * Every connection still loads its own (so a revocation re-check decides from fresh rows); an
 * equal result is swapped for the object already held, so a teacher with a dozen tabs costs one
 * set of roles, not twelve. A connection's rights are always exactly what it loaded.
 */
export class SharedActors {
  private readonly byUser = new Map<string, { actor: Actor; signature: string; holders: number }>();

  /** The object to hold for a freshly loaded `actor`; `previous` (if any) is given up. */
  adopt(actor: Actor, previous?: Actor): Actor {
    const key = `${actor.userId}|${actor.activeGroupId ?? ""}`;
    const sig = signature(actor);
    let entry = this.byUser.get(key);
    if (entry && entry.signature !== sig) {
      // Rights changed: the newest load becomes the one later equal loads share. Holders of the
      // older object keep it until their own re-check replaces it.
      entry = undefined;
    }
    if (!entry) {
      entry = { actor, signature: sig, holders: 0 };
      this.byUser.set(key, entry);
    }
    entry.holders += 1;
    if (previous) this.release(previous);
    return entry.actor;
  }

  /** Gives up one hold of `actor` (a connection closed or re-loaded). */
  release(actor: Actor): void {
    const key = `${actor.userId}|${actor.activeGroupId ?? ""}`;
    const entry = this.byUser.get(key);
    if (!entry || entry.actor !== actor) return;
    entry.holders -= 1;
    if (entry.holders <= 0) this.byUser.delete(key);
  }

  /** Users with a shared entry (for tests). */
  size(): number {
    return this.byUser.size;
  }
}
