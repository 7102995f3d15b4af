import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { extractions, notificationDeliveries } from "@raptscallions/db";
import { makeSchoolScene, makeSession, type SchoolScene } from "@raptscallions/db/testing";
import { and, eq, inArray } from "drizzle-orm";
import { createSmtpTransport, type MailTransport } from "../src/lib/notify/mail.ts";
import { defaultNotificationSettings, type NotificationSettings } from "../src/lib/notify/settings.ts";
import { persistFindings } from "../src/services/modules/findings.ts";
import { createNotificationDispatcher, type NotificationDispatcher } from "../src/services/notifications/dispatcher.ts";
import { useHarness } from "./helpers/harness.ts";
import { deploymentTransports, useDeployment, useUpstream } from "./helpers/deployment.ts";
import { type Instance, restCall as rest } from "./helpers/live.ts";
import { crisisFinding, setNotifications, startSmtpServer, startWebhookEndpoint } from "./helpers/notifications.ts";
import { eventually } from "@raptscallions/core/testing";
import { startScriptedUpstream } from "./modules-helpers.ts";

/**
 * Dispatchers are woken through the bus when an alert commits: with the poll set to a minute, a
 * crisis message's mail and webhook still leave within moments, once each, however many
 * instances listen. The poll remains the fallback for a wake-up that never came.
 */
const h = useHarness();
const secret = `whsec_${Buffer.from(crypto.getRandomValues(new Uint8Array(24))).toString("base64")}`;
const upstream = useUpstream(h, startScriptedUpstream());
let smtp: Awaited<ReturnType<typeof startSmtpServer>>;
let hook: ReturnType<typeof startWebhookEndpoint>;
const transportsMade: MailTransport[] = [];

beforeAll(async () => {
  smtp = await startSmtpServer();
  hook = startWebhookEndpoint(secret);
}, 60_000);
afterAll(async () => {
  for (const t of transportsMade) await t.close();
  hook.close();
  await smtp.close();
});

/** One instance's settings: its own SMTP pool, as a separate process has. */
function settingsFor(pollMs: number): NotificationSettings {
  const mail = createSmtpTransport(smtp.url, { timeoutMs: 2_000 });
  transportsMade.push(mail);
  return defaultNotificationSettings(mail, { publicUrl: "https://rapt.example.test", pollMs, backoffMs: [0], webhookTimeoutMs: 2_000 });
}

async function crisisScene(): Promise<SchoolScene> {
  const scene = await makeSchoolScene(h.db.db);
  await setNotifications(h.db.db, scene.district.id, { email: { minSeverity: "high", to: ["teachers"] }, webhooks: [{ url: hook.url, secret, minSeverity: "high" }] });
  return scene;
}

const deliveriesOfSession = async (sessionId: string) => {
  const alerts = await h.db.db
    .select({ id: extractions.id })
    .from(extractions)
    .where(and(eq(extractions.sessionId, sessionId), eq(extractions.isAlert, true)));
  if (alerts.length === 0) return [];
  return h.db.db
    .select()
    .from(notificationDeliveries)
    .where(
      inArray(
        notificationDeliveries.alertId,
        alerts.map((a) => a.id),
      ),
    );
};

for (const [name, skip] of deploymentTransports())
  describe.skipIf(skip)(`dispatchers woken when an alert commits (${name})`, () => {
    const deployment = useDeployment(h, upstream, name);
    let one: Instance;
    let two: Instance;
    const dispatchers: NotificationDispatcher[] = [];
    beforeAll(async () => {
      // A minute between polls (±10 %): anything delivered within seconds was woken.
      const s1 = settingsFor(60_000);
      const s2 = settingsFor(60_000);
      one = await deployment.start({ overrides: { notifications: s1 } });
      // On Postgres the second instance has a pool of its own, as a second process would.
      two = await deployment.start({ db: await h.otherPool(4), overrides: { notifications: s2 } });
      dispatchers.push(createNotificationDispatcher(one.deps, s1), createNotificationDispatcher(two.deps, s2));
      // Each resolves after its first claim: from here on, only a wake-up claims within the minute.
      await Promise.all(dispatchers.map((d) => d.start()));
    });
    deployment.beforeStop(async () => {
      for (const dispatcher of dispatchers) await dispatcher.stop();
    });

    test("crisis messages on either instance reach SMTP and the webhook without waiting for the poll, each delivery exactly once", async () => {
      const scene = await crisisScene();
      const sessions: string[] = [];
      for (const on of [one, two, one]) {
        const res = await rest(on, scene.student, "POST", "/api/sessions", { toolId: scene.tool.id, classId: scene.cls.id });
        expect(res.status).toBe(201);
        sessions.push((res.body.session as { id: string }).id);
      }
      const startedAt = Date.now();
      await Promise.all(
        sessions.map(async (sessionId, i) => {
          const res = await rest(i % 2 === 0 ? one : two, scene.student, "POST", `/api/sessions/${sessionId}/messages`, {
            clientMessageId: `crisis-${i}`,
            content: "I want to kill myself",
          });
          expect(res.status).toBe(201);
        }),
      );
      // Per session: the class's teacher by mail and the district's webhook.
      const rows = await eventually(
        async () => {
          const all = (await Promise.all(sessions.map(deliveriesOfSession))).flat();
          return all.length === 2 * sessions.length && all.every((d) => d.status === "sent") ? all : undefined;
        },
        "every delivery sent",
        20_000,
      );
      // Far under the poll's 54 s: the dispatchers were woken.
      expect(Date.now() - startedAt).toBeLessThan(20_000);
      expect(rows.every((d) => d.attempts === 1)).toBe(true);
      const ids = new Set(rows.map((d) => d.id));
      const mails = smtp.received.filter((m) => ids.has(m.deliveryId));
      const hooks = hook.received.filter((w) => ids.has(w.id.replace(/^msg_/, "")));
      expect(mails.flatMap((m) => m.envelopeTo)).toEqual(sessions.map(() => scene.teacher.email ?? ""));
      expect(new Set(mails.map((m) => m.deliveryId)).size).toBe(sessions.length);
      expect(hooks.map((w) => w.payload.data.sessionId).sort()).toEqual([...sessions].sort());
      expect(new Set(hooks.map((w) => w.id)).size).toBe(sessions.length);
    }, 40_000);
  });

describe("the poll as the fallback", () => {
  test("an alert stored without a wake-up is sent at the next poll", async () => {
    const scene = await crisisScene();
    const settings = settingsFor(200);
    const { deps } = await h.withApp({ deps: { notifications: settings } });
    const dispatcher = createNotificationDispatcher(deps, settings);
    await dispatcher.start();
    try {
      const session = await makeSession(h.db.db, { toolId: scene.tool.id, studentId: scene.student.id, groupId: scene.department.id, classId: scene.cls.id });
      // Stored and committed, but never published: only the poll can find it.
      await persistFindings(
        h.db.db,
        { sessionId: session.id, classId: scene.cls.id, groupId: scene.department.id, studentId: scene.student.id, messageId: null },
        [crisisFinding({ data: { category: "self-harm" } })],
        new Date(),
      );
      const rows = await eventually(async () => {
        const all = await deliveriesOfSession(session.id);
        return all.length === 2 && all.every((d) => d.status === "sent") ? all : undefined;
      }, "the poll to send both");
      expect(rows.every((d) => d.attempts === 1)).toBe(true);
    } finally {
      await dispatcher.stop();
    }
  });
});
