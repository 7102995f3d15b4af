/**
 * From a student's crisis message to the alert reaching people: the time from sending the message
 * over REST (the real chat turn: safety blocks it, the alert and its outbox rows commit together)
 * until the test SMTP server has accepted the teacher's mail AND a school's webhook endpoint has
 * verified (svix) and acknowledged its delivery. The dispatcher polls every NOTIFY_POLL_MS
 * (default 500, the production default), which sets the floor of these numbers.
 * Runs on PGlite; on Postgres with BENCH_DATABASE_URL. No streaming load runs alongside.
 *
 *   bun bench/alerts.bench.ts            (BENCH_SAMPLES=40 by default)
 */
import { groups } from "../packages/db/src/index.ts";
import { eq } from "../packages/db/node_modules/drizzle-orm";
import { makeSchoolScene, makeSession } from "../packages/db/src/testing/index.ts";
import { createNotificationDispatcher } from "../apps/api/src/services/notifications/dispatcher.ts";
import { createSmtpTransport } from "../apps/api/src/lib/notify/mail.ts";
import { defaultNotificationSettings } from "../apps/api/src/lib/notify/settings.ts";
import { authHeader } from "../apps/api/test/helpers/auth.ts";
import { createTestDb } from "../apps/api/test/helpers/deps.ts";
import { harness } from "../apps/api/test/helpers/harness.ts";
import { startSmtpServer, startWebhookEndpoint } from "../apps/api/test/helpers/notifications.ts";
import { createDb } from "../packages/db/src/index.ts";

const SAMPLES = Number(process.env.BENCH_SAMPLES ?? 40);
const POLL_MS = Number(process.env.NOTIFY_POLL_MS ?? 500);
const secret = `whsec_${Buffer.from(crypto.getRandomValues(new Uint8Array(24))).toString("base64")}`;

const db = process.env.BENCH_DATABASE_URL ? await createDb({ url: process.env.BENCH_DATABASE_URL }) : await createTestDb();
await db.migrate();
const smtp = await startSmtpServer();
const hook = startWebhookEndpoint(secret);
const h = await harness({ db });
const settings = defaultNotificationSettings(createSmtpTransport(smtp.url), { pollMs: POLL_MS });
const dispatcher = createNotificationDispatcher(h.deps, settings);
dispatcher.start();

const scene = await makeSchoolScene(db.db);
await db.db
  .update(groups)
  .set({ settings: { notifications: { email: { minSeverity: "high", to: ["teachers"] }, webhooks: [{ url: hook.url, secret, minSeverity: "high" }] } } })
  .where(eq(groups.id, scene.district.id));
const student = await authHeader(scene.student);

async function until(check: () => boolean, timeoutMs = 20_000) {
  const end = performance.now() + timeoutMs;
  while (!check()) {
    if (performance.now() > end) throw new Error("timed out waiting for delivery");
    await Bun.sleep(2);
  }
}

const latencies: number[] = [];
for (let i = 0; i < SAMPLES + 3; i++) {
  const session = await makeSession(db.db, { toolId: scene.tool.id, studentId: scene.student.id, groupId: scene.department.id, classId: scene.cls.id });
  const mails = smtp.received.length;
  const hooks = hook.received.length;
  const t0 = performance.now();
  const res = await h.app.request(`/api/sessions/${session.id}/messages`, {
    method: "POST",
    headers: { ...student, "content-type": "application/json" },
    body: JSON.stringify({ clientMessageId: `bench-${i}`, content: "I want to kill myself" }),
  });
  if (res.status !== 201) throw new Error(`send failed: ${res.status} ${await res.text()}`);
  await until(() => smtp.received.length > mails && hook.received.length > hooks);
  if (i >= 3) latencies.push(performance.now() - t0);
}

const sorted = latencies.toSorted((a, b) => a - b);
const at = (q: number) => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] ?? 0;
console.log(
  `crisis message → mail accepted + webhook acknowledged (${db.driver}, poll ${POLL_MS} ms, n=${sorted.length}): p50 ${at(0.5).toFixed(0)} ms  p99 ${at(0.99).toFixed(0)} ms  max ${at(1).toFixed(0)} ms`,
);
await dispatcher.stop();
await h.close();
await db.close();
hook.close();
await smtp.close();
process.exit(0);
