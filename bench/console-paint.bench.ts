/**
 * The web console measured in a real browser (Debian's Chromium through playwright-core):
 *
 * 1. **Paint latency across instances.** Two real `apps/api/src/server.ts` processes (A, B) share
 *    a fresh Postgres database, Redis and the dev-auth key, and call bench/console/stamped-model.ts
 *    as their AI gateway: every answer is numbered words sent at BENCH_PAINT_TPS, each stamped with
 *    the wall-clock time it left the model. A student starts a session and sends a message over
 *    REST on A; the teacher's page on B, opened on that session, records when each word is first
 *    painted (bench/console/paint-recorder.ts: MutationObserver, then the next animation frame).
 *    Latency = painted − emitted, both `performance.timeOrigin + performance.now()` on this one
 *    machine. The live path's coalescing window (LIVE_COALESCE_MS, default 40 ms) is part of it.
 * 2. **Class view interactive, embedded defaults.** One server with nothing configured (PGlite, the
 *    in-process bus, the dev model, dev auth — what `bun run start` gives). The teacher, signed in,
 *    opens the seeded class: from navigation start until the live view shows every student row and
 *    the connection says `live`. Cold (fresh browser context, nothing cached) and warm (reload).
 *
 * The console's gzipped JavaScript is bench/console.bench.ts's business.
 *
 * Needs /usr/bin/chromium (CHROMIUM_PATH); part 1 also needs Postgres (BENCH_DATABASE_URL, default
 * postgres://rapt:rapt@127.0.0.1:5432/rapt; a fresh database per run, dropped after) and Redis
 * (BENCH_REDIS_URL, else one is started on 6396) and says SKIP without them.
 * BENCH_CONSOLE_DATABASE_URL instead names an existing database to use as it is (rows stay).
 *
 *   bun bench/console-paint.bench.ts      (or `bun run bench -- console`)
 * Knobs: BENCH_PAINT_ANSWERS=5 BENCH_PAINT_WORDS=150 BENCH_PAINT_TPS=40 BENCH_TTI_RUNS=8
 * BENCH_CONSOLE_ONLY=paint|interactive
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { cpus, loadavg, tmpdir } from "node:os";
import { join } from "node:path";
import type { Browser, Page } from "playwright-core";
import { loadOrCreateDevKeys, mintSessionToken } from "../apps/api/src/auth/dev-keys.ts";
import { RUNTIME_ENV } from "../apps/api/src/runtime-options.ts";
import { classPath, sessionPath, signIn, waitLive } from "../apps/web/test/browser/console-page.ts";
import { hasChromium, launchBrowser, newContext } from "../apps/web/test/browser/harness.ts";
import { aiModels, createDb, SEED, seed, tools, users } from "../packages/db/src/index.ts";
import { makeAssignment, makeTool } from "../packages/db/src/testing/index.ts";
import { installPaintRecorder } from "./console/paint-recorder.ts";
import { startStampedModel } from "./console/stamped-model.ts";
import { percentile } from "./live/clients.ts";
import { createBenchDatabase, ensureRedis } from "./live/infra.ts";
import { freePort, spawnChild, stopAll, waitHttp } from "./live/procs.ts";
import { startApp } from "./live/targets.ts";

const num = (name: string, fallback: number) => {
  const v = Number(process.env[name] ?? fallback);
  if (!Number.isFinite(v) || v <= 0) throw new Error(`${name} must be a positive number`);
  return v;
};
const ANSWERS = num("BENCH_PAINT_ANSWERS", 5);
const WORDS = num("BENCH_PAINT_WORDS", 150);
const TPS = num("BENCH_PAINT_TPS", 40);
const TTI_RUNS = num("BENCH_TTI_RUNS", 8);
/** `paint` or `interactive`: run only that part. */
const ONLY = process.env.BENCH_CONSOLE_ONLY ?? "";
const ROOT = join(import.meta.dir, "..");
const log = (msg: string) => console.log(`[console] ${msg}`);
const load = () =>
  loadavg()
    .map((n) => n.toFixed(2))
    .join(" ");
const ms = (v: number) => (Number.isFinite(v) ? `${v.toFixed(1)} ms` : "n/a");

interface PaintResult {
  answers: number;
  words: number;
  missing: number;
  domP50: number;
  p50: number;
  p99: number;
  max: number;
}

/** Part 1: word emitted by the model → painted in the teacher's page on the other instance. */
async function measurePaint(browser: Browser, logDir: string): Promise<PaintResult | string> {
  const redis = await ensureRedis(logDir);
  if (!redis) return "no Redis (set BENCH_REDIS_URL or install redis-server)";
  // BENCH_CONSOLE_DATABASE_URL: an existing database used as it is (for a role that may not
  // create databases; the bench's rows stay). Otherwise a fresh one, dropped after.
  const existing = process.env.BENCH_CONSOLE_DATABASE_URL;
  const database = existing ? { url: existing, drop: async () => {} } : await createBenchDatabase();
  if ("error" in database) return database.error;
  const dataDir = mkdtempSync(join(tmpdir(), "rapt-console-bench-"));
  const model = startStampedModel({ tokens: WORDS, tokensPerSecond: TPS });
  try {
    const target = await startApp({
      tag: "console",
      gatewayUrl: model.url,
      databaseUrl: database.url,
      redisUrl: redis.url,
      dataDir,
      logDir,
      env: { SEED_ON_EMPTY: "true", AI_API_KEY: "bench" },
    });
    const db = await createDb({ url: database.url, maxConnections: 2 });
    // Idempotent: the ids of the scene the instances seeded (or an existing database holds).
    const scene = await seed(db.db);
    const teacher = (await db.db.select().from(users)).find((u) => u.clerkUserId === SEED.users.teacher.clerkUserId);
    const seededTool = (await db.db.select().from(tools)).find((t) => t.id === scene.toolId);
    if (!teacher || !seededTool) throw new Error("the seeded scene is missing");
    await db.db
      .insert(aiModels)
      .values({
        id: "bench-stamped",
        provider: "bench",
        displayName: "Stamped words",
        inputPricePer1k: 0,
        outputPricePer1k: 0,
        contextWindow: 16_384,
        maxOutputTokens: 4096,
      })
      .onConflictDoNothing();
    const tool = await makeTool(db.db, seededTool.groupId, { createdBy: teacher.id, definition: { systemPrompt: "Bench.", model: "bench-stamped" } });
    const assignment = await makeAssignment(db.db, scene.classId, tool.id, { title: "Paint bench", createdBy: teacher.id });
    await db.close();

    const keys = await loadOrCreateDevKeys(dataDir);
    const studentToken = await mintSessionToken(keys, { userId: SEED.users.students[0].clerkUserId, expiresInSeconds: 3600 });
    const rest = async (path: string, body: unknown) => {
      const res = await fetch(`${target.a.baseUrl}${path}`, {
        method: "POST",
        headers: { authorization: `Bearer ${studentToken}`, "content-type": "application/json" },
        body: JSON.stringify(body),
      });
      if (res.status !== 201) throw new Error(`${path}: ${res.status} ${await res.text()}`);
      return res.json() as Promise<Record<string, { id: string }>>;
    };

    const context = await newContext(browser, target.b.baseUrl);
    await context.addInitScript(installPaintRecorder);
    const page = await context.newPage();
    await signIn(page, "teacher");
    const latencies: number[] = [];
    const domLatencies: number[] = [];
    let missing = 0;
    for (let n = 0; n < ANSWERS; n++) {
      const { session } = await rest("/api/sessions", { assignmentId: assignment.id });
      if (!session) throw new Error("no session in the response");
      await page.goto(sessionPath(session.id));
      await waitLive(page);
      const answer = model.requests + 1;
      await rest(`/api/sessions/${session.id}/messages`, { clientMessageId: `bench-${n}`, content: `Question ${n}: how do plants make food?` });
      await page
        .locator('[data-testid="message"][data-role="assistant"][data-state="complete"]')
        .first()
        .waitFor({ timeout: 30_000 + (WORDS / TPS) * 1000 });
      const painted = await page.evaluate(() => (window as unknown as { __paint: Record<string, { dom: number; paint: number }> }).__paint);
      const emitted = model.emitted.get(answer) ?? [];
      for (let i = 0; i < WORDS; i++) {
        const at = painted[`${answer}:${i}`];
        const sent = emitted[i];
        if (!at || sent === undefined) {
          missing++;
          continue;
        }
        latencies.push(at.paint - sent);
        domLatencies.push(at.dom - sent);
      }
      log(`answer ${n + 1}/${ANSWERS}: ${emitted.length} words emitted; load ${load()}`);
    }
    await context.close();
    await target.stop();
    return {
      answers: ANSWERS,
      words: latencies.length,
      missing,
      domP50: percentile(domLatencies, 0.5),
      p50: percentile(latencies, 0.5),
      p99: percentile(latencies, 0.99),
      max: Math.max(...latencies),
    };
  } finally {
    model.stop();
    await stopAll();
    await database.drop().catch(() => {});
    rmSync(dataDir, { recursive: true, force: true });
  }
}

interface InteractiveResult {
  coldP50: number;
  coldMax: number;
  warmP50: number;
  warmMax: number;
}

/** Part 2 on one embedded-defaults server. */
async function measureInteractive(browser: Browser, logDir: string): Promise<InteractiveResult> {
  const dataDir = mkdtempSync(join(tmpdir(), "rapt-console-embedded-"));
  const port = freePort();
  const cleared = ["DATABASE_URL", "REDIS_URL", "AI_GATEWAY_URL", "AI_API_KEY", "CLERK_SECRET_KEY", "CLERK_PUBLISHABLE_KEY", "CLERK_JWT_KEY", "S3_ENDPOINT", "S3_BUCKET"];
  const child = spawnChild("embedded", [process.execPath, join(ROOT, "apps/api/src/server.ts")], {
    env: { ...RUNTIME_ENV, ...Object.fromEntries(cleared.map((k) => [k, ""])), HOST: "127.0.0.1", PORT: String(port), DATA_DIR: dataDir, LOG_LEVEL: "warn" },
    logDir,
    cwd: ROOT,
  });
  const baseUrl = `http://127.0.0.1:${port}`;
  try {
    await waitHttp(`${baseUrl}/ready`, child, 120_000);

    const cold: number[] = [];
    const warm: number[] = [];
    const classId = await seededClassId(baseUrl);
    for (let run = 0; run < TTI_RUNS; run++) {
      // A fresh context holding only the teacher's sign-in (a token in sessionStorage, where the
      // picker puts it): nothing cached, so the first load is cold; the reload is warm.
      const token = await devToken(baseUrl, "teacher");
      const context = await newContext(browser, baseUrl);
      await context.addInitScript((t) => sessionStorage.setItem("rapt.devToken", t), token);
      const page = await context.newPage();
      cold.push(await timeToInteractive(page, classPath(classId)));
      warm.push(await timeToInteractive(page, classPath(classId)));
      await context.close();
      log(`class view run ${run + 1}/${TTI_RUNS}: cold ${ms(cold.at(-1) ?? Number.NaN)}, warm ${ms(warm.at(-1) ?? Number.NaN)}`);
    }
    return {
      coldP50: percentile(cold, 0.5),
      coldMax: Math.max(...cold),
      warmP50: percentile(warm, 0.5),
      warmMax: Math.max(...warm),
    };
  } finally {
    await child.stop();
    rmSync(dataDir, { recursive: true, force: true });
  }
}

/** A dev token from the server's own dev sign-in, as the picker gets one. */
async function devToken(baseUrl: string, user: string): Promise<string> {
  const res = await fetch(`${baseUrl}/api/dev/token`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ user }) });
  if (res.status !== 201) throw new Error(`dev token: ${res.status} ${await res.text()}`);
  return ((await res.json()) as { token: string }).token;
}

/** The seeded class, as the teacher's /api/me lists it. */
async function seededClassId(baseUrl: string): Promise<string> {
  const res = await fetch(`${baseUrl}/api/me`, { headers: { authorization: `Bearer ${await devToken(baseUrl, "teacher")}` } });
  const me = (await res.json()) as { classes?: { id: string }[] };
  const id = me.classes?.[0]?.id;
  if (!id) throw new Error(`the teacher has no class: ${JSON.stringify(me).slice(0, 300)}`);
  return id;
}

/** Navigates to `path`; ms from navigation start until every student row is shown and live. */
async function timeToInteractive(page: Page, path: string): Promise<number> {
  await page.goto(path, { waitUntil: "commit" });
  const handle = await page.waitForFunction(
    () => {
      const view = document.querySelector('[data-testid="class-live"]');
      const state = document.querySelector('[data-testid="connection-state"]')?.textContent?.trim().toLowerCase();
      const rows = view?.querySelectorAll('[data-testid="student-row"]').length ?? 0;
      return rows >= 3 && state === "live" ? performance.now() : null;
    },
    undefined,
    { polling: "raf", timeout: 60_000 },
  );
  return (await handle.jsonValue()) as number;
}

if (!hasChromium) {
  console.log("SKIP console-paint: no Chromium at /usr/bin/chromium (apt-get install -y chromium, or set CHROMIUM_PATH)");
  process.exit(0);
}
const logDir = mkdtempSync(join(tmpdir(), "rapt-console-logs-"));
const browser = await launchBrowser();
const results: Record<string, unknown> = { at: new Date().toISOString(), cpus: cpus().length, loadBefore: load(), words: WORDS, tps: TPS };
try {
  log(`load ${load()}; ${cpus().length} CPUs; logs in ${logDir}`);
  if (ONLY !== "paint") {
    const interactive = await measureInteractive(browser, logDir);
    results.interactive = interactive;
    log(
      `class view interactive (embedded): cold p50 ${ms(interactive.coldP50)} max ${ms(interactive.coldMax)}; warm p50 ${ms(interactive.warmP50)} max ${ms(interactive.warmMax)}`,
    );
  }
  const paint = ONLY === "interactive" ? "BENCH_CONSOLE_ONLY=interactive" : await measurePaint(browser, logDir);
  if (typeof paint === "string") {
    console.log(`SKIP paint latency across instances: ${paint}`);
  } else {
    results.paint = paint;
    log(
      `paint latency, model → teacher's page on B: ${paint.words} words over ${paint.answers} answers (${paint.missing} not seen); DOM p50 ${ms(paint.domP50)}; painted p50 ${ms(paint.p50)} p99 ${ms(paint.p99)} max ${ms(paint.max)}`,
    );
  }
  results.loadAfter = load();
  mkdirSync(join(ROOT, "bench/results"), { recursive: true });
  const file = join(ROOT, "bench/results", `console-${new Date().toISOString().replace(/[:.]/g, "-")}.json`);
  writeFileSync(file, `${JSON.stringify(results, null, 2)}\n`);
  log(`results: ${file}`);
} finally {
  await browser.close();
  await stopAll();
}
