import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { notificationDeliveries, users } from "@raptscallions/db";
import { makeMessage, makeSchoolScene, makeSession, type SchoolScene, unique } from "@raptscallions/db/testing";
import { eq } from "drizzle-orm";
import { createSmtpTransport } from "../src/lib/notify/mail.ts";
import { defaultNotificationSettings } from "../src/lib/notify/settings.ts";
import { persistFindings } from "../src/services/modules/findings.ts";
import { createNotificationDispatcher } from "../src/services/notifications/dispatcher.ts";
import { under13FromGrades } from "../src/services/roster/apply-users.ts";
import { useHarness } from "./helpers/harness.ts";
import { crisisFinding, setNotifications, startSmtpServer, startWebhookEndpoint } from "./helpers/notifications.ts";
import { clerkUserData, deliver, delivery, makeWebhookSecret, webhookDeps } from "./helpers/webhooks.ts";

const clerkSecret = makeWebhookSecret();
const h = useHarness({ deps: webhookDeps(clerkSecret, "org:teacher=teacher,org:head=admin") });
const hookSecret = `whsec_${Buffer.from(crypto.getRandomValues(new Uint8Array(24))).toString("base64")}`;
let smtp: Awaited<ReturnType<typeof startSmtpServer>>;
let hook: ReturnType<typeof startWebhookEndpoint>;

beforeAll(async () => {
  smtp = await startSmtpServer();
  hook = startWebhookEndpoint(hookSecret);
});
afterAll(async () => {
  hook.close();
  await smtp.close();
});

/** A crisis alert on a message of the scene's student, in a district that opted in to excerpts and a webhook. */
async function alertOn(scene: SchoolScene, words: string) {
  await setNotifications(h.db.db, scene.district.id, {
    includeExcerpt: true,
    email: { minSeverity: "high", to: ["teachers"] },
    webhooks: [{ url: hook.url, secret: hookSecret, minSeverity: "high" }],
  });
  const session = await makeSession(h.db.db, { toolId: scene.tool.id, studentId: scene.student.id, groupId: scene.department.id, classId: scene.cls.id });
  const message = await makeMessage(h.db.db, { sessionId: session.id, seq: 1, role: "user", content: words, authorId: scene.student.id });
  const target = { sessionId: session.id, classId: scene.cls.id, groupId: scene.department.id, studentId: scene.student.id, messageId: message.id };
  const [alert] = await persistFindings(h.db.db, target, [crisisFinding()], new Date());
  if (!alert) throw new Error("no alert stored");
  const settings = defaultNotificationSettings(createSmtpTransport(smtp.url, { timeoutMs: 2_000 }), {
    from: "alerts@school.example.test",
    publicUrl: "https://rapt.example.test",
    backoffMs: [0],
    maxAttempts: 2,
    webhookTimeoutMs: 1_000,
  });
  await createNotificationDispatcher(h.deps, settings).drainOnce();
  const deliveries = await h.db.db.select().from(notificationDeliveries).where(eq(notificationDeliveries.alertId, alert.id));
  const mails = smtp.received.filter((m) => deliveries.some((d) => d.id === m.deliveryId));
  const hooks = hook.received.filter((w) => w.payload.data.alertId === alert.id);
  return { mails, hooks };
}

describe("under-13 students", () => {
  test("an alert's mail and webhook carry no chat text for an under-13 student, even with excerpts on", async () => {
    const words = unique("I want to hurt myself tonight").replace(/-/g, " ");
    const older = await makeSchoolScene(h.db.db);
    const control = await alertOn(older, words);
    // The control: the same district setting puts a redacted excerpt in an older student's mail.
    expect(control.mails[0]?.text).toContain("Excerpt (personal details removed)");

    const child = await makeSchoolScene(h.db.db);
    await h.db.db.update(users).set({ under13Clerk: true }).where(eq(users.id, child.student.id));
    const { mails, hooks } = await alertOn(child, words);
    expect(mails.length).toBeGreaterThan(0);
    expect(hooks).toHaveLength(1);
    for (const text of [...mails.flatMap((m) => [m.text, m.subject]), JSON.stringify(hooks[0]?.payload)]) {
      expect(text).not.toContain("Excerpt");
      expect(text).not.toContain("hurt myself");
    }
  });

  test("Clerk's public_metadata.under13 marks a child, and unmarks them", async () => {
    const id = `user_${unique("u13").replaceAll("-", "")}`;
    const at = Date.now() - 60_000;
    const state = { id, first: "Kid", last: "Doe", email: `${id}@school.test`, updatedAt: at };
    const marked = { ...clerkUserData(state), public_metadata: { under13: true } };
    expect((await deliver(h.app, clerkSecret, delivery("user.created", marked, at))).status).toBe(200);
    const flag = async () => (await h.db.db.select({ under13: users.under13 }).from(users).where(eq(users.clerkUserId, id)))[0]?.under13;
    expect(await flag()).toBe(true);
    const unmarked = { ...clerkUserData({ ...state, updatedAt: at + 1000 }), public_metadata: { under13: "yes" } };
    expect((await deliver(h.app, clerkSecret, delivery("user.updated", unmarked, at + 1000))).status).toBe(200);
    expect(await flag()).toBe(false);
  });

  test("a roster's grades mark a child: grade 7 and below, never a high schooler or a record without grades", () => {
    expect(under13FromGrades(["05"])).toBe(true);
    expect(under13FromGrades(["KG"])).toBe(true);
    expect(under13FromGrades(["07"])).toBe(true);
    expect(under13FromGrades(["07", "08"])).toBe(false);
    expect(under13FromGrades(["10"])).toBe(false);
    expect(under13FromGrades([])).toBeNull();
    expect(under13FromGrades(["UG"])).toBeNull();
  });
});
