import { describe, expect, test } from "bun:test";
import { aiUsage, groups, messages, runs, sessions, users } from "@raptscallions/db";
import { makeMessage, makeRun, makeSchoolScene, makeSession, type SchoolScene } from "@raptscallions/db/testing";
import { eq } from "drizzle-orm";
import { parseEnv } from "../src/env.ts";
import { systemClock } from "../src/lib/clock.ts";
import { createMemoryLogger } from "../src/lib/logger.ts";
import { defaultRetentionConfig, runRetention } from "../src/services/retention/index.ts";
import { useHarness } from "./helpers/harness.ts";

const h = useHarness();
const deps = () => ({ db: h.db.db, logger: createMemoryLogger(), clock: systemClock });
const daysAgo = (n: number) => new Date(Date.now() - n * 86_400_000);

/** A titled session, one message and one finished run of the scene's student, all `age` days old. */
async function recordsOf(scene: SchoolScene, age: number) {
  const session = await makeSession(h.db.db, {
    toolId: scene.tool.id,
    studentId: scene.student.id,
    groupId: scene.department.id,
    classId: scene.cls.id,
    title: "my essay about my dog",
    startedAt: daysAgo(age),
  });
  const message = await makeMessage(h.db.db, { sessionId: session.id, seq: 1, role: "user", content: "my dog is called Rex", createdAt: daysAgo(age) });
  const run = await makeRun(h.db.db, {
    toolId: scene.tool.id,
    userId: scene.student.id,
    groupId: scene.department.id,
    input: { essay: "my dog is called Rex" },
    output: "A fine essay",
    state: "complete",
    meta: { model: "m", inputTokens: 3, outputTokens: 4, costUsd: 0.5, note: "words" },
    createdAt: daysAgo(age),
  });
  const [usage] = await h.db.db
    .insert(aiUsage)
    .values({ runId: run.id, groupId: scene.department.id, model: "m", inputTokens: 3, outputTokens: 4, costUsd: 0.5, status: "complete" })
    .returning();
  return { session, message, run, usage };
}

const row = async <T>(rows: Promise<T[]>) => (await rows)[0];
const usageRow = (id: string | undefined) =>
  row(
    h.db.db
      .select()
      .from(aiUsage)
      .where(eq(aiUsage.id, id ?? "")),
  );

describe("retention of runs and session titles", () => {
  test("anonymise: a run's input and output go, its usage numbers stay; the title goes", async () => {
    const scene = await makeSchoolScene(h.db.db);
    const old = await recordsOf(scene, 400);
    const recent = await recordsOf(scene, 10);
    const result = await runRetention(deps(), defaultRetentionConfig({ defaultDays: 365 }), { scopeGroupId: scene.district.id });
    expect(result.runIds).toEqual([old.run.id]);
    expect(result.titledSessionIds).toEqual([old.session.id]);
    const scrubbed = await row(h.db.db.select().from(runs).where(eq(runs.id, old.run.id)));
    expect(scrubbed).toMatchObject({ input: {}, output: null, meta: { model: "m", inputTokens: 3, outputTokens: 4, costUsd: 0.5, retention: { mode: "anonymise" } } });
    expect(scrubbed?.meta.note).toBeUndefined();
    expect((await row(h.db.db.select().from(sessions).where(eq(sessions.id, old.session.id))))?.title).toBeNull();
    expect((await row(h.db.db.select().from(runs).where(eq(runs.id, recent.run.id))))?.output).toBe("A fine essay");
    expect((await row(h.db.db.select().from(sessions).where(eq(sessions.id, recent.session.id))))?.title).toBe("my essay about my dog");
    expect(await usageRow(old.usage?.id)).toEqual(old.usage);
    // Done once: a second run finds nothing.
    const again = await runRetention(deps(), defaultRetentionConfig({ defaultDays: 365 }), { scopeGroupId: scene.district.id });
    expect([again.runIds, again.titledSessionIds]).toEqual([[], []]);
  });

  test("delete: the run row goes, its usage stays without it", async () => {
    const scene = await makeSchoolScene(h.db.db);
    const old = await recordsOf(scene, 400);
    const result = await runRetention(deps(), defaultRetentionConfig({ defaultDays: 365, mode: "delete" }), { scopeGroupId: scene.district.id });
    expect(result.runIds).toEqual([old.run.id]);
    expect(await h.db.db.select().from(runs).where(eq(runs.id, old.run.id))).toEqual([]);
    expect(await usageRow(old.usage?.id)).toMatchObject({ runId: null, costUsd: 0.5 });
    // Sessions are learning records: only their title goes.
    expect(await row(h.db.db.select().from(sessions).where(eq(sessions.id, old.session.id)))).toMatchObject({ title: null });
  });

  test("an under-13 student's records take the stricter period, even where nothing else expires", async () => {
    const scene = await makeSchoolScene(h.db.db);
    const old = await recordsOf(scene, 100);
    const off = defaultRetentionConfig({ defaultDays: null });
    expect((await runRetention(deps(), off, { scopeGroupId: scene.district.id })).scrubbed).toBe(0);
    await h.db.db.update(users).set({ under13Roster: true }).where(eq(users.id, scene.student.id));
    const result = await runRetention(deps(), off, { scopeGroupId: scene.district.id });
    expect([result.messageIds, result.runIds, result.titledSessionIds]).toEqual([[old.message.id], [old.run.id], [old.session.id]]);
    expect((await row(h.db.db.select().from(messages).where(eq(messages.id, old.message.id))))?.content).toBe("");
    // A district that keeps everything for a year still keeps a child's records only 30 days if it says so.
    await h.db.db
      .update(groups)
      .set({ settings: { retention: { days: 365 }, privacy: { under13RetentionDays: 30 } } })
      .where(eq(groups.id, scene.district.id));
    const month = await recordsOf(scene, 40);
    const stricter = await runRetention(deps(), off, { scopeGroupId: scene.district.id });
    expect(stricter.messageIds).toEqual([month.message.id]);
    // The classmate who is not under 13 keeps theirs.
    const classmate = await makeSession(h.db.db, { toolId: scene.tool.id, studentId: scene.otherStudent.id, groupId: scene.department.id, classId: scene.cls.id });
    const kept = await makeMessage(h.db.db, { sessionId: classmate.id, seq: 1, role: "user", content: "mine", createdAt: daysAgo(40) });
    await runRetention(deps(), off, { scopeGroupId: scene.district.id });
    expect((await row(h.db.db.select().from(messages).where(eq(messages.id, kept.id))))?.content).toBe("mine");
  });

  test("RETENTION_UNDER13_DAYS configures the under-13 period", () => {
    const ok = parseEnv({ RETENTION_UNDER13_DAYS: "30" });
    expect(ok.ok && ok.env.RETENTION_UNDER13_DAYS).toBe(30);
    const dflt = parseEnv({});
    expect(dflt.ok && dflt.env.RETENTION_UNDER13_DAYS).toBe(90);
    expect(parseEnv({ RETENTION_UNDER13_DAYS: "0" }).ok).toBe(false);
  });
});
