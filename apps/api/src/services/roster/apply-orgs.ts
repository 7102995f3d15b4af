import { groupPath, groups } from "@raptscallions/db";
import type { OrgRecord } from "@raptscallions/oneroster";
import { and, eq, isNull, or, sql } from "drizzle-orm";
import { type Change, type EntityResult, emptyResult, type Removal, removedLink, type SyncScope } from "./entity.ts";
import type { Link } from "./links.ts";

type GroupKind = (typeof groups.$inferSelect)["kind"];
type GroupRow = typeof groups.$inferSelect;

const RANK: Record<OrgRecord["type"], number> = { national: 5, state: 4, district: 3, local: 2, school: 1, department: 0 };
const KIND_RANK: Record<GroupKind, number> = { district: 3, school: 1, department: 0, organization: 2 };

function groupKind(type: OrgRecord["type"]): GroupKind {
  if (type === "school") return "school";
  if (type === "district") return "district";
  if (type === "department") return "department";
  return "organization";
}

function slugFor(name: string, id: string): string {
  const base =
    name
      .toLowerCase()
      .normalize("NFKD")
      .replace(/[^a-z0-9]+/g, "-")
      .replace(/^-+|-+$/g, "")
      .slice(0, 60) || "org";
  return `${base}-${id.slice(0, 8)}`;
}

/**
 * OneRoster orgs → groups under the connection's group. An org is matched, in this order, to:
 * the group its link names; a live group in the connection's subtree that carries its
 * `sourcedId` (a Clerk organisation whose metadata names it, or the connection's own group); the
 * connection's group itself when the org is of the same kind (the district that is connected);
 * otherwise a new group (kind school/district/department) under its parent org's group. Orgs
 * ranked above the connection's group (the state, or the district of a connected school) are
 * skipped. Groups made here take the org's name; Clerk's groups keep theirs (Clerk owns them).
 * Moving an existing group elsewhere in the tree is not done by a sync (skipped, with a reason).
 */
export async function applyOrgs(scope: SyncScope, changes: Change<OrgRecord>[], removals: Removal[], links: Map<string, Link>): Promise<EntityResult> {
  const { tx, connection, now } = scope;
  const result = emptyResult();
  if (changes.length === 0 && removals.length === 0) return result;
  const [root] = await tx
    .select()
    .from(groups)
    .where(and(eq(groups.id, connection.groupId), isNull(groups.deletedAt)));
  if (!root) throw new Error("the connection's group is gone");
  const groupOf = new Map<string, GroupRow>();
  const live = async (id: string | null | undefined) => {
    if (!id) return undefined;
    const [row] = await tx
      .select()
      .from(groups)
      .where(and(eq(groups.id, id), isNull(groups.deletedAt)));
    return row;
  };
  let rootClaimed = [...links.values()].some((l) => !l.removedAt && l.localId === root.id);
  const pending = [...changes];
  const byId = new Map(changes.map((c) => [c.record.sourcedId, c]));
  // Parents first, whatever order the pages came in.
  const depth = (c: Change<OrgRecord>, n = 0): number => {
    const parent = c.record.parentSourcedId ? byId.get(c.record.parentSourcedId) : undefined;
    return parent && n < 20 ? depth(parent, n + 1) + 1 : 0;
  };
  pending.sort((a, b) => depth(a) - depth(b));

  for (const change of pending) {
    const org = change.record;
    let group = change.link?.removedAt ? undefined : await live(change.link?.localId);
    if (!group) {
      const [matched] = await tx
        .select()
        .from(groups)
        .where(
          and(
            isNull(groups.deletedAt),
            sql`${groups.path} <@ ${root.path}`,
            or(eq(groups.sisSourcedId, org.sourcedId), org.identifier ? eq(groups.sisSourcedId, org.identifier) : sql`false`),
          ),
        )
        .limit(1);
      group = matched;
    }
    if (!group && !rootClaimed && groupKind(org.type) === root.kind) {
      group = root;
      rootClaimed = true;
    }
    if (!group && RANK[org.type] >= KIND_RANK[root.kind] && groupKind(org.type) !== "department") {
      result.counts.skipped += 1;
      result.rejected.push({ entity: "orgs", sourcedId: org.sourcedId, reason: `a ${org.type} above the connection's group is not synced` });
      continue;
    }
    const parentGroupId = (org.parentSourcedId && (groupOf.get(org.parentSourcedId)?.id ?? links.get(org.parentSourcedId)?.localId)) || root.id;
    const parent = (await live(parentGroupId)) ?? root;
    if (!group) {
      const id = scope.ctx.ids.uuid();
      const [row] = await tx
        .insert(groups)
        .values({
          id,
          parentId: parent.id,
          path: groupPath(id, parent.path),
          name: org.name,
          slug: slugFor(org.name, id),
          kind: groupKind(org.type),
          sisSourcedId: org.sourcedId,
          rosterConnectionId: connection.id,
        })
        .returning();
      if (!row) throw new Error("insert returned no row");
      group = row;
      result.counts.created += 1;
      result.audits.push({
        action: "group.create",
        targetType: "group",
        targetId: id,
        groupId: id,
        details: { name: org.name, kind: row.kind, parentId: parent.id, sourcedId: org.sourcedId },
      });
    } else if (group.id !== root.id && group.parentId !== parent.id && group.rosterConnectionId === connection.id) {
      result.counts.skipped += 1;
      result.rejected.push({ entity: "orgs", sourcedId: org.sourcedId, reason: "the org moved to another parent; move its group by hand" });
      groupOf.set(org.sourcedId, group);
      continue;
    } else if (group.rosterConnectionId === connection.id && group.name !== org.name) {
      await tx.update(groups).set({ name: org.name }).where(eq(groups.id, group.id));
      result.counts.updated += 1;
      result.audits.push({ action: "group.update", targetType: "group", targetId: group.id, groupId: group.id, details: { name: { from: group.name, to: org.name } } });
    } else if (!change.link || change.link.localId !== group.id || change.link.removedAt) {
      if (!group.sisSourcedId) await tx.update(groups).set({ sisSourcedId: org.sourcedId }).where(eq(groups.id, group.id));
      result.counts.updated += 1;
      result.audits.push({ action: "group.link", targetType: "group", targetId: group.id, groupId: group.id, details: { sourcedId: org.sourcedId } });
    } else {
      result.counts.unchanged += 1;
    }
    groupOf.set(org.sourcedId, group);
    result.links.push({ sourcedId: org.sourcedId, localId: group.id, dateLastModified: org.dateLastModified, contentHash: change.hash, removedAt: null });
  }

  for (const removal of removals) {
    const group = await live(removal.link?.localId);
    // Only groups this connection made are tombstoned; a matched Clerk or hand-made group is just unlinked.
    if (group && group.rosterConnectionId === connection.id && group.id !== root.id) {
      await tx.update(groups).set({ deletedAt: now }).where(eq(groups.id, group.id));
      result.counts.removed += 1;
      result.audits.push({ action: "group.delete", targetType: "group", targetId: group.id, groupId: group.id, details: { sourcedId: removal.sourcedId } });
    } else if (removal.link && !removal.link.removedAt) {
      result.counts.removed += 1;
    }
    result.links.push(removedLink(removal, now));
  }
  return result;
}
