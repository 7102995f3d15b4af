import { describe, expect, test } from "bun:test";
import { auditLog, classMembers, classes, groupMembers, groups, rosterConnections, users } from "@raptscallions/db";
import { addGroupMember, makeGroup, makeUser } from "@raptscallions/db/testing";
import { RosterSourceError } from "@raptscallions/oneroster";
import { and, eq, sql } from "drizzle-orm";
import { buildServiceContext } from "../src/services/context.ts";
import { syncRoster } from "../src/services/roster/sync.ts";
import { provisionFromToken } from "../src/services/users/provision.ts";
import { useHarness } from "./helpers/harness.ts";
import { memorySource, type RosterData, roster } from "./helpers/roster.ts";

const h = useHarness();

async function district() {
  const group = await makeGroup(h.db.db, { kind: "district" });
  const [connection] = await h.db.db.insert(rosterConnections).values({ groupId: group.id, name: "Test SIS", kind: "csv" }).returning();
  if (!connection) throw new Error("no connection");
  const ctx = buildServiceContext(h.deps, h.app.realtime.runner, {
    actor: { kind: "integration" as const, id: connection.id, name: "Test SIS" },
    requestId: `test:${connection.id}`,
  });
  const sync = (source: Parameters<typeof syncRoster>[1]["source"]) => syncRoster(ctx, { connection, source });
  const tag = crypto.randomUUID().slice(0, 8);
  return { group, connection, sync, data: () => smallDistrict(tag) };
}

/** A small district: one school, two classes, a teacher and three students. */
function smallDistrict(tag: string): Required<Pick<RosterData, "orgs" | "academicSessions" | "classes" | "users" | "enrollments">> {
  return {
    orgs: [roster.org("district-1", { type: "district" }), roster.org("school-1", { parentSourcedId: "district-1", name: "North High" })],
    academicSessions: [roster.term("term-1", { title: "Spring 2027" })],
    classes: [roster.class("c1", "school-1", { title: "Algebra" }), roster.class("c2", "school-1", { title: "Biology" })],
    // People are shared across districts (matched by email or SIS id): each test has its own.
    users: ["t1", "s1", "s2", "s3"].map((id) => roster.user(id, { email: `${id}.${tag}@sis.example`, identifier: `SIS-${tag}-${id}` })),
    enrollments: [
      roster.enrollment("e-t1-c1", "c1", "t1", "teacher"),
      roster.enrollment("e-s1-c1", "c1", "s1", "student"),
      roster.enrollment("e-s2-c1", "c1", "s2", "student"),
      roster.enrollment("e-s3-c2", "c2", "s3", "student"),
    ],
  };
}

async function rosterOf(connectionId: string) {
  const rows = await h.db.db
    .select({ className: classes.name, term: classes.term, email: users.email, role: classMembers.role, archived: classes.archivedAt })
    .from(classMembers)
    .innerJoin(classes, eq(classes.id, classMembers.classId))
    .innerJoin(users, eq(users.id, classMembers.userId))
    .where(eq(classMembers.rosterConnectionId, connectionId));
  return rows.map((r) => `${r.className}|${r.term}|${r.email?.replace(/\.[0-9a-f]{8}@sis\.example$/, "@sis.example")}|${r.role}`).sort();
}

/** Every row version the sync could touch: `xmin` changes on any write, even one that changes no value. */
async function writeFingerprint(groupId: string) {
  const result = await h.db.db.execute<{ fp: string }>(sql`
    select md5(string_agg(x, ',' order by x)) as fp from (
      select 'g' || g.id || g.xmin::text as x from groups g where g.path <@ (select path from groups where id = ${groupId})
      union all select 'c' || c.id || c.xmin::text from classes c join groups g on g.id = c.group_id where g.path <@ (select path from groups where id = ${groupId})
      union all select 'm' || m.class_id || m.user_id || m.xmin::text from class_members m join classes c on c.id = m.class_id join groups g on g.id = c.group_id where g.path <@ (select path from groups where id = ${groupId})
      union all select 'u' || u.id || u.xmin::text from users u
      union all select 'l' || l.sourced_id || l.xmin::text from roster_links l join roster_connections rc on rc.id = l.connection_id where rc.group_id = ${groupId}
      union all select 'a' || count(*)::text from audit_log
    ) t`);
  // postgres-js answers with the rows, PGlite with `{ rows }`.
  const rows = Array.isArray(result) ? result : (result as unknown as { rows: { fp: string }[] }).rows;
  return rows[0]?.fp;
}

describe("roster sync", () => {
  test("a first full sync creates the school, classes with their term, pending users and enrolments, audited as the connection", async () => {
    const { group, connection, sync, data: fresh } = await district();
    const report = await sync(memorySource(fresh()));
    expect(report.counts.orgs).toMatchObject({ created: 1, updated: 1 });
    expect(report.counts.classes).toMatchObject({ created: 2 });
    expect(report.counts.users).toMatchObject({ created: 4 });
    expect(report.counts.enrollments).toMatchObject({ created: 4 });
    const [school] = await h.db.db.select().from(groups).where(eq(groups.parentId, group.id));
    expect(school).toMatchObject({ name: "North High", kind: "school", sisSourcedId: "school-1", rosterConnectionId: connection.id });
    expect(await rosterOf(connection.id)).toEqual([
      "Algebra|Spring 2027|s1@sis.example|student",
      "Algebra|Spring 2027|s2@sis.example|student",
      "Algebra|Spring 2027|t1@sis.example|teacher",
      "Biology|Spring 2027|s3@sis.example|student",
    ]);
    const [pending] = await h.db.db
      .select()
      .from(users)
      .where(sql`${users.email} like 's1.%' and ${users.id} in (select user_id from class_members where roster_connection_id = ${connection.id})`);
    expect(pending).toMatchObject({ status: "pending", clerkUserId: null });
    const audits = await h.db.db.select().from(auditLog).where(eq(auditLog.actorIntegrationId, connection.id));
    expect(audits.every((a) => a.actorKind === "integration" && a.actorName === "Test SIS")).toBe(true);
    expect(audits.filter((a) => a.action === "class.member.add")).toHaveLength(4);
  });

  test("a re-sync with no change writes nothing, however often it runs", async () => {
    const { group, sync, data: fresh } = await district();
    await sync(memorySource(fresh()));
    const before = await writeFingerprint(group.id);
    for (let i = 0; i < 3; i++) {
      const report = await sync(memorySource(fresh(), { pageSize: 1, shuffleSeed: i + 7 }));
      for (const counts of Object.values(report.counts)) expect(counts).toMatchObject({ created: 0, updated: 0, removed: 0 });
    }
    expect(await writeFingerprint(group.id)).toBe(before);
  });

  test("pages in any order converge to the same roster", async () => {
    const a = await district();
    const b = await district();
    await a.sync(memorySource(a.data(), { pageSize: 1 }));
    await b.sync(memorySource(b.data(), { pageSize: 1, shuffleSeed: 42 }));
    expect(await rosterOf(b.connection.id)).toEqual(await rosterOf(a.connection.id));
    expect(await rosterOf(a.connection.id)).toHaveLength(4);
  });

  test("a delta applies its changes only; a bulk read converges and archives what the source dropped", async () => {
    const { connection, sync, data: fresh } = await district();
    await sync(memorySource(fresh()));
    const at = new Date("2027-02-01T00:00:00Z");
    const delta = await sync(
      memorySource(
        {
          classes: [roster.class("c2", "school-1", { title: "Biology II", dateLastModified: at })],
          enrollments: [roster.enrollment("e-s3-c1", "c1", "s3", "student", { dateLastModified: at })],
        },
        { mode: "delta" },
      ),
    );
    expect(delta.counts.classes).toMatchObject({ updated: 1, removed: 0 });
    expect(delta.counts.enrollments).toMatchObject({ created: 1, removed: 0 });
    expect(await rosterOf(connection.id)).toContain("Biology II|Spring 2027|s3@sis.example|student");
    expect(await rosterOf(connection.id)).toContain("Algebra|Spring 2027|s3@sis.example|student");

    // Bulk without c2 and its enrolments: c2 is archived, its SIS enrolment removed.
    const data = fresh();
    data.classes = data.classes.filter((c) => c.sourcedId !== "c2");
    data.enrollments = data.enrollments.filter((e) => e.classSourcedId !== "c2");
    const bulk = await sync(memorySource(data));
    expect(bulk.counts.classes).toMatchObject({ removed: 1 });
    expect(bulk.counts.enrollments).toMatchObject({ removed: 2 });
    const [c2] = await h.db.db
      .select()
      .from(classes)
      .where(and(eq(classes.rosterConnectionId, connection.id), eq(classes.name, "Biology II")));
    expect(c2?.archivedAt).not.toBeNull();
  });

  test("a tobedeleted enrolment takes the student out; listed again, they come back", async () => {
    const { connection, sync, data: fresh } = await district();
    await sync(memorySource(fresh()));
    const data = fresh();
    data.enrollments = data.enrollments.map((e) => (e.sourcedId === "e-s2-c1" ? { ...e, status: "tobedeleted" } : e));
    const report = await sync(memorySource(data));
    expect(report.counts.enrollments).toMatchObject({ removed: 1 });
    expect(await rosterOf(connection.id)).not.toContain("Algebra|Spring 2027|s2@sis.example|student");
    await sync(memorySource(fresh()));
    expect(await rosterOf(connection.id)).toContain("Algebra|Spring 2027|s2@sis.example|student");
  });

  test("a teacher who is also a Clerk org admin is matched by Clerk id: Clerk keeps their profile and role, the SIS their classes", async () => {
    const { group, connection, sync, data: fresh } = await district();
    const admin = await makeUser(h.db.db, { name: "Clerk Name" });
    await addGroupMember(h.db.db, group.id, admin.id, "admin");
    const data = fresh();
    data.users = data.users.map((u) =>
      u.sourcedId === "t1"
        ? { ...u, givenName: "Sis", familyName: "Name", email: "other@sis.example", userIds: [{ type: "Clerk", identifier: admin.clerkUserId ?? "" }] }
        : u,
    );
    const report = await sync(memorySource(data));
    expect(report.counts.users).toMatchObject({ created: 3, updated: 1 });
    const [after] = await h.db.db.select().from(users).where(eq(users.id, admin.id));
    expect(after).toMatchObject({ name: "Clerk Name", email: admin.email, status: "active", sisId: expect.stringMatching(/^SIS-.*-t1$/) });
    const [membership] = await h.db.db
      .select()
      .from(groupMembers)
      .where(and(eq(groupMembers.groupId, group.id), eq(groupMembers.userId, admin.id)));
    expect(membership?.role).toBe("admin");
    expect(await rosterOf(connection.id)).toContain(`Algebra|Spring 2027|${admin.email}|teacher`);
  });

  test("an existing user is matched by email (any case) rather than duplicated", async () => {
    const { sync, data: fresh } = await district();
    const known = await makeUser(h.db.db, { email: `Known.${crypto.randomUUID().slice(0, 6)}@School.example` });
    const data = fresh();
    data.users = data.users.map((u) => (u.sourcedId === "s1" ? { ...u, email: known.email?.toLowerCase() ?? null } : u));
    await sync(memorySource(data));
    const rows = await h.db.db.select().from(users).where(sql`lower(${users.email}) = ${known.email?.toLowerCase()}`);
    expect(rows.map((r) => r.id)).toEqual([known.id]);
    expect(rows[0]?.sisId).toMatch(/^SIS-.*-s1$/);
  });

  test("bad records are skipped and logged with their reason; the rest applies", async () => {
    const { connection, sync, data: fresh } = await district();
    const data = fresh();
    data.enrollments.push(roster.enrollment("e-ghost", "c1", "nobody", "student"), roster.enrollment("e-proctor", "c1", "s3", "proctor"));
    const report = await sync(memorySource(data, { rejected: [{ entity: "users", line: 7, reason: "givenName: required" }] }));
    expect(report.rejected).toEqual(
      expect.arrayContaining([
        { entity: "users", line: 7, reason: "givenName: required" },
        { entity: "enrollments", sourcedId: "e-ghost", reason: "user nobody is not synced" },
        { entity: "enrollments", sourcedId: "e-proctor", reason: "role proctor has no class membership here" },
      ]),
    );
    expect(report.counts.enrollments).toMatchObject({ created: 4, skipped: 2 });
    expect(await rosterOf(connection.id)).toHaveLength(4);
  });

  test("a source failing mid-sync leaves the previous state intact", async () => {
    const { group, connection, sync, data: fresh } = await district();
    await sync(memorySource(fresh()));
    const before = await writeFingerprint(group.id);
    const data = fresh();
    data.classes = data.classes.map((c) => ({ ...c, title: `${c.title} (renamed)` }));
    data.enrollments = data.enrollments.filter((e) => e.sourcedId !== "e-s1-c1");
    const failing = memorySource(data, { pageSize: 2, failAt: { entity: "enrollments", page: 1 } });
    await expect(sync(failing)).rejects.toBeInstanceOf(RosterSourceError);
    expect(await writeFingerprint(group.id)).toBe(before);
    expect(await rosterOf(connection.id)).toContain("Algebra|Spring 2027|s1@sis.example|student");
  });

  test("a student moved between classes leaves the old class and joins the new one", async () => {
    const { connection, sync, data: fresh } = await district();
    await sync(memorySource(fresh()));
    const data = fresh();
    data.enrollments = data.enrollments.map((e) => (e.sourcedId === "e-s1-c1" ? { ...e, classSourcedId: "c2" } : e));
    const report = await sync(memorySource(data));
    expect(report.counts.enrollments).toMatchObject({ created: 1, removed: 1 });
    const now = await rosterOf(connection.id);
    expect(now).toContain("Biology|Spring 2027|s1@sis.example|student");
    expect(now).not.toContain("Algebra|Spring 2027|s1@sis.example|student");
  });

  test("a pending SIS user becomes the person who signs in through Clerk with that email, enrolments and all", async () => {
    const { connection, sync, data: fresh } = await district();
    await sync(memorySource(fresh()));
    const [pending] = await h.db.db
      .select()
      .from(users)
      .where(sql`${users.email} like 's2.%' and ${users.id} in (select user_id from class_members where roster_connection_id = ${connection.id})`);
    if (!pending?.email) throw new Error("no pending user");
    const clerkUserId = `user_${crypto.randomUUID().replaceAll("-", "")}`;
    const signedIn = await provisionFromToken(h.db.db, { clerkUserId, org: null, claims: { email: pending.email.toUpperCase() } }, {});
    expect(signedIn.userId).toBe(pending.id);
    const [after] = await h.db.db.select().from(users).where(eq(users.id, pending.id));
    expect(after?.clerkUserId).toBe(clerkUserId);
    // A later sync keeps the link and does not make a second account.
    await sync(memorySource(fresh()));
    const same = await h.db.db.select().from(users).where(sql`lower(${users.email}) = ${pending.email}`);
    expect(same.map((u) => u.id)).toEqual([pending.id]);
  });
});
