import type { DbOrTx, RosterEntityCounts, RosterRejection } from "@raptscallions/db";
import type { RosterEntity, RosterRecords } from "@raptscallions/oneroster";
import type { AuditEntry } from "../audit/record.ts";
import type { Principal, ServiceContext } from "../context.ts";
import type { Revocation } from "../realtime/revocation.ts";
import { contentHash, emptyCounts, type Link, type LinkWrite } from "./links.ts";

/** The connection a sync writes for, and its transaction. */
export interface SyncScope {
  ctx: ServiceContext<Principal>;
  tx: DbOrTx;
  connection: { id: string; groupId: string; name: string };
  now: Date;
}

/** A record that is new or differs from what its link remembers. */
export interface Change<R> {
  record: R;
  hash: string;
  link: Link | undefined;
}

/** A record the source deleted: `tobedeleted`, or (bulk) no longer listed. */
export interface Removal {
  sourcedId: string;
  link: Link | undefined;
  hash: string;
  dateLastModified: Date | null;
}

/** What applying one entity did; the caller writes the links and audit rows in the same transaction. */
export interface EntityResult {
  links: LinkWrite[];
  audits: AuditEntry[];
  counts: RosterEntityCounts;
  rejected: RosterRejection[];
  /** Published once the entity's transaction has committed. */
  revocations: Revocation[];
}

export function emptyResult(): EntityResult {
  return { links: [], audits: [], counts: emptyCounts(), rejected: [], revocations: [] };
}

/**
 * Splits an entity's records against its links: active records that are new or changed, removals
 * (`tobedeleted`, and in a bulk read every linked record the source no longer lists), and the
 * number unchanged. A record older than its link (`dateLastModified` before the applied one) is a
 * stale copy and counts as unchanged.
 */
export async function diffRecords<E extends RosterEntity>(
  records: RosterRecords[E][],
  links: Map<string, Link>,
  bulk: boolean,
): Promise<{ changes: Change<RosterRecords[E]>[]; removals: Removal[]; unchanged: number }> {
  const changes: Change<RosterRecords[E]>[] = [];
  const removals: Removal[] = [];
  let unchanged = 0;
  const seen = new Set<string>();
  for (const record of records) {
    seen.add(record.sourcedId);
    const link = links.get(record.sourcedId);
    const hash = await contentHash(record);
    const stale = link?.dateLastModified && record.dateLastModified && record.dateLastModified < link.dateLastModified;
    const sameAsApplied = link && link.contentHash === hash && (record.status === "tobedeleted") === (link.removedAt !== null);
    if (stale || sameAsApplied) {
      unchanged += 1;
      continue;
    }
    if (record.status === "tobedeleted") removals.push({ sourcedId: record.sourcedId, link, hash, dateLastModified: record.dateLastModified });
    else changes.push({ record, hash, link });
  }
  if (bulk) {
    for (const [sourcedId, link] of links) {
      if (seen.has(sourcedId) || link.removedAt) continue;
      removals.push({ sourcedId, link, hash: link.contentHash, dateLastModified: link.dateLastModified });
    }
  }
  return { changes, removals, unchanged };
}

/** The link of a removed record: kept as a tombstone, its local row remembered. */
export function removedLink(removal: Removal, now: Date, localId: string | null = removal.link?.localId ?? null): LinkWrite {
  return {
    sourcedId: removal.sourcedId,
    localId,
    dateLastModified: removal.dateLastModified,
    contentHash: removal.hash,
    data: removal.link?.data ?? null,
    removedAt: now,
  };
}
