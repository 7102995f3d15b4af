import type { AcademicSessionRecord, ClassRecord } from "@raptscallions/oneroster";
import { classes, groups } from "@raptscallions/db";
import { and, inArray, isNull, sql } from "drizzle-orm";
import { type Change, type EntityResult, emptyResult, type Removal, removedLink, type SyncScope } from "./entity.ts";
import { chunks, type Link } from "./links.ts";

/** Academic sessions make no rows of their own: their titles are kept on the links, for class terms. */
export function applyAcademicSessions(scope: SyncScope, changes: Change<AcademicSessionRecord>[], removals: Removal[]): EntityResult {
  const result = emptyResult();
  for (const { record, hash, link } of changes) {
    result.counts[link ? "updated" : "created"] += 1;
    result.links.push({
      sourcedId: record.sourcedId,
      localId: null,
      dateLastModified: record.dateLastModified,
      contentHash: hash,
      data: { title: record.title, type: record.type, schoolYear: record.schoolYear },
      removedAt: null,
    });
  }
  for (const removal of removals) {
    if (removal.link && !removal.link.removedAt) result.counts.removed += 1;
    result.links.push(removedLink(removal, scope.now));
  }
  return result;
}

/**
 * Classes → classes of the group their school maps to, named by the class title, with the titles
 * of their terms as `term`. Classes are inserted and updated a thousand per statement. A removed
 * class is archived, never deleted: its sessions, messages and submissions stay.
 */
export async function applyClasses(
  scope: SyncScope,
  changes: Change<ClassRecord>[],
  removals: Removal[],
  lookups: { orgLinks: Map<string, Link>; sessionLinks: Map<string, Link> },
): Promise<EntityResult> {
  const { tx, connection, now } = scope;
  const result = emptyResult();
  const groupIds = [...new Set([...lookups.orgLinks.values()].filter((l) => !l.removedAt && l.localId).map((l) => l.localId as string))];
  const liveGroups = new Set<string>();
  for (const part of chunks(groupIds)) {
    const rows = await tx
      .select({ id: groups.id })
      .from(groups)
      .where(and(inArray(groups.id, part), isNull(groups.deletedAt)));
    for (const r of rows) liveGroups.add(r.id);
  }
  const termTitle = (ids: string[]) => {
    const titles = ids.map((id) => lookups.sessionLinks.get(id)).map((l) => (l && !l.removedAt && typeof l.data?.title === "string" ? l.data.title : null));
    return titles.every((t) => t === null) ? null : titles.filter((t) => t !== null).join(", ");
  };

  const rows: (typeof classes.$inferInsert)[] = [];
  const audits: typeof result.audits = [];
  for (const { record, hash, link } of changes) {
    const orgLink = lookups.orgLinks.get(record.schoolSourcedId);
    const groupId = orgLink && !orgLink.removedAt ? orgLink.localId : null;
    if (!groupId || !liveGroups.has(groupId)) {
      result.counts.skipped += 1;
      result.rejected.push({ entity: "classes", sourcedId: record.sourcedId, reason: `its school ${record.schoolSourcedId} is not synced` });
      continue;
    }
    const id = link?.localId ?? scope.ctx.ids.uuid();
    const term = termTitle(record.termSourcedIds);
    // A class this sync archived comes back when the source lists it as active again.
    rows.push({ id, groupId, name: record.title, term, rosterConnectionId: connection.id, archivedAt: null });
    result.counts[link && !link.removedAt ? "updated" : "created"] += 1;
    audits.push({
      action: link ? (link.removedAt ? "class.restore" : "class.update") : "class.create",
      targetType: "class",
      targetId: id,
      groupId,
      details: { name: record.title, term, sourcedId: record.sourcedId },
    });
    result.links.push({ sourcedId: record.sourcedId, localId: id, dateLastModified: record.dateLastModified, contentHash: hash, removedAt: null });
  }
  for (const part of chunks(rows)) {
    await tx
      .insert(classes)
      .values(part)
      .onConflictDoUpdate({
        target: classes.id,
        set: {
          groupId: sql`excluded.group_id`,
          name: sql`excluded.name`,
          term: sql`excluded.term`,
          archivedAt: null,
          rosterConnectionId: sql`excluded.roster_connection_id`,
          updatedAt: now,
        },
      });
  }
  result.audits.push(...audits);

  const toArchive = removals.filter((r) => r.link?.localId && !r.link.removedAt).map((r) => r.link?.localId as string);
  for (const part of chunks(toArchive)) {
    const archived = await tx
      .update(classes)
      .set({ archivedAt: now })
      .where(and(inArray(classes.id, part), isNull(classes.archivedAt)))
      .returning({ id: classes.id, groupId: classes.groupId });
    for (const row of archived) {
      result.counts.removed += 1;
      result.audits.push({ action: "class.archive", targetType: "class", targetId: row.id, groupId: row.groupId });
    }
  }
  for (const removal of removals) result.links.push(removedLink(removal, now));
  return result;
}
