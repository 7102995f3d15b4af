// Row-level security, the second layer of tenant isolation: a statement that forgets every app-level
// filter, run through the app's role with one teacher's scope, still sees and writes only that
// teacher's district. Runs on PGlite (which switches to the app role) and on Postgres.
import { beforeAll, describe, expect, test } from "bun:test";
import {
  APP_ROLE,
  type DbHandle,
  classes,
  groupPath,
  groups,
  users,
  notificationAttempts,
  notificationDeliveries,
  rosterConnections,
  rosterLinks,
  rosterRuns,
} from "@raptscallions/db";
import {
  addClassMember,
  makeAiSettings,
  makeAiUsage,
  makeAssignment,
  makeAuditEntry,
  makeClass,
  makeExtraction,
  makeGroup,
  makeMessage,
  makeModel,
  makeRun,
  makeSchoolScene,
  makeSession,
  makeSubmission,
  makeThemeAsset,
  makeUser,
  unique,
} from "@raptscallions/db/testing";
import { eq, sql } from "drizzle-orm";
import { loadActor } from "../src/access/actor.ts";
import { dbFor, reachOf } from "../src/services/context.ts";
import { useHarness } from "./helpers/harness.ts";

// Tables the system alone uses: no tenant data, so no policy (docs/privacy.md says why).
const SYSTEM_TABLES = ["ai_models", "job_leases", "limit_settle_retries", "webhook_events"];

const h = useHarness();
let handle: DbHandle;

/** Raw rows from either driver (postgres-js returns an array, PGlite `{ rows }`). */
async function rows<T>(query: Promise<unknown>): Promise<T[]> {
  const result = (await query) as T[] | { rows: T[] };
  return Array.isArray(result) ? result : result.rows;
}
type Scene = Awaited<ReturnType<typeof makeDistrict>>;
let a: Scene;
let b: Scene;

async function makeDistrict(db: DbHandle["db"]) {
  const scene = await makeSchoolScene(db);
  const model = await makeModel(db);
  const assignment = await makeAssignment(db, scene.cls.id, scene.tool.id);
  const session = await makeSession(db, { toolId: scene.tool.id, studentId: scene.student.id, groupId: scene.department.id, classId: scene.cls.id });
  await makeMessage(db, { sessionId: session.id, seq: 1 });
  await makeRun(db, { toolId: scene.tool.id, userId: scene.student.id, groupId: scene.department.id });
  await makeSubmission(db, { assignmentId: assignment.id, studentId: scene.student.id, sessionId: session.id });
  const alert = await makeExtraction(db, { sessionId: session.id });
  await makeAiSettings(db, { groupId: scene.school.id });
  await makeAiUsage(db, { model: model.id, groupId: scene.department.id, userId: scene.student.id, sessionId: session.id });
  const [delivery] = await db
    .insert(notificationDeliveries)
    .values({ alertId: alert.id, groupId: scene.department.id, purpose: "alert", channel: "email", recipient: "t@example.test", dedupeKey: unique("dedupe") })
    .returning();
  if (!delivery) throw new Error("no delivery");
  await db.insert(notificationAttempts).values({ deliveryId: delivery.id, attempt: 1, outcome: "sent", durationMs: 1 });
  const [connection] = await db
    .insert(rosterConnections)
    .values({ groupId: scene.district.id, name: unique("sis"), kind: "csv" })
    .returning();
  if (!connection) throw new Error("no connection");
  await db.insert(rosterLinks).values({ connectionId: connection.id, entity: "user", sourcedId: unique("s"), localId: scene.student.id, contentHash: "h" });
  await db.insert(rosterRuns).values({ connectionId: connection.id, trigger: "manual" });
  await makeThemeAsset(db, scene.school.id);
  await makeAuditEntry(db, { groupId: scene.school.id, action: "test.rls", targetType: "group", targetId: scene.school.id });
  return scene;
}

async function teacherDb(scene: Scene) {
  const actor = await loadActor(handle.db, scene.teacher.id);
  if (!actor) throw new Error("no actor");
  return handle.scoped(reachOf(actor));
}

async function tenantTables(): Promise<string[]> {
  const tables = await rows<{ name: string }>(
    handle.db.execute(
      sql`select c.relname as name from pg_class c join pg_namespace n on n.oid = c.relnamespace where n.nspname = 'public' and c.relkind = 'r' order by 1`,
    ),
  );
  return tables.filter((r) => !SYSTEM_TABLES.includes(r.name)).map((r) => r.name);
}

beforeAll(async () => {
  handle = h.db;
  a = await makeDistrict(handle.db);
  b = await makeDistrict(handle.db);
});

describe("row-level security", () => {
  test("every table but the system's has row-level security on, and a tenant_id", async () => {
    const tables = await rows<{ name: string; rls: boolean; tenant: boolean }>(
      handle.db.execute(sql`select c.relname as name, c.relrowsecurity as rls, exists (select 1 from information_schema.columns k where k.table_schema = 'public' and k.table_name = c.relname and k.column_name = 'tenant_id') as tenant
          from pg_class c join pg_namespace n on n.oid = c.relnamespace where n.nspname = 'public' and c.relkind = 'r'`),
    );
    const unprotected = tables.filter((r) => !SYSTEM_TABLES.includes(r.name) && !r.rls).map((r) => r.name);
    expect(unprotected).toEqual([]);
    expect(tables.filter((r) => !SYSTEM_TABLES.includes(r.name) && r.name !== "users" && !r.tenant).map((r) => r.name)).toEqual([]);
    expect(tables.length).toBeGreaterThan(20);
  });

  test("a teacher's unscoped select of every tenant table returns rows of their district only", async () => {
    const db = await teacherDb(a);
    const districtA = a.district.id;
    for (const table of await tenantTables()) {
      if (table === "users") continue;
      const seen = await rows<{ tenant_id: string | null }>(db.execute(sql`select tenant_id from ${sql.identifier(table)}`));
      // The system-wide AI settings row (no district) is every district's default.
      const foreign = seen.filter((r) => r.tenant_id !== districtA && !(table === "ai_settings" && r.tenant_id === null));
      expect({ table, foreign: foreign.length }).toEqual({ table, foreign: 0 });
      expect({ table, own: seen.some((r) => r.tenant_id === districtA) }).toEqual({ table, own: true });
    }
  });

  test("people: a teacher sees their district's people and themselves, never another district's", async () => {
    const db = await teacherDb(a);
    const seen = await rows<{ id: string }>(db.execute(sql`select id from users`));
    const ids = new Set(seen.map((r) => r.id));
    expect(ids.has(a.teacher.id)).toBe(true);
    expect(ids.has(a.student.id)).toBe(true);
    for (const person of [b.teacher, b.student, b.districtAdmin, b.otherStudent]) expect(ids.has(person.id)).toBe(false);
    const loner = await makeUser(handle.db);
    const alone = await rows<{ id: string }>(handle.scoped({ tenantIds: [], userId: loner.id }).execute(sql`select id from users`));
    expect(alone.map((r) => r.id)).toEqual([loner.id]);
  });

  test("writes into another district are refused by the database", async () => {
    const db = await teacherDb(a);
    await expect(db.insert(classes).values({ groupId: b.department.id, name: "smuggled" }).execute()).rejects.toThrow();
    await expect(db.transaction(async (tx) => tx.insert(classes).values({ groupId: b.department.id, name: "smuggled" }))).rejects.toThrow();
    const moved = await db.update(classes).set({ name: "renamed" }).where(eq(classes.id, b.cls.id)).returning();
    expect(moved).toEqual([]);
    const removed = await db.delete(classes).where(eq(classes.id, b.cls.id)).returning();
    expect(removed).toEqual([]);
    // Its own district's rows it writes as before.
    const [own] = await db.insert(classes).values({ groupId: a.department.id, name: "own" }).returning();
    expect(own?.groupId).toBe(a.department.id);
  });

  test("no scope at all sees no tenant row; the system scope sees every district", async () => {
    const nobody = handle.scoped({ tenantIds: [], userId: null });
    expect(await nobody.select().from(groups)).toEqual([]);
    const all = await handle.db.select({ id: groups.id }).from(groups);
    const ids = new Set(all.map((g) => g.id));
    expect(ids.has(a.district.id) && ids.has(b.district.id)).toBe(true);
  });

  test("scoped statements run as the app role, which owns no table", async () => {
    const [row] = await rows<{ role: string; owned: number; bypass: boolean }>(
      (await teacherDb(a)).execute(
        sql`select current_user as role, (select count(*) from pg_tables where schemaname = 'public' and tableowner = current_user)::int as owned, (select rolsuper or rolbypassrls from pg_roles where rolname = current_user) as bypass`,
      ),
    );
    expect(row).toEqual({ role: APP_ROLE, owned: 0, bypass: false });
  });

  test("a group moved under another district carries its rows along", async () => {
    const orphan = await makeGroup(handle.db, { kind: "school" });
    const cls = await makeClass(handle.db, orphan.id);
    const student = await makeUser(handle.db);
    await addClassMember(handle.db, cls.id, student.id, "student");
    await handle.db
      .update(groups)
      .set({ parentId: a.district.id, path: groupPath(orphan.id, a.district.path) })
      .where(eq(groups.id, orphan.id));
    const db = await teacherDb(a);
    expect((await db.select({ id: classes.id }).from(classes).where(eq(classes.id, cls.id))).map((c) => c.id)).toEqual([cls.id]);
    const [member] = await rows<{ tenant_id: string }>(handle.db.execute(sql`select tenant_id from class_members where class_id = ${cls.id}`));
    expect(member?.tenant_id).toBe(a.district.id);
  });

  test("the context builder: a person gets their reach, the system and public requests the system scope", async () => {
    const teacher = await loadActor(handle.db, a.teacher.id);
    if (!teacher) throw new Error("no actor");
    expect(dbFor(handle, { kind: "system", name: "retention" })).toBe(handle.db);
    expect(dbFor(handle, { kind: "integration", id: "clerk", name: "Clerk" })).toBe(handle.db);
    expect(dbFor(handle, null)).toBe(handle.db);
    expect(dbFor(handle, { ...teacher, isSystemAdmin: true })).toBe(handle.db);
    const scoped = dbFor(handle, teacher);
    expect(scoped).not.toBe(handle.db);
    const seen = await scoped.select({ id: groups.id }).from(groups).where(eq(groups.id, b.district.id));
    expect(seen).toEqual([]);
    expect(reachOf(teacher).tenantIds).toEqual([a.district.id]);
  });

  test("members of the same districts share one scoped handle and still see themselves; someone with no membership gets their own", async () => {
    const teacher = await loadActor(handle.db, a.teacher.id);
    const student = await loadActor(handle.db, a.student.id);
    if (!teacher || !student) throw new Error("no actor");
    expect(reachOf(teacher)).toEqual({ tenantIds: [a.district.id], userId: null });
    expect(dbFor(handle, student)).toBe(dbFor(handle, teacher));
    for (const who of [teacher, student]) {
      const own = await dbFor(handle, who).select({ id: users.id }).from(users).where(eq(users.id, who.userId));
      expect(own).toEqual([{ id: who.userId }]);
    }
    const loner = await makeUser(handle.db);
    const lonerActor = await loadActor(handle.db, loner.id);
    if (!lonerActor) throw new Error("no actor");
    expect(reachOf(lonerActor)).toEqual({ tenantIds: [], userId: loner.id });
    const own = await dbFor(handle, lonerActor).select({ id: users.id }).from(users);
    expect(own).toEqual([{ id: loner.id }]);
  });
});
