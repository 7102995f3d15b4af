import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { sql } from "drizzle-orm";
import { type DbHandle, groups, isEmpty, messages, seed, SEED } from "../src/index.ts";
import { createTestDb, makeGroup, makeMessage, makeSchoolScene, makeSession } from "../src/testing/index.ts";

let handle: DbHandle;
beforeAll(async () => {
  handle = await createTestDb();
});
afterAll(async () => {
  await handle.close();
});

describe("schema", () => {
  test("migrations are idempotent: running them again applies nothing and fails nothing", async () => {
    await handle.migrate();
    const rows = await handle.db.execute(sql`select count(*)::int as n from drizzle.__drizzle_migrations`);
    const list = (rows as unknown as { rows?: { n: number }[] }).rows ?? (rows as unknown as { n: number }[]);
    expect(Number(list[0]?.n)).toBeGreaterThanOrEqual(2);
  });

  test("the seed builds the scene and is idempotent", async () => {
    const first = await seed(handle.db);
    const second = await seed(handle.db);
    expect(second).toEqual(first);
    expect(await isEmpty(handle.db)).toBe(false);
    const [school] = await handle.db.select().from(groups).where(sql`${groups.slug} = ${SEED.groups.school.slug}`);
    const [district] = await handle.db.select().from(groups).where(sql`${groups.slug} = ${SEED.groups.district.slug}`);
    expect(school?.parentId).toBe(district?.id ?? "missing");
  });

  test("ltree answers subtree and ancestor queries", async () => {
    const root = await makeGroup(handle.db);
    const child = await makeGroup(handle.db, { parent: root });
    const grandchild = await makeGroup(handle.db, { parent: child });
    const sibling = await makeGroup(handle.db);
    const subtree = await handle.db.select({ id: groups.id }).from(groups).where(sql`${groups.path} <@ ${root.path}::ltree`);
    expect(subtree.map((r) => r.id).sort()).toEqual([root.id, child.id, grandchild.id].sort());
    expect(subtree.map((r) => r.id)).not.toContain(sibling.id);
    const ancestors = await handle.db.select({ id: groups.id }).from(groups).where(sql`${groups.path} @> ${grandchild.path}::ltree`).orderBy(sql`nlevel(${groups.path})`);
    expect(ancestors.map((r) => r.id)).toEqual([root.id, child.id, grandchild.id]);
  });

  test("message seq and client message id are unique per session", async () => {
    const scene = await makeSchoolScene(handle.db);
    const session = await makeSession(handle.db, {
      toolId: scene.tool.id,
      studentId: scene.student.id,
      groupId: scene.department.id,
      classId: scene.cls.id,
    });
    await makeMessage(handle.db, { sessionId: session.id, seq: 1, clientMessageId: "c1" });
    await expect(makeMessage(handle.db, { sessionId: session.id, seq: 1 })).rejects.toThrow();
    await expect(makeMessage(handle.db, { sessionId: session.id, seq: 2, clientMessageId: "c1" })).rejects.toThrow();
    const rows = await handle.db.select().from(messages).where(sql`${messages.sessionId} = ${session.id}`);
    expect(rows).toHaveLength(1);
  });

  test("a tool version cannot be deleted while an assignment pins it", async () => {
    const scene = await makeSchoolScene(handle.db);
    const { makeAssignment } = await import("../src/testing/index.ts");
    await makeAssignment(handle.db, scene.cls.id, scene.tool.id);
    await expect(Promise.resolve(handle.db.execute(sql`delete from tool_versions where tool_id = ${scene.tool.id}`))).rejects.toThrow();
  });
});

describe("factories", () => {
  test("every entity has a factory that writes a valid row", async () => {
    const f = await import("../src/testing/index.ts");
    const scene = await f.makeSchoolScene(handle.db);
    const assignment = await f.makeAssignment(handle.db, scene.cls.id, scene.tool.id);
    const session = await f.makeSession(handle.db, {
      toolId: scene.tool.id,
      studentId: scene.student.id,
      groupId: scene.department.id,
      classId: scene.cls.id,
      assignmentId: assignment.id,
    });
    const message = await f.makeMessage(handle.db, { sessionId: session.id, seq: 1 });
    const run = await f.makeRun(handle.db, { toolId: scene.tool.id, userId: scene.student.id, groupId: scene.department.id });
    const submission = await f.makeSubmission(handle.db, { assignmentId: assignment.id, studentId: scene.student.id, sessionId: session.id });
    const extraction = await f.makeExtraction(handle.db, { sessionId: session.id, messageId: message.id, classId: scene.cls.id, groupId: scene.department.id });
    const model = await f.makeModel(handle.db);
    const settings = await f.makeAiSettings(handle.db, { groupId: scene.school.id, defaultModel: model.id, monthlyBudgetUsd: 5 });
    const usage = await f.makeAiUsage(handle.db, { model: model.id, userId: scene.student.id, groupId: scene.department.id, sessionId: session.id });
    const asset = await f.makeThemeAsset(handle.db, scene.school.id);
    const audit = await f.makeAuditEntry(handle.db, { actorId: scene.schoolAdmin.id, groupId: scene.school.id });
    const webhook = await f.makeWebhookEvent(handle.db);
    expect(submission.sessionId).toBe(session.id);
    expect(run.state).toBe("running");
    expect(extraction.status).toBe("open");
    expect(settings.monthlyBudgetUsd).toBe(5);
    expect(usage.costUsd).toBeCloseTo(0.0002);
    expect(asset.key).toContain(asset.sha256);
    expect(audit.id).toBeGreaterThan(0);
    expect(webhook.svixId.startsWith("msg_")).toBe(true);
  });
});
