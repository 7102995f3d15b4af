import { sql } from "drizzle-orm";
import type { Tx } from "./context.ts";
import type { ClerkSyncEvent } from "./parse-clerk-event.ts";

/**
 * Locks of the Clerk sync, all transaction-scoped advisory locks.
 *
 * - One lock per Clerk entity (`user:<id>`, `org:<id>`): every delivery takes the locks of the
 *   entities it writes, so two deliveries about the same user or organisation apply one after the
 *   other, and deliveries about different ones run side by side. A membership touches its user and
 *   its organisation and takes both, always in ascending key order, so two deliveries can never
 *   each hold one lock while waiting for the other.
 * - One structure lock for the organisation tree and the group slugs, which span organisations:
 *   taken, after the entity locks and before the first write to `groups`, only by a delivery that
 *   creates a group, changes an organisation's wanted parent or slug, or deletes an organisation.
 *   Parent/child arrivals, cycle checks and slug hand-overs stay serialised as before; plain user,
 *   membership and rename deliveries never wait for it.
 */

// Entity locks use Postgres' two-integer key space, which never meets the single-bigint keys
// used elsewhere (the migration lock, the structure lock).
const ENTITY_LOCK_CLASS = 727_274_203;
const STRUCTURE_LOCK = 727_274_202;

/** FNV-1a, 32-bit, as a signed int4: hashed here (not with hashtext) so the order is known before locking. */
function lockId(key: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < key.length; i++) {
    h ^= key.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return h | 0;
}

/** The entities one delivery writes, as lock keys. Ignored events write only their own record. */
export function entityKeys(event: ClerkSyncEvent): string[] {
  switch (event.kind) {
    case "user.upsert":
      return [`user:${event.user.id}`];
    case "user.delete":
      return [`user:${event.deleted.id}`];
    case "org.upsert":
      return [`org:${event.org.id}`];
    case "org.delete":
      return [`org:${event.deleted.id}`];
    case "membership":
      return [`org:${event.membership.organization.id}`, `user:${event.membership.public_user_data.user_id}`];
    case "ignored":
      return [];
  }
}

/**
 * Takes the entity locks for `keys` in ascending lock-id order (a hash collision only merges two
 * locks), in one statement: Postgres evaluates a select list left to right. Were that ever not
 * so, two deliveries could deadlock, which Postgres detects and the caller retries.
 */
export async function lockEntities(tx: Tx, keys: string[]): Promise<void> {
  const ids = [...new Set(keys.map(lockId))].sort((a, b) => a - b);
  if (ids.length === 0) return;
  const calls = ids.map((id) => sql`pg_advisory_xact_lock(${ENTITY_LOCK_CLASS}::int, ${id}::int)`);
  await tx.execute(sql`select ${sql.join(calls, sql`, `)}`);
}

const structureLocked = new WeakSet<object>();

/** Takes the structure lock once per transaction (see the module comment for when). */
export async function lockStructure(tx: Tx): Promise<void> {
  if (structureLocked.has(tx)) return;
  await tx.execute(sql`select pg_advisory_xact_lock(${sql.raw(String(STRUCTURE_LOCK))})`);
  structureLocked.add(tx);
}
