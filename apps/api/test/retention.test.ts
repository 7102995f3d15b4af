import { describe, expect, test } from "bun:test";
import { aiUsage, auditLog, groups, messages } from "@raptscallions/db";
import { makeMessage, makeSchoolScene, makeSession, type SchoolScene } from "@raptscallions/db/testing";
import { and, eq, inArray, sql } from "drizzle-orm";
import { parseEnv } from "../src/env.ts";
import { createMemoryLogger } from "../src/lib/logger.ts";
import { systemClock } from "../src/lib/clock.ts";
import { unique } from "@raptscallions/db/testing";
import { createJobRegistry } from "../src/jobs/index.ts";
import { retentionJob } from "../src/jobs/retention.ts";
import { defaultRetentionConfig, runRetention } from "../src/services/retention/index.ts";
import { useHarness } from "./helpers/harness.ts";
import { eventually } from "@raptscallions/core/testing";

const h = useHarness();
const logger = createMemoryLogger();
const DAY = 86_400_000;
const daysAgo = (n: number) => new Date(Date.now() - n * DAY);

/** A session in the scene's department with messages of the given ages (days), seq in order. */
async function sessionWith(scene: SchoolScene, ages: number[]) {
  const session = await makeSession(h.db.db, { toolId: scene.tool.id, studentId: scene.student.id, groupId: scene.department.id, classId: scene.cls.id });
  const rows = [];
  for (const [i, age] of ages.entries()) {
    rows.push(
      await makeMessage(h.db.db, {
        sessionId: session.id,
        seq: i + 1,
        role: i % 2 === 0 ? "user" : "assistant",
        state: i % 2 === 0 ? null : "complete",
        content: `words the student wrote ${i}`,
        meta: i % 2 === 0 ? {} : { model: "dev-tutor", inputTokens: 10, outputTokens: 20, costUsd: 0.5, error: { code: "X", message: "echo: words" }, note: "free text" },
        createdAt: daysAgo(age),
      }),
    );
  }
  return { session, rows };
}

const deps = () => ({ db: h.db.db, logger, clock: systemClock });

describe("retention", () => {
  test("anonymises contents past the period, keeps recent ones and usage rows", async () => {
    const scene = await makeSchoolScene(h.db.db);
    const { session, rows } = await sessionWith(scene, [400, 400, 10, 10]);
    const [usage] = await h.db.db
      .insert(aiUsage)
      .values({
        sessionId: session.id,
        messageId: rows[1]?.id,
        groupId: scene.department.id,
        model: "m",
        inputTokens: 10,
        outputTokens: 20,
        costUsd: 0.5,
        status: "complete",
        createdAt: daysAgo(400),
      })
      .returning();

    const run = await runRetention(deps(), defaultRetentionConfig({ defaultDays: 365 }), { scopeGroupId: scene.district.id });
    expect(run.scrubbed).toBe(2);
    const after = await h.db.db.select().from(messages).where(eq(messages.sessionId, session.id)).orderBy(messages.seq);
    expect(after.map((m) => m.content)).toEqual(["", "", "words the student wrote 2", "words the student wrote 3"]);
    expect(after[1]?.meta).toMatchObject({ model: "dev-tutor", inputTokens: 10, outputTokens: 20, costUsd: 0.5, retention: { mode: "anonymise" } });
    expect(after[1]?.meta.error).toBeUndefined();
    expect(after[1]?.meta.note).toBeUndefined();
    expect(after[3]?.meta.note).toBe("free text");
    const [kept] = await h.db.db
      .select()
      .from(aiUsage)
      .where(eq(aiUsage.id, usage?.id ?? ""));
    expect(kept).toEqual(usage);
    // Already scrubbed rows are not touched again.
    expect((await runRetention(deps(), defaultRetentionConfig({ defaultDays: 365 }), { scopeGroupId: scene.district.id })).scrubbed).toBe(0);
    const audits = await h.db.db
      .select()
      .from(auditLog)
      .where(and(eq(auditLog.action, "retention.scrub"), sql`${auditLog.details}->>'scopeGroupId' = ${scene.district.id}`));
    expect(audits).toHaveLength(1);
    expect(audits[0]?.details).toMatchObject({ count: 2, mode: "anonymise" });
  });

  test("the nearest group's settings.retention.days wins over ancestors and the default", async () => {
    const scene = await makeSchoolScene(h.db.db);
    await h.db.db
      .update(groups)
      .set({ settings: { retention: { days: 30 } } })
      .where(eq(groups.id, scene.school.id));
    const { session } = await sessionWith(scene, [40, 20]);
    const off = defaultRetentionConfig({ defaultDays: null });
    expect((await runRetention(deps(), off, { scopeGroupId: scene.district.id })).scrubbed).toBe(1);
    const rows = await h.db.db.select().from(messages).where(eq(messages.sessionId, session.id)).orderBy(messages.seq);
    expect(rows.map((m) => m.content === "")).toEqual([true, false]);

    // A department that keeps 90 days overrides its school's 30 for its own sessions.
    await h.db.db
      .update(groups)
      .set({ settings: { retention: { days: 90 } } })
      .where(eq(groups.id, scene.department.id));
    const longer = await sessionWith(scene, [40, 100]);
    expect((await runRetention(deps(), off, { scopeGroupId: scene.district.id })).messageIds).toEqual([longer.rows[1]?.id ?? "missing"]);
    // Junk settings are ignored, not fatal.
    await h.db.db
      .update(groups)
      .set({ settings: { retention: { days: "forever" } } })
      .where(eq(groups.id, scene.department.id));
    expect((await runRetention(deps(), off, { scopeGroupId: scene.district.id })).messageIds).toEqual([longer.rows[0]?.id ?? "missing"]);
  });

  test("delete mode removes the rows but keeps usage; streaming rows wait for the sweeper", async () => {
    const scene = await makeSchoolScene(h.db.db);
    const { session, rows } = await sessionWith(scene, [400, 400]);
    await makeMessage(h.db.db, { sessionId: session.id, seq: 3, role: "assistant", state: "streaming", content: "half", createdAt: daysAgo(400) });
    const [usage] = await h.db.db
      .insert(aiUsage)
      .values({ sessionId: session.id, messageId: rows[1]?.id, model: "m", inputTokens: 1, outputTokens: 2, costUsd: 0.25, status: "complete" })
      .returning();
    const run = await runRetention(deps(), defaultRetentionConfig({ defaultDays: 365, mode: "delete" }), { scopeGroupId: scene.district.id });
    expect(run.scrubbed).toBe(2);
    const left = await h.db.db.select().from(messages).where(eq(messages.sessionId, session.id));
    expect(left.map((m) => m.state)).toEqual(["streaming"]);
    const [kept] = await h.db.db
      .select()
      .from(aiUsage)
      .where(eq(aiUsage.id, usage?.id ?? ""));
    expect(kept).toMatchObject({ inputTokens: 1, outputTokens: 2, costUsd: 0.25, messageId: null });
  });

  test("two jobs running at once scrub each row exactly once", async () => {
    const scene = await makeSchoolScene(h.db.db);
    const { rows } = await sessionWith(
      scene,
      Array.from({ length: 30 }, () => 400),
    );
    const config = defaultRetentionConfig({ defaultDays: 365, batchSize: 4 });
    const [one, two] = await Promise.all([
      runRetention(deps(), config, { scopeGroupId: scene.district.id }),
      runRetention(deps(), config, { scopeGroupId: scene.district.id }),
    ]);
    const all = [...(one?.messageIds ?? []), ...(two?.messageIds ?? [])];
    expect(all).toHaveLength(30);
    expect(new Set(all)).toEqual(new Set(rows.map((r) => r.id)));
    const scrubbed = await h.db.db.select().from(messages).where(inArray(messages.id, all));
    expect(scrubbed.every((m) => m.content === "")).toBe(true);
  });

  test("the scheduled job runs on its own and stops", async () => {
    const scene = await makeSchoolScene(h.db.db);
    await h.db.db
      .update(groups)
      .set({ settings: { retention: { days: 7 } } })
      .where(eq(groups.id, scene.department.id));
    const { session } = await sessionWith(scene, [8]);
    const { app, deps: appDeps } = await h.withApp();
    const jobs = createJobRegistry({ deps: appDeps, runner: app.realtime.runner }, { namespace: unique("retention-test"), random: () => 0 });
    jobs.register(retentionJob(defaultRetentionConfig({ intervalMs: 50 })));
    jobs.start();
    const stop = () => jobs.stop();
    try {
      await eventually(async () => {
        const [row] = await h.db.db.select().from(messages).where(eq(messages.sessionId, session.id));
        return row?.content === "";
      }, "the job to scrub");
    } finally {
      await stop();
    }
    // Stopped means stopped: an expired message written afterwards outlives many intervals.
    const { session: later } = await sessionWith(scene, [8]);
    await Bun.sleep(400);
    const [kept] = await h.db.db.select().from(messages).where(eq(messages.sessionId, later.id));
    expect(kept?.content).toBe("words the student wrote 0");
  });

  test("the environment configures it", () => {
    const ok = parseEnv({ RETENTION_DAYS: "365", RETENTION_MODE: "anonymize", RETENTION_INTERVAL_MS: "60000" });
    expect(ok.ok && ok.env.RETENTION_DAYS === 365 && ok.env.RETENTION_MODE === "anonymise").toBe(true);
    const off = parseEnv({ RETENTION_DAYS: "" });
    expect(off.ok && off.env.RETENTION_DAYS === undefined && off.env.RETENTION_MODE === "anonymise").toBe(true);
    const bad = parseEnv({ RETENTION_DAYS: "0", RETENTION_MODE: "shred" });
    expect(bad.ok).toBe(false);
    if (!bad.ok) expect(bad.problems.map((p) => p.split(":")[0])).toEqual(expect.arrayContaining(["RETENTION_DAYS", "RETENTION_MODE"]));
  });
});
