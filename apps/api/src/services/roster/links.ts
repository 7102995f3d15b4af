import { type DbOrTx, type RosterEntityCounts, rosterLinks } from "@raptscallions/db";
import type { RosterEntity } from "@raptscallions/oneroster";
import { and, eq, sql } from "drizzle-orm";

/** What a source record became here (one `roster_links` row). */
export type Link = typeof rosterLinks.$inferSelect;

/** A link to write: the record's state after this run. */
export interface LinkWrite {
  sourcedId: string;
  localId: string | null;
  dateLastModified: Date | null;
  contentHash: string;
  data?: Record<string, unknown> | null;
  removedAt: Date | null;
}

export const ROWS_PER_STATEMENT = 1000;

export function chunks<T>(items: readonly T[], size = ROWS_PER_STATEMENT): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += size) out.push(items.slice(i, i + size));
  return out;
}

export function emptyCounts(): RosterEntityCounts {
  return { created: 0, updated: 0, removed: 0, skipped: 0, unchanged: 0 };
}

/** Every link of one entity of a connection, by `sourcedId`. */
export async function loadLinks(tx: DbOrTx, connectionId: string, entity: RosterEntity): Promise<Map<string, Link>> {
  const rows = await tx
    .select()
    .from(rosterLinks)
    .where(and(eq(rosterLinks.connectionId, connectionId), eq(rosterLinks.entity, entity)));
  return new Map(rows.map((r) => [r.sourcedId, r]));
}

/** Upserts links, a statement per thousand. */
export async function saveLinks(tx: DbOrTx, connectionId: string, entity: RosterEntity, writes: LinkWrite[], now: Date): Promise<void> {
  for (const part of chunks(writes)) {
    await tx
      .insert(rosterLinks)
      .values(part.map((w) => ({ connectionId, entity, ...w, data: w.data ?? null, updatedAt: now })))
      .onConflictDoUpdate({
        target: [rosterLinks.connectionId, rosterLinks.entity, rosterLinks.sourcedId],
        set: {
          localId: sql`excluded.local_id`,
          dateLastModified: sql`excluded.date_last_modified`,
          contentHash: sql`excluded.content_hash`,
          data: sql`excluded.data`,
          removedAt: sql`excluded.removed_at`,
          updatedAt: sql`excluded.updated_at`,
        },
      });
  }
}

/** A record's content fingerprint: everything but `dateLastModified` (a re-export that changed nothing writes nothing). */
export async function contentHash(record: { dateLastModified: Date | null }): Promise<string> {
  const { dateLastModified: _ignored, ...content } = record;
  const bytes = new TextEncoder().encode(JSON.stringify(content));
  const digest = new Uint8Array(await crypto.subtle.digest("SHA-256", bytes));
  let hex = "";
  for (const b of digest.slice(0, 16)) hex += b.toString(16).padStart(2, "0");
  return hex;
}
