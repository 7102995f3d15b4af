import { beforeAll, describe, expect, test } from "bun:test";
import { auditEntrySchema, pageOf } from "@raptscallions/core";
import { auditLog, jobLeases } from "@raptscallions/db";
import { makeSchoolScene, makeUser, unique } from "@raptscallions/db/testing";
import { eq, sql } from "drizzle-orm";
import { createJobRegistry, defineJob, type JobRegistry } from "../src/jobs/index.ts";
import type { Metrics } from "../src/lib/metrics.ts";
import { createClassCore, enrolClassMemberCore, unenrolClassMemberCore } from "../src/services/classes/cores.ts";
import { buildServiceContext } from "../src/services/context.ts";
import { addGroupMemberCore, createGroupCore } from "../src/services/groups/cores.ts";
import { type Harness, harness, testDatabaseUrl, useHarness } from "./helpers/harness.ts";
import { call } from "./helpers/security.ts";
import { eventually } from "@raptscallions/core/testing";

/*
 * The job registry against the test database: PGlite (both registries on one handle, as two
 * registries in one process would be) and, when TEST_DATABASE_URL is set, Postgres with a
 * separate connection pool per registry, as two instances would have.
 */

const h = useHarness({}, 60_000);
/** The second instance's harness on Postgres: another pool on the same database. */
let second: Harness | undefined;
const other = (): Harness => second ?? h;
const opened: JobRegistry[] = [];

beforeAll(async () => {
  if (testDatabaseUrl) second = await harness();
}, 60_000);
// Registries stop before the apps and databases they run on go.
h.beforeClose(async () => {
  await Promise.all(opened.map((r) => r.stop(1000)));
  await second?.close();
});

/** A registry as one instance would have it: its own app (for the answer runner), logger and metrics. */
async function registry(on: Harness, namespace: string, instanceId: string) {
  const { deps, app } = await on.withApp({ deps: (base) => ({ config: { ...base.config, instanceId } }) });
  const jobs = createJobRegistry({ deps, runner: app.realtime.runner }, { namespace });
  opened.push(jobs);
  return { jobs, logger: deps.logger, metrics: deps.metrics, deps, app };
}

async function counterValue(metrics: Metrics, name: string, labels: Record<string, string>): Promise<number> {
  const metric = await metrics.registry.getSingleMetric(name)?.get();
  const found = metric?.values.find((v) => Object.entries(labels).every(([k, value]) => v.labels[k] === value));
  return found?.value ?? 0;
}

describe("job registry: one runner at a time", () => {
  test("two registries racing for the same job: exactly one runs it, every time", async () => {
    const namespace = unique("race");
    let runs = 0;
    // The winner's run waits for the test, so the loser's attempt is decided while the lease is held
    // however slowly either attempt is scheduled.
    let release: () => void = () => {};
    const job = defineJob({
      name: "race",
      intervalMs: 60_000,
      run: async () => {
        runs += 1;
        await new Promise<void>((resolve) => {
          release = resolve;
        });
      },
    });
    const a = await registry(h, namespace, "instance-a");
    const b = await registry(other(), namespace, "instance-b");
    a.jobs.register(job);
    b.jobs.register(job);
    for (let round = 1; round <= 5; round++) {
      const attempts = [a.jobs.runOnce("race", { force: true }), b.jobs.runOnce("race", { force: true })];
      const first = await Promise.race(attempts);
      expect(first).toBe("not-claimed");
      await eventually(async () => runs === round, "the winner's run");
      release();
      expect((await Promise.all(attempts)).toSorted()).toEqual(["not-claimed", "ok"]);
      expect(runs).toBe(round);
    }
  });

  test("scheduled on two registries, runs never overlap and keep to one interval across both", async () => {
    const namespace = unique("schedule");
    let running = 0;
    let maxRunning = 0;
    let runs = 0;
    const intervalMs = 150;
    const job = defineJob({
      name: "schedule",
      intervalMs,
      run: async () => {
        running += 1;
        maxRunning = Math.max(maxRunning, running);
        runs += 1;
        await Bun.sleep(30);
        running -= 1;
      },
    });
    const a = await registry(h, namespace, "instance-a");
    const b = await registry(other(), namespace, "instance-b");
    a.jobs.register(job);
    b.jobs.register(job);
    const started = Date.now();
    a.jobs.start();
    b.jobs.start();
    await eventually(async () => runs >= 4, "four runs");
    await Promise.all([a.jobs.stop(), b.jobs.stop()]);
    const elapsed = Date.now() - started;
    expect(maxRunning).toBe(1);
    // Each run is due `intervalMs` after the previous one ended, on whichever instance: two
    // instances polling never make it run twice per interval.
    expect(runs).toBeLessThanOrEqual(Math.floor(elapsed / intervalMs) + 1);
  });

  test("a lease left by an instance that died is taken over once it expires", async () => {
    const namespace = unique("takeover");
    let runs = 0;
    const b = await registry(other(), namespace, "instance-b");
    b.jobs.register(
      defineJob({
        name: "takeover",
        intervalMs: 60_000,
        run: async () => {
          runs += 1;
        },
      }),
    );
    // What a crashed holder leaves: a due job, leased for a little while longer, never renewed.
    await h.db.db.insert(jobLeases).values({ name: `${namespace}:takeover`, holder: "dead-instance", leasedUntil: sql`now() + interval '300 milliseconds'` });
    expect(await b.jobs.runOnce("takeover")).toBe("not-claimed");
    expect(runs).toBe(0);
    await eventually(async () => (await b.jobs.runOnce("takeover")) === "ok", "b to take the expired lease");
    expect(runs).toBe(1);
    const [lease] = await h.db.db
      .select()
      .from(jobLeases)
      .where(eq(jobLeases.name, `${namespace}:takeover`));
    expect(lease).toMatchObject({ holder: null, leasedUntil: null, lastOutcome: "ok" });
  });

  test("a run whose lease is taken from it is asked to stop, and does not free the new holder's lease", async () => {
    const namespace = unique("lost");
    const a = await registry(h, namespace, "instance-a");
    let reason = "";
    a.jobs.register(
      defineJob({
        name: "lost",
        intervalMs: 60_000,
        leaseMs: 90,
        run: (ctx) =>
          new Promise<void>((resolve) =>
            ctx.signal.addEventListener("abort", () => {
              reason = String((ctx.signal.reason as Error).message);
              resolve();
            }),
          ),
      }),
    );
    const run = a.jobs.runOnce("lost", { force: true });
    const key = `${namespace}:lost`;
    await eventually(async () => (await h.db.db.select().from(jobLeases).where(eq(jobLeases.name, key)))[0]?.holder?.startsWith("instance-a"), "a's claim");
    await h.db.db.update(jobLeases).set({ holder: "intruder" }).where(eq(jobLeases.name, key));
    expect(await run).toBe("ok");
    expect(reason).toBe("lease lost");
    expect(a.logger.lines.some((l) => l.msg === "job finished after its lease was lost")).toBe(true);
    const [lease] = await h.db.db.select().from(jobLeases).where(eq(jobLeases.name, key));
    expect(lease?.holder).toBe("intruder");
  });
});

describe("job registry: stopping and failing", () => {
  test("stop aborts the signal and waits for the running job to finish", async () => {
    const { jobs } = await registry(h, unique("stop"), "instance-a");
    let started = false;
    let finished = false;
    let sawAbort = false;
    jobs.register(
      defineJob({
        name: "slow",
        intervalMs: 60_000,
        run: async (ctx) => {
          started = true;
          await Bun.sleep(300);
          sawAbort = ctx.signal.aborted;
          finished = true;
        },
      }),
    );
    const run = jobs.runOnce("slow", { force: true });
    await eventually(async () => started, "the job to start");
    await jobs.stop(10_000);
    expect(finished).toBe(true);
    expect(sawAbort).toBe(true);
    expect(await run).toBe("ok");
    expect(await jobs.runOnce("slow", { force: true })).toBe("stopped");
  });

  test("stop while a claim is in flight waits for it, and the job never starts", async () => {
    const namespace = unique("claiming");
    const { jobs } = await registry(h, namespace, "instance-a");
    let ran = 0;
    jobs.register(
      defineJob({
        name: "late",
        intervalMs: 60_000,
        run: async () => {
          ran += 1;
        },
      }),
    );
    const run = jobs.runOnce("late", { force: true }); // its claim is now on its way to the database
    await jobs.stop(5_000);
    expect(await run).toBe("stopped");
    expect(ran).toBe(0);
    const [lease] = await h.db.db
      .select()
      .from(jobLeases)
      .where(eq(jobLeases.name, `${namespace}:late`));
    expect(lease?.holder ?? null).toBeNull();
  });

  test("stop gives up after its timeout on a job that ignores the signal, and says so", async () => {
    const namespace = unique("stuck");
    const { jobs, logger } = await registry(h, namespace, "instance-a");
    let release: () => void = () => {};
    const stuck = new Promise<void>((resolve) => {
      release = resolve;
    });
    jobs.register(defineJob({ name: "stuck", intervalMs: 60_000, run: () => stuck }));
    const run = jobs.runOnce("stuck", { force: true });
    await eventually(
      async () =>
        (
          await h.db.db
            .select()
            .from(jobLeases)
            .where(eq(jobLeases.name, `${namespace}:stuck`))
        )[0]?.holder,
      "the claim",
    );
    const stopping = Date.now();
    await jobs.stop(100);
    // Returned without the job: it is still pending until released below.
    expect(Date.now() - stopping).toBeLessThan(5_000);
    expect(logger.lines.some((l) => l.msg === "jobs still running at stop; their leases expire on their own")).toBe(true);
    release();
    expect(await run).toBe("ok");
  });

  test("a throwing job is logged, counted, recorded on its lease and run again next interval", async () => {
    const namespace = unique("throws");
    const { jobs, logger, metrics } = await registry(h, namespace, "instance-a");
    let attempts = 0;
    jobs.register(
      defineJob({
        name: "flaky",
        intervalMs: 100,
        run: async () => {
          attempts += 1;
          if (attempts === 1) throw new Error("upstream said no");
        },
      }),
    );
    jobs.start();
    await eventually(async () => attempts >= 2, "a second attempt");
    await eventually(async () => (await counterValue(metrics, "job_runs_total", { job: "flaky", outcome: "ok" })) >= 1, "the ok run to be counted");
    await jobs.stop();
    expect(await counterValue(metrics, "job_runs_total", { job: "flaky", outcome: "failed" })).toBe(1);
    const failure = logger.lines.find((l) => l.msg === "job failed; it runs again next interval");
    expect(failure).toMatchObject({ level: "error", job: "flaky" });
    expect(JSON.stringify(failure)).toContain("upstream said no");
    const [lease] = await h.db.db
      .select()
      .from(jobLeases)
      .where(eq(jobLeases.name, `${namespace}:flaky`));
    expect(lease).toMatchObject({ lastOutcome: "ok", holder: null, leasedUntil: null });
  });

  test("a job name that is not kebab-case, or a non-positive interval, is refused at definition", () => {
    expect(() => defineJob({ name: "Not Kebab", intervalMs: 10, run: async () => {} })).toThrow();
    expect(() => defineJob({ name: "zero", intervalMs: 0, run: async () => {} })).toThrow();
  });
});

describe("system actor", () => {
  test("a job creating a class through the core is audited as the system, and /api/audit shows it", async () => {
    const scene = await makeSchoolScene(h.db.db);
    const { jobs, app } = await registry(h, unique("system-audit"), "instance-a");
    let classId = "";
    let runId = "";
    jobs.register(
      defineJob({
        name: "roster-demo",
        intervalMs: 60_000,
        run: async (ctx) => {
          runId = ctx.runId;
          const row = await ctx.db.transaction((tx) => createClassCore(tx, ctx, { groupId: scene.department.id, name: "Synced class", term: "2026" }));
          classId = row.id;
        },
      }),
    );
    expect(await jobs.runOnce("roster-demo", { force: true })).toBe("ok");
    const [entry] = await h.db.db.select().from(auditLog).where(eq(auditLog.targetId, classId));
    expect(entry).toMatchObject({ action: "class.create", actorKind: "system", actorName: "roster-demo", actorId: null, requestId: runId, groupId: scene.department.id });

    const admin = await makeUser(h.db.db, { isSystemAdmin: true });
    const res = await call<{ items: unknown[] }>(app, "GET", `/api/audit?targetId=${classId}&actorKind=system`, { as: admin });
    expect(res.status).toBe(200);
    const page = pageOf(auditEntrySchema).parse(res.body);
    expect(page.items).toHaveLength(1);
    expect(page.items[0]).toMatchObject({ actorId: null, actor: { kind: "system", name: "roster-demo" }, action: "class.create" });
    // A person's write still reads as theirs.
    const mine = await call<{ id: string }>(app, "POST", "/api/classes", { as: scene.schoolAdmin, body: { groupId: scene.department.id, name: "By hand" } });
    const byHand = await call<{ items: unknown[] }>(app, "GET", `/api/audit?targetId=${mine.body.id}`, { as: admin });
    expect(pageOf(auditEntrySchema).parse(byHand.body).items[0]).toMatchObject({ actorId: scene.schoolAdmin.id, actor: { kind: "user", userId: scene.schoolAdmin.id } });
    const users = await call<{ items: unknown[] }>(app, "GET", `/api/audit?actorKind=user&targetId=${classId}`, { as: admin });
    expect(users.body.items).toHaveLength(0);
    const bad = await call<{ error: { code: string } }>(app, "GET", "/api/audit?actorKind=robot", { as: admin });
    expect(bad.status).toBe(400);
  });

  test("an integration's writes through the cores keep the domain rules and are audited as the integration", async () => {
    const scene = await makeSchoolScene(h.db.db);
    const { deps, app } = await registry(h, unique("integration"), "instance-a");
    const ctx = buildServiceContext(deps, app.realtime.runner, {
      actor: { kind: "integration", id: "conn-42", name: "OneRoster" },
      requestId: `sync:${unique("run")}`,
    });
    const student = await makeUser(h.db.db);
    const { school, cls } = await ctx.db.transaction(async (tx) => {
      const school = await createGroupCore(tx, ctx, { parentId: scene.district.id, name: "Synced school", slug: unique("synced"), kind: "school" });
      await addGroupMemberCore(tx, ctx, { groupId: school.id, userId: student.id, role: "member" });
      const cls = await createClassCore(tx, ctx, { groupId: school.id, name: "Synced class" });
      await enrolClassMemberCore(tx, ctx, { classId: cls.id, userId: student.id, role: "student" });
      return { school, cls };
    });
    expect(school.path.startsWith(scene.district.path)).toBe(true);
    // No permission check, but the domain rules hold: one enrolment per user, none in an archived class.
    const again = await ctx.db.transaction((tx) => enrolClassMemberCore(tx, ctx, { classId: cls.id, userId: student.id, role: "student" })).catch((e: unknown) => e);
    expect((again as { code?: string }).code).toBe("CONFLICT");
    await ctx.db.transaction((tx) => unenrolClassMemberCore(tx, ctx, { classId: cls.id, userId: student.id }));
    const entries = await h.db.db.select().from(auditLog).where(eq(auditLog.requestId, ctx.requestId));
    expect(entries.map((e) => e.action).toSorted()).toEqual(["class.create", "class.member.add", "class.member.remove", "group.create", "group.member.add"]);
    for (const e of entries) expect(e).toMatchObject({ actorKind: "integration", actorName: "OneRoster", actorIntegrationId: "conn-42", actorId: null });
  });

  test("the database refuses a system or integration entry without a name", async () => {
    const insert = async (values: Partial<typeof auditLog.$inferInsert>) => {
      await h.db.db.insert(auditLog).values({ action: "test.write", targetType: "test", ...values });
    };
    await expect(insert({ actorKind: "system", actorName: null })).rejects.toThrow();
    await expect(insert({ actorKind: "integration", actorName: "Roster", actorIntegrationId: null })).rejects.toThrow();
    await insert({ actorKind: "integration", actorName: "Roster", actorIntegrationId: "conn-1" });
  });
});
