import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { auditLog, notificationAttempts, notificationDeliveries } from "@raptscallions/db";
import { makeUser, type SchoolScene } from "@raptscallions/db/testing";
import type { Finding } from "@raptscallions/modules";
import { and, eq } from "drizzle-orm";
import { createNotificationDispatcher } from "../src/services/notifications/dispatcher.ts";
import { createDevOutbox, createSmtpTransport } from "../src/lib/notify/mail.ts";
import { defaultNotificationSettings, type NotificationSettings } from "../src/lib/notify/settings.ts";
import { persistFindings } from "../src/services/modules/findings.ts";
import { useHarness } from "./helpers/harness.ts";
import { crisisFinding, notificationScene, startSmtpServer, startWebhookEndpoint } from "./helpers/notifications.ts";

const h = useHarness();
const secret = `whsec_${Buffer.from(crypto.getRandomValues(new Uint8Array(24))).toString("base64")}`;
let smtp: Awaited<ReturnType<typeof startSmtpServer>>;
let hook: ReturnType<typeof startWebhookEndpoint>;
let scene: SchoolScene;
let sessionId: string;
let settings: NotificationSettings;
let teacherEmail: string;
const lead = "safeguarding-lead@district.example.test";

async function raise(finding: Finding) {
  const target = { sessionId, classId: scene.cls.id, groupId: scene.department.id, studentId: scene.student.id, messageId: null };
  const [row] = await persistFindings(h.db.db, target, [finding], new Date());
  if (!row) throw new Error("no alert stored");
  return row;
}

const deliveriesOf = (alertId: string) => h.db.db.select().from(notificationDeliveries).where(eq(notificationDeliveries.alertId, alertId));

beforeAll(async () => {
  smtp = await startSmtpServer();
  hook = startWebhookEndpoint(secret);
  // The district sets the safeguarding list and the webhook; the school inherits both.
  ({ scene, sessionId } = await notificationScene(h.db.db, {
    safeguardingList: [lead],
    email: { minSeverity: "high", to: ["teachers", "safeguarding"] },
    webhooks: [{ url: hook.url, secret, minSeverity: "high" }],
  }));
  teacherEmail = scene.teacher.email ?? "";
  settings = defaultNotificationSettings(createSmtpTransport(smtp.url, { timeoutMs: 2_000 }), {
    from: "alerts@school.example.test",
    publicUrl: "https://rapt.example.test",
    backoffMs: [0],
    maxAttempts: 3,
    webhookTimeoutMs: 500,
  });
}, 60_000);

afterAll(async () => {
  hook.close();
  await smtp.close();
});

describe("alert outbox → SMTP and signed webhooks", () => {
  test("a critical alert is queued in its own transaction and delivered by SMTP and webhook", async () => {
    const alert = await raise(crisisFinding());
    const queued = await deliveriesOf(alert.id);
    expect(queued.map((d) => `${d.channel}:${d.recipient}`).sort()).toEqual([`email:${lead}`, `email:${teacherEmail}`, `webhook:${hook.url}`].sort());
    expect(queued.every((d) => d.status === "pending")).toBe(true);

    const dispatcher = createNotificationDispatcher(h.deps, settings);
    expect(await dispatcher.drainOnce()).toBe(3);

    const mails = smtp.received.filter((m) => queued.some((d) => d.id === m.deliveryId));
    expect(mails.flatMap((m) => m.envelopeTo).sort()).toEqual([lead, teacherEmail].sort());
    for (const mail of mails) {
      expect(mail.envelopeFrom).toBe("alerts@school.example.test");
      expect(mail.subject).toBe("CRITICAL safety alert: self-harm");
      expect(mail.text).toContain(`https://rapt.example.test/app/sessions/${sessionId}`);
      expect(mail.text).toContain("Severity: critical");
    }
    const hooks = hook.received.filter((w) => w.payload.data.alertId === alert.id);
    expect(hooks).toHaveLength(1);
    expect(hooks[0]?.payload.type).toBe("alert.created");
    expect(hooks[0]?.payload.data).toMatchObject({ alertId: alert.id, sessionId, category: "self-harm", severity: "critical" });
    // Ids and category only: the receiver fetches the rest with its own credentials.
    expect(hooks[0]?.payload.data.summary).toBeUndefined();
    expect(hook.rejected).toEqual([]);

    const after = await deliveriesOf(alert.id);
    expect(after.every((d) => d.status === "sent" && d.attempts === 1)).toBe(true);
    const audits = await h.db.db
      .select()
      .from(auditLog)
      .where(and(eq(auditLog.targetId, alert.id), eq(auditLog.action, "notification.sent")));
    expect(audits).toHaveLength(3);
    expect(audits.every((a) => a.actorKind === "system" && a.actorName === "notifications")).toBe(true);
    // Nothing is sent twice.
    expect(await dispatcher.drainOnce()).toBe(0);
  });

  test("below the group's threshold nothing is queued", async () => {
    const alert = await raise(crisisFinding({ severity: "medium", kind: "bullying", data: { category: "bullying" } }));
    expect(await deliveriesOf(alert.id)).toEqual([]);
  });

  test("a webhook answering 500 is retried, then dead-lettered, without holding back the emails", async () => {
    hook.setMode("fail");
    try {
      const alert = await raise(crisisFinding());
      const dispatcher = createNotificationDispatcher(h.deps, settings);
      for (let i = 0; i < 4; i++) await dispatcher.drainOnce();
      const rows = await deliveriesOf(alert.id);
      const webhook = rows.find((d) => d.channel === "webhook");
      expect(webhook?.status).toBe("dead");
      expect(webhook?.attempts).toBe(3);
      expect(webhook?.lastError).toBe("HTTP 500");
      expect(rows.filter((d) => d.channel === "email").every((d) => d.status === "sent" && d.attempts === 1)).toBe(true);
      const log = await h.db.db
        .select()
        .from(notificationAttempts)
        .where(eq(notificationAttempts.deliveryId, webhook?.id ?? ""));
      // Rows of one delivery, read without an order: compare them as a set of outcomes.
      expect(log.map((a) => a.outcome).sort()).toEqual(["dead", "failed", "failed"]);
      const dead = await h.db.db
        .select()
        .from(auditLog)
        .where(and(eq(auditLog.targetId, alert.id), eq(auditLog.action, "notification.dead")));
      expect(dead).toHaveLength(1);
    } finally {
      hook.setMode("ok");
    }
  });

  test("a redirect, a time-out and an unreachable SMTP server are failures, recorded with their reason", async () => {
    const alert = await raise(crisisFinding());
    const broken = { ...settings, mail: createSmtpTransport("smtp://127.0.0.1:1", { timeoutMs: 500 }), maxAttempts: 5 };
    const dispatcher = createNotificationDispatcher(h.deps, broken);
    hook.setMode("redirect");
    await dispatcher.drainOnce();
    hook.setMode("hang");
    await dispatcher.drainOnce();
    hook.setMode("ok");
    const rows = await deliveriesOf(alert.id);
    expect(rows.every((d) => d.status === "pending" && d.attempts === 2)).toBe(true);
    const webhook = rows.find((d) => d.channel === "webhook");
    const log = await h.db.db
      .select()
      .from(notificationAttempts)
      .where(eq(notificationAttempts.deliveryId, webhook?.id ?? ""));
    expect(log.map((a) => a.error).sort()).toEqual(["HTTP 302 (redirects are not followed)", "no answer within 500 ms"]);
    const email = rows.find((d) => d.channel === "email");
    expect(email?.lastError).toMatch(/ECONNREFUSED|connect/i);
    // Once the endpoints work again, the next round delivers.
    await createNotificationDispatcher(h.deps, settings).drainOnce();
    expect((await deliveriesOf(alert.id)).every((d) => d.status === "sent")).toBe(true);
  });

  test("a dispatcher that dies mid-send leaves the row to another, after its lease", async () => {
    const alert = await raise(crisisFinding({ data: { category: "self-harm" } }));
    const stuck = createNotificationDispatcher(h.deps, {
      ...settings,
      leaseMs: 200,
      mail: { kind: "smtp", send: () => new Promise(() => {}), close: async () => {} },
      fetch: () => new Promise(() => {}),
    });
    void stuck.drainOnce();
    await Bun.sleep(50);
    const survivor = createNotificationDispatcher(h.deps, settings);
    // Still leased: nobody else takes it.
    expect(await survivor.drainOnce()).toBe(0);
    await Bun.sleep(250);
    expect(await survivor.drainOnce()).toBe(3);
    const rows = await deliveriesOf(alert.id);
    expect(rows.every((d) => d.status === "sent" && d.attempts === 2)).toBe(true);
  });
});

describe("two instances racing the outbox", () => {
  test("every delivery is sent exactly once", async () => {
    // On Postgres the second instance has its own connection pool, as a second process would.
    const secondDb = await h.otherPool(4);
    {
      const second = await h.withApp({ db: secondDb });
      const alerts = [];
      for (let i = 0; i < 8; i++) alerts.push(await raise(crisisFinding()));
      const ids = new Set<string>();
      for (const a of alerts) for (const d of await deliveriesOf(a.id)) ids.add(d.id);
      expect(ids.size).toBe(24);
      const small = { ...settings, batchSize: 3 };
      const a = createNotificationDispatcher(h.deps, small);
      const b = createNotificationDispatcher(second.deps, small);
      const drainAll = async (d: typeof a) => {
        let total = 0;
        for (let n = await d.drainOnce(); n > 0; n = await d.drainOnce()) total += n;
        return total;
      };
      const [fromA, fromB] = await Promise.all([drainAll(a), drainAll(b)]);
      expect(fromA + fromB).toBe(24);
      const mails = smtp.received.filter((m) => ids.has(m.deliveryId)).map((m) => m.deliveryId);
      const hooks = hook.received.filter((w) => ids.has(w.id.replace(/^msg_/, ""))).map((w) => w.id);
      expect(mails.length).toBe(16);
      expect(new Set(mails).size).toBe(16);
      expect(hooks.length).toBe(8);
      expect(new Set(hooks).size).toBe(8);
      for (const al of alerts) expect((await deliveriesOf(al.id)).every((d) => d.status === "sent" && d.attempts === 1)).toBe(true);
    }
  });
});

describe("the dev outbox (no SMTP_URL)", () => {
  test("keeps the rendered mail; system admins read it over REST", async () => {
    const outbox = createDevOutbox(h.deps.logger);
    const { app, deps } = await h.withApp({ deps: (base) => ({ notifications: { ...base.notifications, ...defaultNotificationSettings(outbox) } }) });
    const alert = await raise(crisisFinding());
    await createNotificationDispatcher(deps, defaultNotificationSettings(outbox)).drainOnce();
    const admin = await makeUser(h.db.db, { isSystemAdmin: true });
    const { authHeader } = await import("./helpers/auth.ts");
    const res = await app.request("/api/notifications/outbox", { headers: await authHeader(admin) });
    expect(res.status).toBe(200);
    const body = (await res.json()) as { items: { to: string; subject: string; deliveryId: string }[] };
    const ids = new Set((await deliveriesOf(alert.id)).map((d) => d.id));
    expect(
      body.items
        .filter((m) => ids.has(m.deliveryId))
        .map((m) => m.to)
        .sort(),
    ).toEqual([lead, teacherEmail].sort());

    const teacher = await app.request("/api/notifications/outbox", { headers: await authHeader(scene.teacher) });
    expect(teacher.status).toBe(403);
    expect(((await teacher.json()) as { error: { code: string } }).error.code).toBe("FORBIDDEN");
    expect((await app.request("/api/notifications/outbox")).status).toBe(401);
  });

  test("with SMTP configured there is no outbox to read", async () => {
    const { app } = await h.withApp({ deps: { notifications: settings } });
    const admin = await makeUser(h.db.db, { isSystemAdmin: true });
    const { authHeader } = await import("./helpers/auth.ts");
    const res = await app.request("/api/notifications/outbox", { headers: await authHeader(admin) });
    expect(res.status).toBe(404);
  });
});
