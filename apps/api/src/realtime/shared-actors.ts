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

/**
 * One shared object held by more than one connection, or beside the user's actor of another active
 * group, with the next entry of the same user (if any).
 */
class Entry {
  constructor(
    readonly actor: Actor,
    public holders: number,
    public next: Entry | null,
  ) {}
}

/**
 * Connections of one user hold one Actor object between them while what each loaded is the same.
 * Every connection still loads its own (so a revocation re-check decides from fresh rows); an
 * equal result is swapped for the object already held, so a teacher with a dozen tabs costs one
 * set of roles, not twelve. A connection's rights are always exactly what it loaded.
 *
 * Held per connected user for as long as they are connected, keyed by the user id string the actor
 * already holds, and compared field by field rather than by a kept signature string. A user with
 * one connection (nearly every student) is held as their actor itself: the entry with its count is
 * made only for a second hold or a second active group. Each object kept per connected user was
 * allocated amid a setup's garbage, where it keeps a heap block from being freed (bench/README.md,
 * idle-heap.bench.ts).
 */
export class SharedActors {
  private readonly byUser = new Map<string, Actor | Entry>();

  /** The user's first entry; null when the user is held as a lone actor or not at all. */
  private head(userId: string): Entry | null {
    const held = this.byUser.get(userId);
    return held instanceof Entry ? held : null;
  }

  /** Makes a lone actor into a counted entry, so a second hold can be counted or chained beside it. */
  private counted(userId: string): void {
    const held = this.byUser.get(userId);
    if (held !== undefined && !(held instanceof Entry)) this.byUser.set(userId, new Entry(held, 1, null));
  }

  private find(actor: Actor): Entry | null {
    for (let e = this.head(actor.userId); e; e = e.next) if (e.actor.activeGroupId === actor.activeGroupId) return e;
    return null;
  }

  /** The object to hold for a freshly loaded `actor`; `previous` (if any) is given up. */
  adopt(actor: Actor, previous?: Actor): Actor {
    if (!this.byUser.has(actor.userId)) {
      this.byUser.set(actor.userId, actor);
      if (previous) this.release(previous);
      return actor;
    }
    this.counted(actor.userId);
    let entry = this.find(actor);
    if (entry && entry.actor !== actor && !sameRights(entry.actor, actor)) {
      // Rights changed: the newest load becomes the one later equal loads share. Holders of the
      // older object keep it until their own re-check replaces it.
      this.unlink(entry);
      entry = null;
    }
    if (!entry) {
      entry = new Entry(actor, 0, this.head(actor.userId));
      this.byUser.set(actor.userId, entry);
    }
    entry.holders += 1;
    if (previous) this.release(previous);
    this.settle(actor.userId);
    return entry.actor;
  }

  /** Gives up one hold of `actor` (a connection closed or re-loaded). */
  release(actor: Actor): void {
    const held = this.byUser.get(actor.userId);
    if (held === actor) {
      this.byUser.delete(actor.userId);
      return;
    }
    if (!(held instanceof Entry)) return;
    const entry = this.find(actor);
    if (!entry || entry.actor !== actor) return;
    entry.holders -= 1;
    if (entry.holders <= 0) this.unlink(entry);
    this.settle(actor.userId);
  }

  /** A user down to one entry with one holder is held as that actor again. */
  private settle(userId: string) {
    const held = this.byUser.get(userId);
    if (held instanceof Entry && held.next === null && held.holders === 1) this.byUser.set(userId, held.actor);
  }

  private unlink(entry: Entry) {
    const userId = entry.actor.userId;
    const head = this.head(userId);
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
