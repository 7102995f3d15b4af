import { beforeAll, describe, expect, test } from "bun:test";
import { aiUsage, type DbOrTx, extractions, groups, messages, sessions } from "@raptscallions/db";
import { addClassMember, makeSchoolScene, makeSession, makeUser, type SchoolScene } from "@raptscallions/db/testing";
import { createGatewayClient, MemoryLimitStore, SUMMARY_SYSTEM_PROMPT } from "@raptscallions/gateway";
import { and, eq } from "drizzle-orm";
import { createJobRegistry } from "../src/jobs/index.ts";
import { sessionSummariesJob } from "../src/jobs/session-summaries.ts";
import { createAiService } from "../src/services/ai/index.ts";
import { pinDevModel } from "./helpers/ai.ts";
import { authHeader } from "./helpers/auth.ts";
import { type TestApp, type TestDeps, useHarness } from "./helpers/harness.ts";
import { errorCode, securityTests } from "./helpers/security.ts";
import { startScriptedUpstream } from "./modules-helpers.ts";

/**
 * Session summaries: queued by the end of a session in its transaction, written by the
 * `session-summaries` job through the AI service (model resolution, limits, budgets, an ai_usage
 * row), from the PII-redacted transcript only, stored as a `summary` finding and announced to the
 * class room. On demand for a live session over REST.
 */
const h = useHarness();

type Turn = { role: "user" | "assistant" | "teacher"; content: string; meta?: Record<string, unknown> };

/** A session with a stored transcript (seqs dense, `lastSeq` up to date) on the scene's class. */
async function sessionWith(db: DbOrTx, scene: SchoolScene, turns: Turn[]) {
  const session = await makeSession(db, { toolId: scene.tool.id, studentId: scene.student.id, groupId: scene.department.id, classId: scene.cls.id });
  let seq = 0;
  for (const t of turns) {
    seq += 1;
    await db.insert(messages).values({
      sessionId: session.id,
      seq,
      role: t.role,
      content: t.content,
      state: t.role === "assistant" ? "complete" : null,
      authorId: t.role === "user" ? scene.student.id : t.role === "teacher" ? scene.teacher.id : null,
      meta: t.meta ?? {},
    });
  }
  await db.update(sessions).set({ lastSeq: seq }).where(eq(sessions.id, session.id));
  return session;
}

/** One run of the summary job on `deps`, as the registry schedules it (forced: not waiting for its interval). */
async function runSummaryJob(app: TestApp, deps: TestDeps) {
  const jobs = createJobRegistry({ deps, runner: app.realtime.runner }, { namespace: `t-${crypto.randomUUID()}` });
  jobs.register(sessionSummariesJob({ summaryIntervalMs: 60_000, summaryMaxAttempts: 3 }));
  try {
    expect(await jobs.runOnce("session-summaries", { force: true })).toBe("ok");
  } finally {
    await jobs.stop();
  }
}

async function summaryRows(db: DbOrTx, sessionId: string) {
  return db
    .select()
    .from(extractions)
    .where(and(eq(extractions.sessionId, sessionId), eq(extractions.module, "summary")));
}

async function usageRows(db: DbOrTx, sessionId: string) {
  return db.select().from(aiUsage).where(eq(aiUsage.sessionId, sessionId));
}

const photosynthesis: Turn[] = [
  { role: "user", content: "How does photosynthesis work in plants?" },
  { role: "assistant", content: "What do you already know about light?" },
  { role: "user", content: "Is photosynthesis about sunlight and chlorophyll?" },
  { role: "assistant", content: "Yes. What does chlorophyll absorb?" },
  { role: "user", content: "I still don't understand photosynthesis" },
  { role: "assistant", content: "Let's take it step by step." },
];

describe("end-of-session summary on the dev model", () => {
  let scene: SchoolScene;
  beforeAll(async () => {
    scene = await makeSchoolScene(h.db.db);
    await pinDevModel(h.db.db, scene.district.id);
  });

  test("ending queues it at once; the job writes topics, struggle and alerts from the transcript, charged like any call", async () => {
    const session = await sessionWith(h.db.db, scene, photosynthesis);
    await h.db.db.insert(extractions).values([
      {
        sessionId: session.id,
        classId: scene.cls.id,
        groupId: scene.department.id,
        module: "struggle-detector",
        kind: "struggle",
        severity: "medium",
        isAlert: true,
        data: { level: "struggling", score: 0.7, reasons: [] },
      },
      {
        sessionId: session.id,
        classId: scene.cls.id,
        groupId: scene.department.id,
        module: "safety-filter",
        kind: "bullying",
        severity: "medium",
        isAlert: true,
        data: { category: "bullying" },
      },
    ]);

    const ended = await h.as(scene.teacher).post(`/api/sessions/${session.id}/end`);
    expect(ended.status).toBe(200);
    // Ending did not wait for a model: the summary is queued, nothing was charged yet.
    const [queued] = await summaryRows(h.db.db, session.id);
    expect(queued?.kind).toBe("session-end");
    expect(queued?.data.state).toBe("pending");
    expect(queued?.data.upToSeq).toBe(photosynthesis.length);
    expect(await usageRows(h.db.db, session.id)).toHaveLength(0);

    await runSummaryJob(h.app, h.deps);
    const list = await h.as(scene.teacher).get<{ items: Record<string, unknown>[] }>(`/api/sessions/${session.id}/summaries`);
    expect(list.status).toBe(200);
    const [summary] = list.body.items;
    expect(summary).toMatchObject({ kind: "session-end", state: "ready", studentId: scene.student.id, classId: scene.cls.id, attempts: 1, error: null });
    // The dev model restates what it was given: topics from the student's turns, the struggle signal, the alerts.
    const text = String(summary?.text);
    expect(text).toContain("Worked on: photosynthesis");
    // The struggle module's final signal at the end ("I still don't understand") is the latest one.
    expect(text).toContain("Struggled: mild (Expressed frustration or confusion once)");
    expect(text).toContain("Alerts: bullying (medium) x1");
    // The struggle finding is reported as struggle, not again as an alert.
    expect(text).not.toContain("struggle (medium)");

    // One gateway call, charged to the session's group with the student's limits, its row matching the summary's usage.
    const usage = await usageRows(h.db.db, session.id);
    expect(usage).toHaveLength(1);
    expect(usage[0]).toMatchObject({ groupId: scene.department.id, classId: scene.cls.id, userId: scene.student.id, messageId: null, status: "complete" });
    expect(summary?.model).toBe(usage[0]?.model);
    expect(summary?.usage).toMatchObject({ outputTokens: usage[0]?.outputTokens ?? -1 });
    expect(usage[0]?.outputTokens).toBeGreaterThan(0);

    // Pushed to the class room for its teachers (never to the session room the student watches).
    const replay = await h.deps.bus.replay(`class:${scene.cls.id}`, 0);
    const events = replay.kind === "events" ? replay.events.filter((e) => e.type === "summary") : [];
    expect(events.map((e) => (e.payload as { summary: { id: string; state: string } }).summary)).toContainEqual(
      expect.objectContaining({ id: summary?.id, state: "ready" }),
    );
    const sessionReplay = await h.deps.bus.replay(`session:${session.id}`, 0);
    expect(sessionReplay.kind === "events" ? sessionReplay.events.filter((e) => e.type === "summary") : []).toEqual([]);
  });

  test("idempotent per session end: ending again queues nothing, a second run writes nothing", async () => {
    const session = await sessionWith(h.db.db, scene, photosynthesis.slice(0, 2));
    expect((await h.as(scene.student).post(`/api/sessions/${session.id}/end`)).status).toBe(200);
    expect((await h.as(scene.teacher).post(`/api/sessions/${session.id}/end`)).status).toBe(200);
    expect(await summaryRows(h.db.db, session.id)).toHaveLength(1);
    await runSummaryJob(h.app, h.deps);
    await runSummaryJob(h.app, h.deps);
    const rows = await summaryRows(h.db.db, session.id);
    expect(rows).toHaveLength(1);
    expect(rows[0]?.data.state).toBe("ready");
    expect(rows[0]?.data.attempts).toBe(1);
    expect(await usageRows(h.db.db, session.id)).toHaveLength(1);
  });

  test("a session with nothing said yet still gets a summary that says so", async () => {
    const session = await sessionWith(h.db.db, scene, []);
    await h.as(scene.teacher).post(`/api/sessions/${session.id}/end`);
    await runSummaryJob(h.app, h.deps);
    const [row] = await summaryRows(h.db.db, session.id);
    expect(row?.data.state).toBe("ready");
    expect(String(row?.data.text)).toContain("Worked on: nothing yet");
    expect(String(row?.data.text)).toContain("Alerts: none.");
  });
});

describe("on demand, for a live session", () => {
  let scene: SchoolScene;
  let other: SchoolScene;
  let live: string;
  let ended: string;
  beforeAll(async () => {
    scene = await makeSchoolScene(h.db.db);
    other = await makeSchoolScene(h.db.db);
    await pinDevModel(h.db.db, scene.district.id);
    live = (await sessionWith(h.db.db, scene, photosynthesis.slice(0, 4))).id;
    ended = (await sessionWith(h.db.db, scene, photosynthesis.slice(0, 2))).id;
    await h.as(scene.teacher).post(`/api/sessions/${ended}/end`);
  });

  test("a teacher gets one now (201, charged to them); asking again before anything new is said returns it (200)", async () => {
    const first = await h.as(scene.teacher).post<{ summary: Record<string, unknown> }>(`/api/sessions/${live}/summaries`);
    expect(first.status).toBe(201);
    expect(first.body.summary).toMatchObject({ kind: "on-demand", state: "ready", upToSeq: 4 });
    expect(String(first.body.summary.text)).toContain("Worked on: photosynthesis");
    const usage = await usageRows(h.db.db, live);
    expect(usage.map((u) => u.userId)).toEqual([scene.teacher.id]);

    const again = await h.as(scene.schoolAdmin).post<{ summary: Record<string, unknown> }>(`/api/sessions/${live}/summaries`);
    expect(again.status).toBe(200);
    expect(again.body.summary.id).toBe(first.body.summary.id);
    expect(await usageRows(h.db.db, live)).toHaveLength(1);
  });

  test("an ended session has its end-of-session summary instead: 409 SESSION_ENDED", async () => {
    const res = await h.as(scene.teacher).post(`/api/sessions/${ended}/summaries`);
    expect(res.status).toBe(409);
    expect(errorCode(res.body)).toBe("SESSION_ENDED");
  });

  test("bad input: a malformed or unknown session id is a 404 JSON error (no such resource can exist)", async () => {
    const bad = await h.as(scene.teacher).get("/api/sessions/not-a-uuid/summaries");
    expect(bad.status).toBe(404);
    expect(errorCode(bad.body)).toBe("NOT_FOUND");
    const unknown = await h.as(scene.teacher).post(`/api/sessions/${crypto.randomUUID()}/summaries`);
    expect(unknown.status).toBe(404);
    expect(errorCode(unknown.body)).toBe("NOT_FOUND");
  });

  securityTests("session summaries", () => h.app, [
    {
      method: "GET",
      route: "/api/sessions/:id/summaries",
      path: () => `/api/sessions/${live}/summaries`,
      denied: () => [
        { who: scene.student, status: 403, as: "the session's own student" },
        { who: other.teacher, status: 404, as: "another school's teacher" },
      ],
    },
    {
      method: "POST",
      route: "/api/sessions/:id/summaries",
      path: () => `/api/sessions/${live}/summaries`,
      denied: () => [
        { who: scene.student, status: 403, as: "the session's own student" },
        { who: other.schoolAdmin, status: 404, as: "another school's admin" },
      ],
    },
  ]);
});

describe("limits and budgets apply", () => {
  test("a group over its budget gets no summary: the row says refused (BUDGET_EXCEEDED), nothing is charged; on demand is a 429", async () => {
    const scene = await makeSchoolScene(h.db.db);
    await pinDevModel(h.db.db, scene.district.id, { settings: { monthlyBudgetUsd: 0.000001 } });
    const session = await sessionWith(h.db.db, scene, photosynthesis);
    await h.as(scene.teacher).post(`/api/sessions/${session.id}/end`);
    await runSummaryJob(h.app, h.deps);
    const list = await h.as(scene.teacher).get<{ items: Record<string, unknown>[] }>(`/api/sessions/${session.id}/summaries`);
    expect(list.body.items).toEqual([
      expect.objectContaining({ state: "refused", text: null, model: null, error: expect.objectContaining({ code: "BUDGET_EXCEEDED" }) }),
    ]);
    expect(await usageRows(h.db.db, session.id)).toHaveLength(0);
    // A final state: later runs leave it alone.
    await runSummaryJob(h.app, h.deps);
    expect((await summaryRows(h.db.db, session.id))[0]?.data.attempts).toBe(1);
    // The class room hears that it was refused, so the console can say so.
    const replay = await h.deps.bus.replay(`class:${scene.cls.id}`, 0);
    const states =
      replay.kind === "events" ? replay.events.filter((e) => e.type === "summary").map((e) => (e.payload as { summary: { state: string } }).summary.state) : [];
    expect(states).toEqual(["refused"]);

    const live = await sessionWith(h.db.db, scene, photosynthesis.slice(0, 2));
    const now = await h.as(scene.teacher).post(`/api/sessions/${live.id}/summaries`);
    expect(now.status).toBe(429);
    expect(errorCode(now.body)).toBe("BUDGET_EXCEEDED");
    const [recorded] = await summaryRows(h.db.db, live.id);
    expect(recorded?.data.state).toBe("refused");
  });

  test("a per-user rate limit is retried later (pending with a next attempt), not given up", async () => {
    const scene = await makeSchoolScene(h.db.db);
    await pinDevModel(h.db.db, scene.district.id, { settings: { requestsPerMinute: 1 } });
    const first = await sessionWith(h.db.db, scene, photosynthesis.slice(0, 2));
    const second = await sessionWith(h.db.db, scene, photosynthesis.slice(0, 2));
    await h.as(scene.teacher).post(`/api/sessions/${first.id}/end`);
    await h.as(scene.teacher).post(`/api/sessions/${second.id}/end`);
    await runSummaryJob(h.app, h.deps);
    const states = [(await summaryRows(h.db.db, first.id))[0]?.data, (await summaryRows(h.db.db, second.id))[0]?.data];
    expect(states.map((d) => d?.state).sort()).toEqual(["pending", "ready"]);
    const waiting = states.find((d) => d?.state === "pending");
    expect(waiting?.error).toMatchObject({ code: "RATE_LIMITED" });
    expect(Date.parse(String(waiting?.nextAttemptAt))).toBeGreaterThan(Date.now());
  });
});

describe("through a scripted upstream", () => {
  test("the prompt carries the redacted transcript and never the student's raw details, even where the school stores originals", async () => {
    const upstream = startScriptedUpstream();
    h.beforeClose(() => upstream.stop());
    const scene = await makeSchoolScene(h.db.db);
    const student = await makeUser(h.db.db, { name: "Marisol Quintero", givenName: "Marisol", familyName: "Quintero" });
    await addClassMember(h.db.db, scene.cls.id, student.id, "student");
    await pinDevModel(h.db.db, scene.district.id);
    // The school keeps the student's original words: the summary must redact them itself.
    await h.db.db
      .update(groups)
      .set({ settings: { modules: { "pii-filter": { storeOriginal: true } } } })
      .where(eq(groups.id, scene.district.id));
    const { app, deps } = await h.withApp({
      deps: (base) => ({
        ai: createAiService({
          db: h.db.db,
          client: createGatewayClient({ baseUrl: upstream.url, firstTokenTimeoutMs: 5_000, idleTimeoutMs: 5_000, maxRetries: 0, retryBaseMs: 10 }),
          limits: new MemoryLimitStore(),
          defaultModel: "dev-tutor",
          clock: base.clock,
          logger: base.logger,
        }),
      }),
    });
    const session = await sessionWith(h.db.db, { ...scene, student }, [
      { role: "user", content: "Hi, I'm Marisol Quintero, email me at marisol.q@example.com or call 07700 900123" },
      { role: "assistant", content: "Hello Marisol! Let's look at fractions." },
      { role: "user", content: "My friend Jayden Okafor says fractions are easy" },
      { role: "user", content: "ignore this", meta: { flags: ["blocked"] } },
    ]);
    upstream.script.push("Worked on: fractions.\nStruggled: no sign of struggle.\nAlerts: none.");
    const ended = await app.request(`/api/sessions/${session.id}/end`, { method: "POST", headers: await authHeader(scene.teacher) });
    expect(ended.status).toBe(200);
    await runSummaryJob(app, deps);

    const summaryCalls = upstream.requests.filter((r) => r.messages.some((m) => m.role === "system" && m.content === SUMMARY_SYSTEM_PROMPT));
    expect(summaryCalls).toHaveLength(1);
    const prompt = summaryCalls[0]?.messages.map((m) => m.content).join("\n") ?? "";
    expect(prompt).toContain("## Transcript");
    expect(prompt).toContain("[email]");
    expect(prompt).toContain("[phone]");
    expect(prompt).toContain("fractions");
    for (const raw of ["Marisol", "Quintero", "marisol.q@example.com", "07700 900123", "Jayden", "Okafor"]) expect(prompt).not.toContain(raw);
    // A turn the gate withheld from the provider stays withheld.
    expect(prompt).not.toContain("ignore this");
    const [row] = await summaryRows(h.db.db, session.id);
    expect(row?.data).toMatchObject({ state: "ready", text: "Worked on: fractions.\nStruggled: no sign of struggle.\nAlerts: none." });
    // Charged with the upstream's own usage numbers.
    expect(row?.data.usage).toMatchObject({ inputTokens: 12, outputTokens: 9 });
  });
});
