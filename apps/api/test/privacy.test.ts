import { beforeAll, describe, expect, test } from "bun:test";
import { erasureResultSchema, privacyStudentSchema } from "@raptscallions/core";
import { aiUsage, auditLog, groups, notificationDeliveries, rosterConnections, rosterLinks, sessions, users } from "@raptscallions/db";
import {
  addClassMember,
  addGroupMember,
  makeAiUsage,
  makeAssignment,
  makeAuditEntry,
  makeClass,
  makeExtraction,
  makeMessage,
  makeRun,
  makeSchoolScene,
  makeSession,
  makeSubmission,
  makeUser,
  type SchoolScene,
  type UserRow,
  unique,
} from "@raptscallions/db/testing";
import { eq, sql } from "drizzle-orm";
import { unzipSync } from "fflate";
import { erasureTargetId } from "../src/services/privacy/erase.ts";
import { authHeader } from "./helpers/auth.ts";
import { useHarness } from "./helpers/harness.ts";

const h = useHarness();

interface Seeded {
  user: UserRow;
  sourcedId: string;
  phone: string;
}

/** A student with data of every kind in two classes (the scene's and a second one in the school). */
async function seedStudent(scene: SchoolScene, cls2: string, user: UserRow, connectionId: string): Promise<Seeded> {
  const db = h.db.db;
  const phone = `(415) 555-${String(1000 + Math.floor(Math.random() * 8999))}`;
  await addGroupMember(db, scene.school.id, user.id, "member");
  for (const [i, classId] of [scene.cls.id, cls2].entries()) {
    const groupId = i === 0 ? scene.department.id : scene.school.id;
    const assignment = await makeAssignment(db, classId, scene.tool.id);
    const session = await makeSession(db, {
      toolId: scene.tool.id,
      studentId: user.id,
      groupId,
      classId,
      assignmentId: assignment.id,
      state: "completed",
      title: `${user.givenName}'s chat`,
    });
    const said = await makeMessage(db, {
      sessionId: session.id,
      seq: 1,
      role: "user",
      content: `Hi, I am ${user.name}, mail me at ${user.email} or call ${phone}`,
      authorId: user.id,
    });
    const answer = await makeMessage(db, { sessionId: session.id, seq: 2, role: "assistant", state: "complete", content: `Hello ${user.givenName}! Let's work.` });
    const run = await makeRun(db, {
      toolId: scene.tool.id,
      userId: user.id,
      groupId,
      classId,
      input: { essay: `My name is ${user.name}` },
      output: `Feedback for ${user.givenName}`,
    });
    await makeSubmission(db, {
      assignmentId: assignment.id,
      studentId: user.id,
      sessionId: session.id,
      state: "graded",
      grade: "B+",
      feedback: `Well done ${user.givenName}`,
    });
    const finding = await makeExtraction(db, {
      sessionId: session.id,
      messageId: said.id,
      classId,
      groupId,
      module: "safety-filter",
      kind: "self-harm",
      severity: "high",
      isAlert: true,
      data: { message: `about ${user.givenName}` },
    });
    await db.insert(notificationDeliveries).values({
      alertId: finding.id,
      groupId,
      purpose: "alert",
      channel: "email",
      recipient: scene.teacher.email ?? "t@example.test",
      dedupeKey: unique("dedupe"),
      payload: { alertId: finding.id, studentId: user.id, summary: "Possible self-harm" },
    });
    await makeAiUsage(db, {
      model: "m",
      userId: user.id,
      groupId,
      classId,
      sessionId: session.id,
      messageId: answer.id,
      inputTokens: 10,
      outputTokens: 20,
      costUsd: 0.25,
      status: "complete",
    });
    await makeAiUsage(db, { model: "m", userId: user.id, groupId, classId, runId: run.id, inputTokens: 5, outputTokens: 7, costUsd: 0.125, status: "complete" });
    await makeAuditEntry(db, { actorId: scene.teacher.id, action: "session.view", targetType: "session", targetId: session.id, groupId });
  }
  await makeAuditEntry(db, { actorId: user.id, action: "session.start", targetType: "session", targetId: crypto.randomUUID(), groupId: scene.department.id });
  await makeAuditEntry(db, {
    actorId: scene.schoolAdmin.id,
    action: "group.member.add",
    targetType: "group_member",
    targetId: `${scene.school.id}:${user.id}`,
    groupId: scene.school.id,
    details: { userId: user.id, email: user.email },
  });
  const sourcedId = unique("sis-user");
  await db.insert(rosterLinks).values([
    { connectionId, entity: "users", sourcedId, localId: user.id, contentHash: "h" },
    { connectionId, entity: "enrollments", sourcedId: unique("sis-enr"), localId: `${scene.cls.id}:${user.id}`, contentHash: "h" },
  ]);
  return { user, sourcedId, phone };
}

let scene: SchoolScene;
let cls2: string;
let target: Seeded;
let other: Seeded;
let connectionId: string;

beforeAll(async () => {
  scene = await makeSchoolScene(h.db.db);
  const second = await makeClass(h.db.db, scene.school.id);
  cls2 = second.id;
  await addClassMember(h.db.db, cls2, scene.teacher.id, "teacher");
  const [connection] = await h.db.db.insert(rosterConnections).values({ groupId: scene.district.id, name: "SIS", kind: "csv" }).returning();
  connectionId = connection?.id ?? "";
  for (const u of [scene.student, scene.otherStudent]) await addClassMember(h.db.db, cls2, u.id, "student");
  const named = async (id: string) => {
    const givenName = unique("Zelinda").replace(/[^A-Za-z0-9]/g, "");
    const familyName = unique("Quorbel").replace(/[^A-Za-z0-9]/g, "");
    const [row] = await h.db.db
      .update(users)
      .set({ sisId: unique("sis"), givenName, familyName, name: `${givenName} ${familyName}` })
      .where(eq(users.id, id))
      .returning();
    if (!row) throw new Error("no student");
    return row;
  };
  target = await seedStudent(scene, cls2, await named(scene.student.id), connectionId);
  other = await seedStudent(scene, cls2, await named(scene.otherStudent.id), connectionId);
}, 60_000);

/** Ids per table of every row about `userId`, each from a query of its own, written out independently of the service. */
async function rowsAbout(userId: string): Promise<Record<string, string[]>> {
  const q = async (text: ReturnType<typeof sql>) => {
    const rows = await h.db.db.select({ id: sql<string>`x.id` }).from(sql`(${text}) x`);
    return rows.map((r) => String(r.id)).sort();
  };
  const theirSessions = sql`select id from sessions where student_id = ${userId}`;
  const theirRuns = sql`select id from runs where user_id = ${userId}`;
  const findings = sql`select id from extractions where session_id in (${theirSessions}) or run_id in (${theirRuns})`;
  return {
    "group-memberships.json": await q(sql`select group_id as id from group_members where user_id = ${userId}`),
    "class-memberships.json": await q(sql`select class_id as id from class_members where user_id = ${userId}`),
    "sessions.json": await q(theirSessions),
    "messages.json": await q(sql`select id from messages where session_id in (${theirSessions})`),
    "runs.json": await q(theirRuns),
    "submissions.json": await q(sql`select id from submissions where student_id = ${userId}`),
    "findings.json": await q(findings),
    "notification-deliveries.json": await q(sql`select id from notification_deliveries where alert_id in (${findings})`),
    "ai-usage.json": await q(sql`select id from ai_usage where user_id = ${userId}`),
    "audit.json": await q(sql`select id from audit_log where actor_id = ${userId} or target_id = ${userId} or target_id like ${`%:${userId}`}
      or details->>'userId' = ${userId} or (target_type = 'session' and target_id in (select id::text from sessions where student_id = ${userId}))`),
    "roster-links.json": await q(sql`select sourced_id as id from roster_links where local_id = ${userId} or local_id like ${`%:${userId}`}`),
  };
}

const idOf: Record<string, string> = {
  "group-memberships.json": "groupId",
  "class-memberships.json": "classId",
  "roster-links.json": "sourcedId",
};

async function download(as: UserRow, userId: string) {
  const res = await h.app.request(`/api/privacy/students/${userId}/export`, { headers: await authHeader(as) });
  return { res, files: res.status === 200 ? unzipSync(new Uint8Array(await res.arrayBuffer())) : {} };
}

/** Every table, as text, searched for `needle` (case-blind): the tables that still hold it. */
async function tablesHolding(needle: string): Promise<string[]> {
  const tables = await h.db.db
    .select({ name: sql<string>`table_name` })
    .from(sql`information_schema.tables`)
    .where(sql`table_schema = 'public' and table_type = 'BASE TABLE'`);
  const found: string[] = [];
  for (const { name } of tables) {
    const [row] = await h.db.db
      .select({ n: sql<number>`count(*)::int` })
      .from(sql`${sql.identifier(name)} t`)
      .where(sql`strpos(lower(t::text), lower(${needle})) > 0`);
    if ((row?.n ?? 0) > 0) found.push(name);
  }
  return found;
}

describe("student export", () => {
  test("holds every row about the student in two classes and nothing about anyone else", async () => {
    const { res, files } = await download(scene.districtAdmin, target.user.id);
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toBe("application/zip");
    const text = (name: string) => new TextDecoder().decode(files[name]);
    const expected = await rowsAbout(target.user.id);
    for (const [file, ids] of Object.entries(expected)) {
      const rows = JSON.parse(text(file)) as Record<string, unknown>[];
      expect({ file, ids: rows.map((r) => String(r[idOf[file] ?? "id"])).sort() }).toEqual({ file, ids });
      expect(ids.length).toBeGreaterThan(0);
    }
    const sessionsInExport = JSON.parse(text("sessions.json")) as { classId: string }[];
    expect(new Set(sessionsInExport.map((s) => s.classId))).toEqual(new Set([scene.cls.id, cls2]));
    expect(JSON.parse(text("profile.json")).email).toBe(target.user.email);
    expect(text("README.txt")).toContain(target.user.id);
    // Nothing about the other student of the same classes.
    const all = Object.keys(files)
      .map((f) => text(f))
      .join("\n");
    for (const needle of [other.user.id, other.user.email ?? "x", other.user.name ?? "x", other.sourcedId]) expect(all).not.toContain(needle);
    const [entry] = await h.db.db.select().from(auditLog).where(sql`${auditLog.action} = 'privacy.export' and ${auditLog.targetId} = ${target.user.id}`);
    expect(entry?.actorId).toBe(scene.districtAdmin.id);
  });

  test("a school admin exports too; teachers, other districts' admins and unknown ids get 404", async () => {
    expect((await download(scene.schoolAdmin, target.user.id)).res.status).toBe(200);
    const elsewhere = await makeSchoolScene(h.db.db);
    for (const [as, id] of [
      [scene.teacher, target.user.id],
      [elsewhere.districtAdmin, target.user.id],
      [scene.districtAdmin, crypto.randomUUID()],
    ] as const) {
      const res = await h.as(as).get(`/api/privacy/students/${id}/export`);
      expect(res.status).toBe(404);
      expect((res.body as { error: { code: string } }).error.code).toBe("NOT_FOUND");
    }
    const malformed = await h.as(scene.districtAdmin).get("/api/privacy/students/not-a-uuid/export");
    expect(malformed.status).toBe(404);
    expect((malformed.body as { error: { code: string } }).error.code).toBe("NOT_FOUND");
    const staff = await h.as(scene.districtAdmin).get(`/api/privacy/students/${scene.teacher.id}/export`);
    expect(staff.status).toBe(409);
    expect((await h.anonymous.get(`/api/privacy/students/${target.user.id}/export`)).status).toBe(401);
  });

  test("search finds the student by name for their admins only", async () => {
    const found = await h.as(scene.schoolAdmin).get<{ items: { id: string }[] }>(`/api/privacy/students?q=${encodeURIComponent(target.user.name ?? "")}`);
    expect(found.status).toBe(200);
    expect(found.body.items.map((i) => i.id)).toEqual([target.user.id]);
    expect((await h.as(scene.teacher).get("/api/privacy/students")).status).toBe(403);
    const one = await h.as(scene.schoolAdmin).get(`/api/privacy/students/${target.user.id}`);
    expect(one.status).toBe(200);
    const dto = privacyStudentSchema.parse(one.body);
    expect(dto.erasure).toBe("anonymise");
    expect(dto.classes.map((c) => c.id).sort()).toEqual([scene.cls.id, cls2].sort());
  });
});

describe("erasure", () => {
  test("a bad erasure policy is refused when saved", async () => {
    const res = await h.as(scene.districtAdmin).patch(`/api/groups/${scene.school.id}`, { settings: { privacy: { erasure: "shred" } } });
    expect(res.status).toBe(422);
    expect((res.body as { error: { code: string } }).error.code).toBe("VALIDATION_FAILED");
  });

  test("anonymise: ends the live session, leaves no trace of the identity, usage totals still add up", async () => {
    const db = h.db.db;
    const live = await makeSession(db, { toolId: scene.tool.id, studentId: target.user.id, groupId: scene.department.id, classId: scene.cls.id, state: "active" });
    const totals = sql`select class_id as id, sum(cost_usd)::float8 as cost, sum(input_tokens + output_tokens)::int as tokens from ai_usage where class_id in (${scene.cls.id}, ${cls2}) group by class_id order by class_id`;
    const before = await db.select({ id: sql<string>`x.id`, cost: sql<number>`x.cost`, tokens: sql<number>`x.tokens` }).from(sql`(${totals}) x`);
    const otherBefore = await rowsAbout(other.user.id);

    const res = await h.as(scene.districtAdmin).post(`/api/privacy/students/${target.user.id}/erase`);
    expect(res.status).toBe(200);
    const result = erasureResultSchema.parse(res.body);
    expect(result).toMatchObject({ mode: "anonymise", alreadyErased: false, closedSessions: [live.id] });

    const [ended] = await db.select().from(sessions).where(eq(sessions.id, live.id));
    expect(ended?.state).toBe("completed");
    const replay = await h.deps.bus.replay(`session:${live.id}`, 0);
    expect(replay.kind === "events" ? replay.events.map((e) => e.type) : []).toContain("session.ended");

    const identity = [
      target.user.name,
      target.user.givenName,
      target.user.familyName,
      target.user.email,
      target.user.clerkUserId,
      target.user.sisId,
      target.sourcedId,
      target.phone,
    ];
    for (const needle of identity) {
      if (!needle) throw new Error("the seeded student lacks an identifier");
      expect({ needle, tables: await tablesHolding(needle) }).toEqual({ needle, tables: [] });
    }
    const after = await db.select({ id: sql<string>`x.id`, cost: sql<number>`x.cost`, tokens: sql<number>`x.tokens` }).from(sql`(${totals}) x`);
    expect(after).toEqual(before);
    expect(await db.select().from(aiUsage).where(eq(aiUsage.userId, target.user.id))).toEqual([]);
    // Learning records stay, nameless; the other student's rows are untouched.
    expect((await db.select().from(sessions).where(eq(sessions.studentId, target.user.id))).length).toBe(3);
    expect(await rowsAbout(other.user.id)).toEqual(otherBefore);
    const [row] = await db.select().from(users).where(eq(users.id, target.user.id));
    expect(row).toMatchObject({ name: "Erased user", email: null, clerkUserId: null, sisId: null, status: "deleted" });
    const [entry] = await db
      .select()
      .from(auditLog)
      .where(eq(auditLog.targetId, await erasureTargetId(target.user.id)));
    expect(entry).toMatchObject({ action: "privacy.erase", actorId: scene.districtAdmin.id });
    expect(JSON.stringify(entry?.details)).not.toContain(target.user.id);

    const again = await h.as(scene.districtAdmin).post(`/api/privacy/students/${target.user.id}/erase`);
    expect(again.status).toBe(200);
    expect(erasureResultSchema.parse(again.body)).toMatchObject({ alreadyErased: true, mode: "anonymise" });
    expect(
      (
        await db
          .select()
          .from(auditLog)
          .where(eq(auditLog.targetId, await erasureTargetId(target.user.id)))
      ).length,
    ).toBe(1);
  });

  test("delete (the school's policy): the records go, usage totals stay", async () => {
    const db = h.db.db;
    await db
      .update(groups)
      .set({ settings: { privacy: { erasure: "delete" } } })
      .where(eq(groups.id, scene.school.id));
    const usageBefore = await db.select({ cost: sql<number>`sum(cost_usd)::float8` }).from(aiUsage).where(eq(aiUsage.groupId, scene.school.id));
    const res = await h.as(scene.schoolAdmin).post(`/api/privacy/students/${other.user.id}/erase`);
    expect(res.status).toBe(200);
    expect(erasureResultSchema.parse(res.body).mode).toBe("delete");
    const left = await rowsAbout(other.user.id);
    for (const [file, ids] of Object.entries(left)) if (file !== "audit.json") expect({ file, ids }).toEqual({ file, ids: [] });
    for (const needle of [other.user.name, other.user.email, other.user.clerkUserId, other.sourcedId, other.phone]) {
      expect({ needle, tables: await tablesHolding(needle ?? "") }).toEqual({ needle, tables: [] });
    }
    expect(await db.select({ cost: sql<number>`sum(cost_usd)::float8` }).from(aiUsage).where(eq(aiUsage.groupId, scene.school.id))).toEqual(usageBefore);
    await db.update(groups).set({ settings: {} }).where(eq(groups.id, scene.school.id));
  });

  test("refusals: unknown, out of reach, partly out of reach, staff, not an admin", async () => {
    const elsewhere = await makeSchoolScene(h.db.db);
    const unknown = await h.as(scene.districtAdmin).post(`/api/privacy/students/${crypto.randomUUID()}/erase`);
    expect(unknown.status).toBe(404);
    const outside = await h.as(scene.districtAdmin).post(`/api/privacy/students/${elsewhere.student.id}/erase`);
    expect(outside.status).toBe(404);
    // A student of both districts: neither district's admin alone may erase them.
    const both = await makeUser(h.db.db);
    await addClassMember(h.db.db, scene.cls.id, both.id, "student");
    await addClassMember(h.db.db, elsewhere.cls.id, both.id, "student");
    const partly = await h.as(scene.districtAdmin).post(`/api/privacy/students/${both.id}/erase`);
    expect(partly.status).toBe(403);
    expect((partly.body as { error: { code: string } }).error.code).toBe("FORBIDDEN");
    const staff = await h.as(scene.districtAdmin).post(`/api/privacy/students/${scene.teacher.id}/erase`);
    expect(staff.status).toBe(409);
    const teacher = await h.as(scene.teacher).post(`/api/privacy/students/${elsewhere.otherStudent.id}/erase`);
    expect(teacher.status).toBe(404);
    const [still] = await h.db.db.select().from(users).where(eq(users.id, both.id));
    expect(still?.erasedAt).toBeNull();
  });
});
