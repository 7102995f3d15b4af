import { classMembers, classes, rosterLinks } from "@raptscallions/db";
import type { EnrollmentRecord } from "@raptscallions/oneroster";
import { and, eq, inArray, isNull, sql } from "drizzle-orm";
import { type Change, type EntityResult, emptyResult, type Removal, removedLink, type SyncScope } from "./entity.ts";
import { chunks, type Link } from "./links.ts";

const pairKey = (classId: string, userId: string) => `${classId}:${userId}`;
function splitPair(localId: string | null | undefined): { classId: string; userId: string } | null {
  const [classId, userId] = localId?.split(":") ?? [];
  return classId && userId ? { classId, userId } : null;
}

/**
 * Deletes this connection's enrolments for the given class/user pairs (never a hand-made one) and
 * returns what went: audit entries and revocations, so the people leave the class's live rooms.
 */
async function removePairs(scope: SyncScope, pairs: { classId: string; userId: string }[], result: EntityResult): Promise<void> {
  for (const part of chunks(pairs)) {
    const removed = await scope.tx
      .delete(classMembers)
      .where(
        and(
          eq(classMembers.rosterConnectionId, scope.connection.id),
          sql`(${classMembers.classId}, ${classMembers.userId}) in (select (v->>'c')::uuid, (v->>'u')::uuid from jsonb_array_elements(${JSON.stringify(part.map((p) => ({ c: p.classId, u: p.userId })))}::jsonb) v)`,
        ),
      )
      .returning({ classId: classMembers.classId, userId: classMembers.userId, role: classMembers.role });
    if (removed.length === 0) continue;
    const groupOf = new Map(
      (
        await scope.tx
          .select({ id: classes.id, groupId: classes.groupId })
          .from(classes)
          .where(inArray(classes.id, [...new Set(removed.map((r) => r.classId))]))
      ).map((c) => [c.id, c.groupId]),
    );
    for (const r of removed) {
      result.counts.removed += 1;
      result.audits.push({
        action: "class.member.remove",
        targetType: "class_member",
        targetId: pairKey(r.classId, r.userId),
        groupId: groupOf.get(r.classId) ?? null,
        details: { classId: r.classId, userId: r.userId, role: r.role },
      });
      result.revocations.push({ userId: r.userId, classId: r.classId, reason: "class-member-removed" });
    }
  }
}

/**
 * Enrolments → class members. Teachers and students only (administrators and proctors are
 * skipped, with the reason); the class and user must be synced by this connection. Added and
 * changed enrolments are upserted a thousand per statement and marked as this connection's; an
 * enrolment made by hand for the same person is taken over (the SIS decides who is in which
 * class). A removed enrolment deletes the member row only — their sessions, messages and
 * submissions stay — and revokes their access to the class's live rooms.
 */
export async function applyEnrollments(
  scope: SyncScope,
  changes: Change<EnrollmentRecord>[],
  removals: Removal[],
  lookups: { classLinks: Map<string, Link>; userLinks: Map<string, Link> },
): Promise<EntityResult> {
  const { tx, connection, now } = scope;
  const result = emptyResult();
  const live = (links: Map<string, Link>, id: string) => {
    const l = links.get(id);
    return l && !l.removedAt ? l.localId : null;
  };
  const classIds = [...new Set(changes.map((c) => live(lookups.classLinks, c.record.classSourcedId)).filter((v): v is string => !!v))];
  const openClasses = new Map<string, string>();
  for (const part of chunks(classIds)) {
    for (const c of await tx
      .select({ id: classes.id, groupId: classes.groupId })
      .from(classes)
      .where(and(inArray(classes.id, part), isNull(classes.archivedAt))))
      openClasses.set(c.id, c.groupId);
  }

  const stalePairs: { classId: string; userId: string }[] = [];
  const rows: (typeof classMembers.$inferInsert)[] = [];
  const wanted = new Map<string, { sourcedId: string; role: "teacher" | "student"; groupId: string }>();
  for (const { record, hash, link } of changes) {
    const reject = (reason: string) => {
      result.counts.skipped += 1;
      result.rejected.push({ entity: "enrollments", sourcedId: record.sourcedId, reason });
    };
    if (record.role !== "teacher" && record.role !== "student") {
      reject(`role ${record.role} has no class membership here`);
      continue;
    }
    const classId = live(lookups.classLinks, record.classSourcedId);
    const userId = live(lookups.userLinks, record.userSourcedId);
    if (!classId) {
      reject(`class ${record.classSourcedId} is not synced`);
      continue;
    }
    if (!userId) {
      reject(`user ${record.userSourcedId} is not synced`);
      continue;
    }
    const groupId = openClasses.get(classId);
    if (!groupId) {
      reject(`class ${record.classSourcedId} is archived`);
      continue;
    }
    const key = pairKey(classId, userId);
    if (wanted.has(key)) {
      reject(`the same person is enrolled in this class by ${wanted.get(key)?.sourcedId}`);
      continue;
    }
    wanted.set(key, { sourcedId: record.sourcedId, role: record.role, groupId });
    // The same enrolment id now names another class or person (a student moved): the old pair goes.
    const before = link && !link.removedAt ? splitPair(link.localId) : null;
    if (before && pairKey(before.classId, before.userId) !== key) stalePairs.push(before);
    rows.push({ classId, userId, role: record.role, rosterConnectionId: connection.id });
    result.links.push({ sourcedId: record.sourcedId, localId: key, dateLastModified: record.dateLastModified, contentHash: hash, removedAt: null });
  }
  await removePairs(
    scope,
    stalePairs.filter((p) => !wanted.has(pairKey(p.classId, p.userId))),
    result,
  );

  for (const part of chunks(rows)) {
    const written = await tx
      .insert(classMembers)
      .values(part)
      .onConflictDoUpdate({
        target: [classMembers.classId, classMembers.userId],
        set: { role: sql`excluded.role`, rosterConnectionId: sql`excluded.roster_connection_id` },
        setWhere: sql`(${classMembers.role}, ${classMembers.rosterConnectionId}) is distinct from (excluded.role, excluded.roster_connection_id)`,
      })
      .returning({ classId: classMembers.classId, userId: classMembers.userId, role: classMembers.role, inserted: sql<boolean>`xmax = 0` });
    for (const w of written) {
      const info = wanted.get(pairKey(w.classId, w.userId));
      result.counts[w.inserted ? "created" : "updated"] += 1;
      result.audits.push({
        action: w.inserted ? "class.member.add" : "class.member.update",
        targetType: "class_member",
        targetId: pairKey(w.classId, w.userId),
        groupId: info?.groupId ?? null,
        details: { classId: w.classId, userId: w.userId, role: w.role, sourcedId: info?.sourcedId },
      });
      // A changed role changes what the person may see in the class's rooms.
      if (!w.inserted) result.revocations.push({ userId: w.userId, classId: w.classId, reason: "role-changed" });
    }
  }
  result.counts.unchanged += rows.length - result.counts.created - result.counts.updated;

  const gone = removals.map((r) => (r.link && !r.link.removedAt ? splitPair(r.link.localId) : null)).filter((p) => p !== null);
  await removePairs(scope, gone, result);
  for (const removal of removals) result.links.push(removedLink(removal, now));
  return result;
}

/**
 * A person the SIS removed keeps their account (Clerk decides that) but loses every enrolment
 * this connection gave them; their enrolment links are marked removed so that the same enrolment,
 * listed again later, is re-applied.
 */
export async function dropEnrolmentsOfUsers(scope: SyncScope, userIds: string[]): Promise<EntityResult> {
  const result = emptyResult();
  for (const part of chunks(userIds)) {
    const rows = await scope.tx
      .select({ classId: classMembers.classId, userId: classMembers.userId })
      .from(classMembers)
      .where(and(eq(classMembers.rosterConnectionId, scope.connection.id), inArray(classMembers.userId, part)));
    await removePairs(scope, rows, result);
    if (rows.length > 0) {
      await scope.tx
        .update(rosterLinks)
        .set({ removedAt: scope.now, updatedAt: scope.now })
        .where(
          and(
            eq(rosterLinks.connectionId, scope.connection.id),
            eq(rosterLinks.entity, "enrollments"),
            inArray(
              rosterLinks.localId,
              rows.map((r) => pairKey(r.classId, r.userId)),
            ),
          ),
        );
    }
  }
  return result;
}
