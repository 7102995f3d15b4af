import { users } from "@raptscallions/db";
import type { UserRecord } from "@raptscallions/oneroster";
import { and, inArray, isNull, sql } from "drizzle-orm";
import { type Change, type EntityResult, emptyResult, type Removal, removedLink, type SyncScope } from "./entity.ts";
import { chunks } from "./links.ts";

type UserRow = Pick<typeof users.$inferSelect, "id" | "clerkUserId" | "email" | "sisId" | "deletedAt">;

/** The Clerk user id a OneRoster record carries in `userIds` (`type` "clerk", any case). */
export function clerkIdOf(record: UserRecord): string | null {
  return record.userIds.find((u) => u.type.toLowerCase() === "clerk")?.identifier ?? null;
}

const EARLY_YEARS = new Set(["IT", "PR", "PK", "TK", "KG", "PS"]);

/**
 * Whether a OneRoster user is under 13, from their grades (CEDS codes): every grade they are in is
 * grade 7 or below (or before kindergarten). Grade 7 counts as under 13, the stricter reading: a
 * seventh grader is 12 for most of the year. Null when the record gives no grade to go by (staff,
 * ungraded). OneRoster keeps birth dates in its demographics endpoint, which the sync does not read.
 */
export function under13FromGrades(grades: readonly string[]): boolean | null {
  const known = grades.map((g) => g.trim().toUpperCase()).filter((g) => EARLY_YEARS.has(g) || /^\d{1,2}$/.test(g));
  if (known.length === 0) return null;
  return known.every((g) => EARLY_YEARS.has(g) || Number(g) <= 7);
}

function displayName(r: UserRecord): string {
  return [r.preferredGivenName ?? r.givenName, r.familyName].filter((s) => s?.trim()).join(" ") || r.username;
}

async function select(scope: SyncScope, where: (part: string[]) => ReturnType<typeof sql>, values: string[]): Promise<UserRow[]> {
  const out: UserRow[] = [];
  for (const part of chunks([...new Set(values)], 5000)) {
    out.push(
      ...(await scope.tx
        .select({ id: users.id, clerkUserId: users.clerkUserId, email: users.email, sisId: users.sisId, deletedAt: users.deletedAt })
        .from(users)
        .where(where(part))),
    );
  }
  return out;
}

/**
 * OneRoster users → users. A record already linked updates its user; a new one is matched to an
 * existing user by the Clerk id in `userIds`, then by SIS identifier, then by email (case-blind),
 * and otherwise created `pending` (it becomes active when the person signs in through Clerk:
 * see `adoptRosterUser`). Clerk owns identity: a user Clerk knows keeps Clerk's name and email,
 * the sync only records its SIS identifier; a user only the SIS knows takes the SIS's profile.
 * A removed user is not deleted (that is Clerk's to decide); the caller drops the enrolments
 * this connection gave them.
 */
export async function applyUsers(scope: SyncScope, changes: Change<UserRecord>[], removals: Removal[]): Promise<EntityResult> {
  const { tx, now } = scope;
  const result = emptyResult();
  const unlinked = changes.filter((c) => !c.link?.localId);
  const clerkIds = unlinked.map((c) => clerkIdOf(c.record)).filter((v): v is string => v !== null);
  const sisIds = unlinked.map((c) => c.record.identifier).filter((v): v is string => !!v);
  const emails = unlinked.map((c) => c.record.email?.toLowerCase()).filter((v): v is string => !!v);
  const byClerk = new Map((await select(scope, (p) => inArray(users.clerkUserId, p), clerkIds)).map((u) => [u.clerkUserId, u]));
  const bySis = new Map<string, UserRow>();
  for (const u of await select(scope, (p) => and(inArray(users.sisId, p), isNull(users.deletedAt)) ?? sql`false`, sisIds)) if (u.sisId) bySis.set(u.sisId, u);
  const byEmail = new Map<string, UserRow>();
  for (const u of await select(scope, (p) => and(inArray(sql`lower(${users.email})`, p), isNull(users.deletedAt)) ?? sql`false`, emails)) {
    // Two accounts with one address: neither is guessed at.
    const key = u.email?.toLowerCase();
    if (key) byEmail.set(key, byEmail.has(key) ? { ...u, id: "" } : u);
  }
  const linkedIds = changes.map((c) => c.link?.localId).filter((v): v is string => !!v);
  const linked = new Map((await select(scope, (p) => inArray(users.id, p), linkedIds)).map((u) => [u.id, u]));

  const claimed = new Set<string>();
  const rows: (typeof users.$inferInsert)[] = [];
  for (const { record, hash, link } of changes) {
    const clerkId = clerkIdOf(record);
    const email = record.email?.toLowerCase() ?? null;
    let existing = link?.localId ? linked.get(link.localId) : undefined;
    let how = "link";
    if (!existing && !link?.localId) {
      const candidates: [string, UserRow | undefined][] = [
        ["clerk", clerkId ? byClerk.get(clerkId) : undefined],
        ["sis", record.identifier ? bySis.get(record.identifier) : undefined],
        ["email", email ? byEmail.get(email) : undefined],
      ];
      const found = candidates.find(([, u]) => u !== undefined);
      if (found) [how, existing] = found;
    }
    if (existing && (existing.id === "" || existing.deletedAt)) {
      result.counts.skipped += 1;
      result.rejected.push({
        entity: "users",
        sourcedId: record.sourcedId,
        reason: existing.id === "" ? "its email belongs to more than one account" : "the matching account was deleted",
      });
      continue;
    }
    const id = existing?.id ?? link?.localId ?? scope.ctx.ids.uuid();
    if (claimed.has(id)) {
      result.counts.skipped += 1;
      result.rejected.push({ entity: "users", sourcedId: record.sourcedId, reason: "another record of this sync matches the same account" });
      continue;
    }
    claimed.add(id);
    rows.push({
      id,
      clerkUserId: existing ? (existing.clerkUserId ?? clerkId) : clerkId,
      status: "pending",
      email,
      name: displayName(record),
      givenName: record.preferredGivenName ?? record.givenName,
      familyName: record.familyName,
      sisId: record.identifier ?? existing?.sisId ?? null,
      under13Roster: under13FromGrades(record.grades),
    });
    const isNew = !existing && !link?.localId;
    result.counts[isNew ? "created" : "updated"] += 1;
    result.audits.push({
      action: isNew ? "user.create" : link?.localId ? "user.update" : "user.link",
      targetType: "user",
      targetId: id,
      groupId: scope.connection.groupId,
      details: { sourcedId: record.sourcedId, ...(isNew ? { status: "pending" } : {}), ...(link?.localId ? {} : { matchedBy: isNew ? null : how }) },
    });
    result.links.push({ sourcedId: record.sourcedId, localId: id, dateLastModified: record.dateLastModified, contentHash: hash, removedAt: null });
  }
  for (const part of chunks(rows)) {
    // Clerk owns a known person's profile: only a user Clerk has never told us about takes the SIS's.
    const sisOwned = sql`${users.clerkUserId} is null and ${users.clerkUpdatedAt} is null`;
    await tx
      .insert(users)
      .values(part)
      .onConflictDoUpdate({
        target: users.id,
        set: {
          sisId: sql`coalesce(excluded.sis_id, ${users.sisId})`,
          clerkUserId: sql`coalesce(${users.clerkUserId}, excluded.clerk_user_id)`,
          email: sql`case when ${sisOwned} then excluded.email else ${users.email} end`,
          name: sql`case when ${sisOwned} then excluded.name else ${users.name} end`,
          givenName: sql`case when ${sisOwned} then excluded.given_name else ${users.givenName} end`,
          familyName: sql`case when ${sisOwned} then excluded.family_name else ${users.familyName} end`,
          under13Roster: sql`excluded.under13_roster`,
          updatedAt: now,
        },
      });
  }
  for (const removal of removals) {
    if (removal.link && !removal.link.removedAt) result.counts.removed += 1;
    result.links.push(removedLink(removal, now));
  }
  return result;
}
