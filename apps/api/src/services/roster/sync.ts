import { auditLog, type RosterEntityCounts, type RosterRejection } from "@raptscallions/db";
import type { ReadMode, RosterEntity, RosterRecords, RosterSource } from "@raptscallions/oneroster";
import { auditRow } from "../audit/record.ts";
import type { Principal, ServiceContext } from "../context.ts";
import { publishRevocation } from "../realtime/revocation.ts";
import { applyClasses, applyAcademicSessions } from "./apply-classes.ts";
import { applyEnrollments, dropEnrolmentsOfUsers } from "./apply-enrollments.ts";
import { applyOrgs } from "./apply-orgs.ts";
import { applyUsers } from "./apply-users.ts";
import { diffRecords, type EntityResult, type SyncScope } from "./entity.ts";
import { chunks, loadLinks, saveLinks } from "./links.ts";

/** The entities a sync applies, in dependency order. Courses carry nothing a class here needs. */
export const SYNCED_ENTITIES = ["academicSessions", "orgs", "classes", "users", "enrollments"] as const satisfies readonly RosterEntity[];
type SyncedEntity = (typeof SYNCED_ENTITIES)[number];

export interface RosterSyncReport {
  counts: Partial<Record<SyncedEntity, RosterEntityCounts>>;
  rejected: RosterRejection[];
  /** The newest `dateLastModified` seen: the next delta asks for changes after it. */
  latestModified: Date | null;
}

interface Collected<E extends RosterEntity> {
  mode: ReadMode;
  records: RosterRecords[E][];
  rejected: RosterRejection[];
}

/**
 * Reads every page of one entity. A record listed twice (pages overlapping, or read in any order)
 * counts once: the copy with the latest `dateLastModified`.
 */
async function collect<E extends SyncedEntity>(
  source: RosterSource,
  entity: E,
  opts: { since?: Date | undefined; signal?: AbortSignal | undefined },
): Promise<Collected<E>> {
  const readOpts = { ...(opts.since ? { since: opts.since } : {}), ...(opts.signal ? { signal: opts.signal } : {}) };
  const mode = await source.mode(entity, readOpts);
  if (mode === "absent") return { mode, records: [], rejected: [] };
  const byId = new Map<string, RosterRecords[E]>();
  const rejected: RosterRejection[] = [];
  for await (const page of source.read(entity, readOpts)) {
    opts.signal?.throwIfAborted();
    for (const r of page.rejected)
      rejected.push({ entity: r.entity, reason: r.reason, ...(r.sourcedId ? { sourcedId: r.sourcedId } : {}), ...(r.line ? { line: r.line } : {}) });
    for (const record of page.records) {
      const held = byId.get(record.sourcedId);
      if (!held || (record.dateLastModified?.getTime() ?? 0) >= (held.dateLastModified?.getTime() ?? 0)) byId.set(record.sourcedId, record);
    }
  }
  return { mode, records: [...byId.values()], rejected };
}

/**
 * One sync of a connection from a source. Everything is read first: a source that fails on any
 * page (unreachable, credential refused, a broken file) throws before anything is written, so the
 * previous state stays whole. Then each entity is applied in one transaction of its own, in
 * dependency order (orgs before classes before enrolments), so a database failure part-way leaves
 * every entity either fully applied or untouched. Revocations go out after each commit.
 */
export async function syncRoster(
  ctx: ServiceContext<Principal>,
  input: { connection: SyncScope["connection"]; source: RosterSource; since?: Date | undefined; signal?: AbortSignal | undefined },
): Promise<RosterSyncReport> {
  const read: { [E in SyncedEntity]: Collected<E> } = {
    academicSessions: await collect(input.source, "academicSessions", input),
    orgs: await collect(input.source, "orgs", input),
    classes: await collect(input.source, "classes", input),
    users: await collect(input.source, "users", input),
    enrollments: await collect(input.source, "enrollments", input),
  };
  const report: RosterSyncReport = { counts: {}, rejected: [], latestModified: null };
  for (const entity of SYNCED_ENTITIES) {
    report.rejected.push(...read[entity].rejected);
    for (const r of read[entity].records) {
      if (r.dateLastModified && (!report.latestModified || r.dateLastModified > report.latestModified)) report.latestModified = r.dateLastModified;
    }
  }

  const apply = async (entity: SyncedEntity, run: (scope: SyncScope) => Promise<EntityResult>) => {
    if (read[entity].mode === "absent") return;
    input.signal?.throwIfAborted();
    const outcome = await ctx.db.transaction(async (tx) => {
      const scope: SyncScope = { ctx, tx, connection: input.connection, now: ctx.clock.now() };
      const result = await run(scope);
      await saveLinks(tx, input.connection.id, entity, result.links, scope.now);
      for (const part of chunks(result.audits)) await tx.insert(auditLog).values(part.map((a) => ({ ...auditRow(ctx, a), createdAt: scope.now })));
      return result;
    });
    const before = report.counts[entity];
    report.counts[entity] = before
      ? {
          created: before.created + outcome.counts.created,
          updated: before.updated + outcome.counts.updated,
          removed: before.removed + outcome.counts.removed,
          skipped: before.skipped + outcome.counts.skipped,
          unchanged: before.unchanged + outcome.counts.unchanged,
        }
      : outcome.counts;
    report.rejected.push(...outcome.rejected);
    for (const revocation of outcome.revocations) await publishRevocation(ctx, revocation);
  };

  const diffed = async <E extends SyncedEntity>(scope: SyncScope, entity: E) => {
    const links = await loadLinks(scope.tx, input.connection.id, entity);
    const collected: Collected<E> = read[entity];
    const diff = await diffRecords<E>(collected.records, links, collected.mode === "bulk");
    return { links, ...diff };
  };
  const withUnchanged = (result: EntityResult, unchanged: number) => {
    result.counts.unchanged += unchanged;
    return result;
  };

  await apply("academicSessions", async (scope) => {
    const d = await diffed(scope, "academicSessions");
    return withUnchanged(applyAcademicSessions(scope, d.changes, d.removals), d.unchanged);
  });
  await apply("orgs", async (scope) => {
    const d = await diffed(scope, "orgs");
    return withUnchanged(await applyOrgs(scope, d.changes, d.removals, d.links), d.unchanged);
  });
  await apply("classes", async (scope) => {
    const d = await diffed(scope, "classes");
    const lookups = {
      orgLinks: await loadLinks(scope.tx, input.connection.id, "orgs"),
      sessionLinks: await loadLinks(scope.tx, input.connection.id, "academicSessions"),
    };
    return withUnchanged(await applyClasses(scope, d.changes, d.removals, lookups), d.unchanged);
  });
  // Enrolments of people the SIS removed go with them; the run log counts them under enrollments.
  let enrolmentsDroppedWithUsers = 0;
  await apply("users", async (scope) => {
    const d = await diffed(scope, "users");
    const result = await applyUsers(scope, d.changes, d.removals);
    const removedUsers = d.removals.map((r) => (r.link && !r.link.removedAt ? r.link.localId : null)).filter((v): v is string => !!v);
    const dropped = await dropEnrolmentsOfUsers(scope, removedUsers);
    enrolmentsDroppedWithUsers = dropped.counts.removed;
    result.audits.push(...dropped.audits);
    result.revocations.push(...dropped.revocations);
    return withUnchanged(result, d.unchanged);
  });
  await apply("enrollments", async (scope) => {
    const d = await diffed(scope, "enrollments");
    const lookups = { classLinks: await loadLinks(scope.tx, input.connection.id, "classes"), userLinks: await loadLinks(scope.tx, input.connection.id, "users") };
    const result = await applyEnrollments(scope, d.changes, d.removals, lookups);
    result.counts.removed += enrolmentsDroppedWithUsers;
    return withUnchanged(result, d.unchanged);
  });
  return report;
}
