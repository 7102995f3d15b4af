/**
 * From a student's crisis message to the alert reaching people, while other sessions stream: two
 * API instances (`apps/api/src/server.ts`, each with its notification dispatcher) on Postgres and
 * Redis, the dev model in its own process, BENCH_ALERTS_SESSIONS students (default 200) chatting
 * over WebSockets — each sends a question, waits for the answer to complete, sends the next, so
 * every session streams for the whole run. Meanwhile BENCH_ALERTS_SAMPLES other students (default
 * 40, one every BENCH_ALERTS_GAP_MS) send "I want to kill myself" over REST; a sample's latency is
 * from sending it until BOTH the SMTP server inside this bench accepted the teacher's mail and a
 * school's webhook endpoint verified (svix) and acknowledged its delivery. The dispatchers poll
 * every NOTIFY_POLL_MS (default 500, the production default), which sets the floor.
 *
 *   BENCH_DATABASE_URL=postgres://… BENCH_REDIS_URL=redis://… bun bench/alerts.bench.ts
 *   knobs: BENCH_ALERTS_SESSIONS=200 BENCH_ALERTS_SAMPLES=40 BENCH_ALERTS_GAP_MS=300 BENCH_ALERTS_TPS=40
 */
import { mkdtempSync, rmSync } from "node:fs";
import { cpus, loadavg, tmpdir } from "node:os";
import { join } from "node:path";
import { loadOrCreateDevKeys } from "../apps/api/src/auth/dev-keys.ts";
import { startSmtpServer, startWebhookEndpoint } from "../apps/api/test/helpers/notifications.ts";
import { createDb, groups } from "../packages/db/src/index.ts";
import { eq } from "../packages/db/node_modules/drizzle-orm";
import { readDispatchStamps, type SampleStamps, stageTable } from "./alerts/stages.ts";
import { type BenchSocket, openSocket, percentile, pool } from "./live/clients.ts";
import { createBenchDatabase, ensureRedis } from "./live/infra.ts";
import { cpuMs, stopAll } from "./live/procs.ts";
import { type BenchUser, seedScene } from "./live/scene.ts";
import { startApp, startDevModel } from "./live/targets.ts";

const num = (name: string, fallback: number) => {
  const v = Number(process.env[name] ?? fallback);
  return Number.isFinite(v) && v >= 0 ? v : fallback;
};
const SESSIONS = num("BENCH_ALERTS_SESSIONS", 200);
const SAMPLES = num("BENCH_ALERTS_SAMPLES", 40);
const GAP_MS = num("BENCH_ALERTS_GAP_MS", 300);
const TPS = num("BENCH_ALERTS_TPS", 40);
const POLL_MS = num("NOTIFY_POLL_MS", 500);
const WARMUP = 3;
const secret = `whsec_${Buffer.from(crypto.getRandomValues(new Uint8Array(24))).toString("base64")}`;
const log = (s: string) => console.log(`[alerts bench] ${s}`);
// Epoch ms with sub-ms precision: comparable with the instances' stamps (same machine clock).
const epochMs = () => performance.timeOrigin + performance.now();

const workDir = mkdtempSync(join(tmpdir(), "rapt-alerts-bench-"));
const smtp = await startSmtpServer();
const hook = startWebhookEndpoint(secret);
const redis = await ensureRedis(workDir);
const created = await createBenchDatabase();
if (!redis || "error" in created) {
  console.log(`SKIP alerts bench: ${!redis ? "no Redis (BENCH_REDIS_URL)" : "error" in created ? created.error : ""}`);
  process.exit(0);
}
const database = created;

// By session: the SMTP server and the endpoint run in this process and stamp what they accept.
const mailOf = new Map<string, (typeof smtp.received)[number]>();
const hookOf = new Map<string, (typeof hook.received)[number]>();
const mailAt = new Map<string, number>();
const hookAt = new Map<string, number>();
const sessionOfLink = /\/app\/sessions\/([0-9a-f-]{36})/;
let seenMails = 0;
let seenHooks = 0;
function collect() {
  for (; seenMails < smtp.received.length; seenMails++) {
    const mail = smtp.received[seenMails];
    const id = mail?.text.match(sessionOfLink)?.[1];
    if (mail && id && !mailAt.has(id)) {
      mailAt.set(id, mail.acceptedAt);
      mailOf.set(id, mail);
    }
  }
  for (; seenHooks < hook.received.length; seenHooks++) {
    const received = hook.received[seenHooks];
    const id = received?.payload.data.sessionId;
    if (received && typeof id === "string" && !hookAt.has(id)) {
      hookAt.set(id, received.receivedAt);
      hookOf.set(id, received);
    }
  }
}
const collector = setInterval(collect, 2);

let exitCode = 0;
try {
  const keys = await loadOrCreateDevKeys(join(workDir, "data"));
  const scene = await seedScene({ databaseUrl: database.url, keys, students: SESSIONS + SAMPLES + WARMUP, watchersPerSession: 1, rates: [] });
  {
    const handle = await createDb({ url: database.url, maxConnections: 1 });
    const settings = { notifications: { email: { minSeverity: "high", to: ["teachers"] }, webhooks: [{ url: hook.url, secret, minSeverity: "high" }] } };
    await handle.db.update(groups).set({ settings }).where(eq(groups.kind, "district"));
    await handle.close();
  }
  const dev = await startDevModel({ tokensPerSecond: TPS, logDir: workDir });
  const app = await startApp({
    tag: "alerts",
    gatewayUrl: dev.url,
    databaseUrl: database.url,
    redisUrl: redis.url,
    dataDir: join(workDir, "data"),
    logDir: workDir,
    // info: the dispatchers' `notification sent` lines carry their claim and send stamps.
    env: { SMTP_URL: smtp.url, NOTIFY_POLL_MS: String(POLL_MS), PUBLIC_URL: "https://rapt.example.test", LOG_LEVEL: "info" },
  });
  const instances = [app.a, app.b];
  log(`load before: ${loadavg()[0]?.toFixed(2)} on ${cpus().length} CPUs; database ${database.name}; redis ${redis.url}; logs ${workDir}`);

  const openSession = async (user: BenchUser, on = app.a) => {
    const post = () =>
      fetch(`${on.baseUrl}/api/sessions`, {
        method: "POST",
        headers: { authorization: `Bearer ${user.token}`, "content-type": "application/json" },
        body: JSON.stringify({ toolId: scene.toolId, classId: scene.students.find((s) => s.user.id === user.id)?.classId }),
      });
    // A loaded instance may drop a kept-alive connection: retried once.
    const res = await post().catch(() => post());
    if (res.status !== 201) throw new Error(`session: ${res.status} ${await res.text()}`);
    return ((await res.json()) as { session: { id: string } }).session.id;
  };

  // A loaded instance may drop a kept-alive connection: a ticket request is retried.
  const ticketFor = async (user: BenchUser, on: typeof app.a): Promise<string> => {
    for (let attempt = 1; ; attempt++) {
      try {
        const t = await fetch(`${on.baseUrl}/api/realtime/tickets`, { method: "POST", headers: { authorization: `Bearer ${user.token}` } });
        return ((await t.json()) as { ticket: string }).ticket;
      } catch (err) {
        if (attempt >= 3) throw err;
        await Bun.sleep(200);
      }
    }
  };
  const sockets: BenchSocket[] = [];
  // A teacher of each crisis class watches its class room: the `alert` event's `at` is stamped by
  // the instance that committed the alert, right after the commit.
  const alertAt = new Map<string, number>();
  const classTeachers = new Map(scene.students.slice(SESSIONS).map((s) => [s.classId, s.teachers[0]]));
  for (const [classId, teacher] of classTeachers) {
    if (!teacher) continue;
    const ticket = await ticketFor(teacher, app.b);
    const socket = await openSocket(`${app.b.wsUrl}/ws?ticket=${encodeURIComponent(ticket)}`, null);
    sockets.push(socket);
    socket.ws.addEventListener("message", (ev) => {
      const data = String(ev.data);
      if (!data.includes('"event":"alert"')) return;
      const frame = JSON.parse(data) as { at?: string; payload?: { alert?: { sessionId?: string } } };
      const sessionId = frame.payload?.alert?.sessionId;
      if (sessionId && frame.at && !alertAt.has(sessionId)) alertAt.set(sessionId, Date.parse(frame.at));
    });
    await socket.nextOfType("hello");
    const ack = await socket.request({ type: "subscribe", room: `class:${classId}` });
    if (ack.type !== "ack") throw new Error(`teacher subscribe: ${JSON.stringify(ack)}`);
  }

  // The streaming load: each student alternates between instances, chatting until told to stop.
  const streamers = scene.students.slice(0, SESSIONS);
  let streaming = true;
  let turns = 0;
  const loadErrors: string[] = [];
  const loops = await pool(streamers, 20, async (s, i) => {
    const on = instances[i % 2] ?? app.a;
    const sessionId = await openSession(s.user, on);
    const ticket = await ticketFor(s.user, on);
    const socket = await openSocket(`${on.wsUrl}/ws?ticket=${encodeURIComponent(ticket)}`, null);
    sockets.push(socket);
    await socket.nextOfType("hello");
    const room = `session:${sessionId}`;
    await socket.request({ type: "subscribe", room, lastOffset: 0 });
    return async () => {
      for (let k = 0; streaming && !socket.closed; k++) {
        const content = "Can you explain how photosynthesis works, step by step?";
        const ack = await socket
          .request({ type: "message.send", sessionId, clientMessageId: `turn-${k}`, content }, 120_000)
          .catch((err: Error): Record<string, unknown> => ({ type: "timeout", message: err.message }));
        if (ack.type !== "ack") {
          loadErrors.push(`${ack.type} ${String(ack.code ?? ack.message ?? "")}`);
          await Bun.sleep(500);
          continue;
        }
        await socket.completed(room);
        socket.done.delete(room);
        turns++;
      }
    };
  });
  const running = loops.map((loop) => loop());
  // Every session streaming before the first sample.
  await Bun.sleep(2_000);
  log(`${SESSIONS} sessions streaming (dev model ${TPS} tokens/s per answer, 2 instances)`);

  const samplers = scene.students.slice(SESSIONS);
  const crisisSessions = await pool(samplers, 10, (s, i) => openSession(s.user, instances[i % 2] ?? app.a));
  const cpuBefore = instances.map((x) => cpuMs(x.child.proc.pid));
  const turnsBefore = turns;
  const startedAt = performance.now();
  const sent = new Map<string, number>();
  const answered = new Map<string, number>();
  const failures: string[] = [];
  await Promise.all(
    samplers.map(async (s, i) => {
      await Bun.sleep(i * GAP_MS);
      const sessionId = crisisSessions[i] ?? "";
      const on = instances[i % 2] ?? app.a;
      const t0 = epochMs();
      const res = await fetch(`${on.baseUrl}/api/sessions/${sessionId}/messages`, {
        method: "POST",
        headers: { authorization: `Bearer ${s.user.token}`, "content-type": "application/json" },
        body: JSON.stringify({ clientMessageId: `crisis-${i}`, content: "I want to kill myself" }),
      }).catch((err: Error) => new Response(err.message, { status: 599 }));
      if (res.status !== 201) failures.push(`send ${res.status} ${(await res.text()).slice(0, 200)}`);
      else {
        sent.set(sessionId, t0);
        answered.set(sessionId, epochMs());
      }
    }),
  );
  const deadline = performance.now() + 30_000;
  while ([...sent.keys()].some((id) => !mailAt.has(id) || !hookAt.has(id)) && performance.now() < deadline) await Bun.sleep(20);
  const seconds = (performance.now() - startedAt) / 1000;
  const cpu = instances.map((x, k) => cpuMs(x.child.proc.pid) - (cpuBefore[k] ?? 0));
  const turnsDuring = turns - turnsBefore;
  streaming = false;

  const latencies: number[] = [];
  let lost = 0;
  [...sent.entries()].forEach(([id, t0], k) => {
    const mail = mailAt.get(id);
    const webhook = hookAt.get(id);
    if (mail === undefined || webhook === undefined) lost++;
    else if (k >= WARMUP) latencies.push(Math.max(mail, webhook) - t0);
  });
  const fmt = (q: number) => percentile(latencies, q).toFixed(0);
  if (process.env.BENCH_ALERTS_VERBOSE)
    for (const [id, t0] of sent)
      log(
        `${id}: REST ${((answered.get(id) ?? Number.NaN) - t0).toFixed(0)} ms, mail +${((mailAt.get(id) ?? Number.NaN) - t0).toFixed(0)} ms, webhook +${((hookAt.get(id) ?? Number.NaN) - t0).toFixed(0)} ms`,
      );
  log(
    `crisis message → mail accepted + webhook acknowledged (postgres + redis, 2 instances, poll ${POLL_MS} ms, ${SESSIONS} sessions streaming, n=${latencies.length}): ` +
      `p50 ${fmt(0.5)} ms  p99 ${fmt(0.99)} ms  max ${fmt(1)} ms; not delivered within 30 s: ${lost}; send failures: ${failures.length}`,
  );
  log(
    `load while sampling (${seconds.toFixed(1)} s): ${turnsDuring} answers completed (${(turnsDuring / seconds).toFixed(1)}/s), API CPU ${cpu.map((c) => `${c} ms`).join(" + ")} (${((cpu.reduce((a, b) => a + b, 0) / 1000 / seconds) * 100).toFixed(0)}% of one core); load average ${loadavg()[0]?.toFixed(2)}`,
  );
  // Where the time went: per stage, since the message was sent and since the stage before.
  await Bun.sleep(1_000); // the dispatchers log a send once its bookkeeping committed
  const dispatched = readDispatchStamps(instances.map((x) => x.child.logFile));
  log(`dispatch log lines: ${[...dispatched.values()].map((d) => d.channel).join(",")}`);
  const stamps: SampleStamps[] = [...sent.entries()].slice(WARMUP).map(([id, t0]) => {
    const mail = mailOf.get(id);
    const received = hookOf.get(id);
    const mailRow = mail ? dispatched.get(mail.deliveryId) : undefined;
    const hookRow = received ? dispatched.get(received.id.replace(/^msg_/, "")) : undefined;
    return {
      sentAt: t0,
      restAt: answered.get(id),
      alertPublishedAt: alertAt.get(id),
      hook: { claimedAt: hookRow?.claimedAt, startedAt: hookRow?.startedAt, receivedAt: received?.receivedAt },
      mail: { claimedAt: mailRow?.claimedAt, startedAt: mailRow?.startedAt, connectedAt: mail?.connectedAt, mailFromAt: mail?.mailFromAt, acceptedAt: mail?.acceptedAt },
    };
  });
  log("stages (ms):");
  for (const line of stageTable(stamps)) log(`  ${line}`);
  if (failures.length > 0) log(`failures: ${[...new Set(failures)].slice(0, 3).join(" | ")}`);
  if (loadErrors.length > 0) log(`streaming load: ${loadErrors.length} refused or unanswered sends (${[...new Set(loadErrors)].slice(0, 3).join(" | ")})`);
  if (lost > 0 || failures.length > 0) exitCode = 1;
  for (const s of sockets) s.close();
  await Promise.race([Promise.allSettled(running), Bun.sleep(15_000)]);
  await app.stop();
  await dev.child.stop(5_000);
} catch (err) {
  console.error(err);
  exitCode = 1;
} finally {
  clearInterval(collector);
  await stopAll();
  await database.drop().catch((err: unknown) => console.error("could not drop the bench database", err));
  hook.close();
  await smtp.close();
  rmSync(workDir, { recursive: true, force: true });
}
process.exit(exitCode);
