import type { Actor } from "../access/actor.ts";

/** Whether two loads of one user grant exactly the same rights: everything an access decision reads. */
export function sameRights(a: Actor, b: Actor): boolean {
  if (a.userId !== b.userId || a.clerkUserId !== b.clerkUserId || a.isSystemAdmin !== b.isSystemAdmin || a.activeGroupId !== b.activeGroupId) return false;
  if (a.groupRoles.length !== b.groupRoles.length || a.classRoles.size !== b.classRoles.size) return false;
  // Compared as multisets, without building keys: a user has a handful of groups.
  const same = (x: Actor["groupRoles"][number], y: Actor["groupRoles"][number]) => x.groupId === y.groupId && x.role === y.role && x.path === y.path;
  for (const g of a.groupRoles) {
    if (a.groupRoles.filter((x) => same(x, g)).length !== b.groupRoles.filter((y) => same(y, g)).length) return false;
  }
  // The districts of the user's own records bound their row-level-security reach (docs/privacy.md).
  const da = a.recordDistricts ?? [];
  const db = b.recordDistricts ?? [];
  if (da.length !== db.length || da.some((d) => !db.includes(d))) return false;
  for (const [id, c] of a.classRoles) {
    const d = b.classRoles.get(id);
    if (!d || d.role !== c.role || d.groupId !== c.groupId || d.groupPath !== c.groupPath) return false;
  }
  return true;
}

/** One shared object, and the next entry of the same user (another active group), if any. */
interface Entry {
  actor: Actor;
  holders: number;
  next: Entry | null;
}

/**
 * Connections of one user hold one Actor object between them while what each loaded is the same.
 * Every connection still loads its own (so a revocation re-check decides from fresh rows); an
 * equal result is swapped for the object already held, so a teacher with a dozen tabs costs one
 * set of roles, not twelve. A connection's rights are always exactly what it loaded.
 *
 * Held per connected user for as long as they are connected, so an entry is one small object keyed
 * by the user id string the actor already holds: loads are compared field by field rather than by
 * a kept signature string.
 */
export class SharedActors {
  private readonly byUser = new Map<string, Entry>();

  private find(actor: Actor): Entry | null {
    for (let e = this.byUser.get(actor.userId) ?? null; e; e = e.next) if (e.actor.activeGroupId === actor.activeGroupId) return e;
    return null;
  }

  /** The object to hold for a freshly loaded `actor`; `previous` (if any) is given up. */
  adopt(actor: Actor, previous?: Actor): Actor {
    let entry = this.find(actor);
    if (entry && entry.actor !== actor && !sameRights(entry.actor, actor)) {
      // Rights changed: the newest load becomes the one later equal loads share. Holders of the
      // older object keep it until their own re-check replaces it.
      this.unlink(entry);
      entry = null;
    }
    if (!entry) {
      entry = { actor, holders: 0, next: this.byUser.get(actor.userId) ?? null };
      this.byUser.set(actor.userId, entry);
    }
    entry.holders += 1;
    if (previous) this.release(previous);
    return entry.actor;
  }

  /** Gives up one hold of `actor` (a connection closed or re-loaded). */
  release(actor: Actor): void {
    const entry = this.find(actor);
    if (!entry || entry.actor !== actor) return;
    entry.holders -= 1;
    if (entry.holders <= 0) this.unlink(entry);
  }

  private unlink(entry: Entry) {
    const userId = entry.actor.userId;
    const head = this.byUser.get(userId) ?? null;
    if (head === entry) {
      if (entry.next) this.byUser.set(userId, entry.next);
      else this.byUser.delete(userId);
      return;
    }
    for (let e = head; e; e = e.next) {
      if (e.next === entry) {
        e.next = entry.next;
        return;
      }
    }
  }

  /** Users with a shared entry (for tests). */
  size(): number {
    return this.byUser.size;
  }
}
