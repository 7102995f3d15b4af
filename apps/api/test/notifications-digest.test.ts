import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { type extractions, notificationDeliveries } from "@raptscallions/db";
import { makeExtraction, makeMessage, type SchoolScene, unique } from "@raptscallions/db/testing";
import { eq } from "drizzle-orm";
import { createJobRegistry } from "../src/jobs/index.ts";
import { notificationDigestJob } from "../src/jobs/notification-digest.ts";
import type { Clock } from "../src/lib/clock.ts";
import { createSmtpTransport } from "../src/lib/notify/mail.ts";
import { defaultNotificationSettings } from "../src/lib/notify/settings.ts";
import { createNotificationDispatcher } from "../src/services/notifications/dispatcher.ts";
import { queueDailyDigests } from "../src/services/notifications/digest.ts";
import { useHarness } from "./helpers/harness.ts";
import { notificationScene, setNotifications, startSmtpServer } from "./helpers/notifications.ts";

// A clock the test moves across days (and a DST change: New York springs forward on 2026-03-08).
let now = new Date("2026-03-08T12:00:00Z");
const clock: Clock = { now: () => now };
const h = useHarness({ deps: { clock } });
let smtp: Awaited<ReturnType<typeof startSmtpServer>>;

const run = () => queueDailyDigests({ db: h.db.db, clock, logger: h.deps.logger });
const digestsOf = (teacherId: string) => h.db.db.select().from(notificationDeliveries).where(eq(notificationDeliveries.recipientUserId, teacherId));

const sceneIn = (notifications: Record<string, unknown>) => notificationScene(h.db.db, notifications);

function finding(s: { scene: SchoolScene; sessionId: string }, at: string, over: Omit<Partial<typeof extractions.$inferInsert>, "sessionId"> = {}) {
  return makeExtraction(h.db.db, {
    sessionId: s.sessionId,
    classId: s.scene.cls.id,
    groupId: s.scene.department.id,
    module: "safety-filter",
    kind: "bullying",
    severity: "low",
    isAlert: false,
    data: { message: unique("Possible bullying (low) in a student message.") },
    createdAt: new Date(at),
    ...over,
  });
}

beforeAll(async () => {
  smtp = await startSmtpServer();
}, 30_000);
afterAll(async () => {
  await smtp.close();
});

const dispatcher = () =>
  createNotificationDispatcher(h.deps, defaultNotificationSettings(createSmtpTransport(smtp.url, { timeoutMs: 2_000 }), { publicUrl: "https://rapt.example.test" }));

describe("the daily digest", () => {
  test("at the group's local hour across a DST change: the day's unmailed findings, once, without chat text", async () => {
    const ny = await sceneIn({ timeZone: "America/New_York", digest: { hour: 16 }, email: { minSeverity: "high", to: ["teachers"] } });
    const secret = "call me on 07700 900123 or mail kid.doe@example.com about the fight";
    const message = await makeMessage(h.db.db, { sessionId: ny.sessionId, seq: 1, content: secret });
    // The window ends at 16:00 EDT on 03-08 (20:00Z) and starts at 16:00 EST on 03-07 (21:00Z): 23 hours.
    await finding(ny, "2026-03-07T20:30:00Z"); // 15:30 EST: the previous digest's
    const struggle = await finding(ny, "2026-03-07T21:30:00Z", {
      module: "struggle-detector",
      kind: "struggle",
      severity: "medium",
      isAlert: true,
      data: { message: "Student may be struggling: asked the same question 3 times.", level: "struggling" },
    });
    const low = await finding(ny, "2026-03-08T15:00:00Z", { messageId: message.id, isAlert: true });
    await finding(ny, "2026-03-08T16:00:00Z", { severity: "critical", isAlert: true }); // mailed on its own
    await finding(ny, "2026-03-08T17:00:00Z", { status: "dismissed" });
    await finding(ny, "2026-03-08T17:30:00Z", { severity: "info" });
    await finding(ny, "2026-03-08T20:30:00Z"); // after the hour: tomorrow's
    // A class with nothing to report gets nothing: only a mailed alert and an info finding.
    const quiet = await sceneIn({ timeZone: "America/New_York", digest: { hour: 16 } });
    await finding(quiet, "2026-03-08T15:00:00Z", { severity: "high", isAlert: true });
    await finding(quiet, "2026-03-08T15:10:00Z", { severity: "info" });
    // A group that switched the digest off.
    const off = await sceneIn({ timeZone: "America/New_York", digest: { enabled: false } });
    await finding(off, "2026-03-08T15:00:00Z");

    // 15:59 EDT (19:59Z): not yet — an hour still read as EST would wait until 21:00Z.
    now = new Date("2026-03-08T19:59:00Z");
    await run();
    expect(await digestsOf(ny.scene.teacher.id)).toEqual([]);
    now = new Date("2026-03-08T20:00:00Z");
    await run();
    const [digest, ...more] = await digestsOf(ny.scene.teacher.id);
    expect(more).toEqual([]);
    expect(digest).toMatchObject({ purpose: "digest", channel: "email", recipient: ny.scene.teacher.email, dedupeKey: `digest:${ny.scene.teacher.id}:2026-03-08` });
    expect(digest?.payload).toMatchObject({
      date: "2026-03-08",
      timeZone: "America/New_York",
      from: "2026-03-07T21:00:00.000Z",
      to: "2026-03-08T20:00:00.000Z",
      total: 2,
    });
    const items = (digest?.payload.items ?? []) as { findingId: string; localTime: string }[];
    expect(items.map((i) => [i.findingId, i.localTime])).toEqual([
      [struggle.id, "2026-03-07 16:30"],
      [low.id, "2026-03-08 11:00"],
    ]);
    expect(await digestsOf(quiet.scene.teacher.id)).toEqual([]);
    expect(await digestsOf(off.scene.teacher.id)).toEqual([]);

    // Later runs that day add nothing.
    now = new Date("2026-03-08T23:30:00Z");
    await run();
    expect(await digestsOf(ny.scene.teacher.id)).toHaveLength(1);

    await dispatcher().drainOnce();
    const mail = smtp.received.find((m) => m.deliveryId === digest?.id);
    expect(mail?.envelopeTo).toEqual([ny.scene.teacher.email ?? ""]);
    expect(mail?.subject).toBe("Daily summary for 2026-03-08: 2 items in your classes");
    expect(mail?.text).toContain(`2026-03-07 16:30 · ${ny.scene.cls.name} · medium struggle: Student may be struggling: asked the same question 3 times.`);
    expect(mail?.text).toContain(`https://rapt.example.test/app/sessions/${ny.sessionId}`);
    // No chat text unless the group opted in.
    expect(mail?.text).not.toContain("fight");
    expect(mail?.text).not.toContain("Excerpt");

    // The next day, with excerpts switched on: PII-redacted, never the raw message.
    await setNotifications(h.db.db, ny.scene.district.id, { timeZone: "America/New_York", digest: { hour: 16 }, includeExcerpt: true });
    await finding(ny, "2026-03-09T14:00:00Z", { messageId: message.id });
    now = new Date("2026-03-09T20:00:00Z");
    await run();
    const next = (await digestsOf(ny.scene.teacher.id)).find((d) => d.dedupeKey.endsWith(":2026-03-09"));
    expect(next?.payload).toMatchObject({ from: "2026-03-08T20:00:00.000Z", to: "2026-03-09T20:00:00.000Z", total: 2 });
    // The payload stored in the outbox carries ids, never the text.
    expect(JSON.stringify(next?.payload)).not.toContain("fight");
    await dispatcher().drainOnce();
    const second = smtp.received.find((m) => m.deliveryId === next?.id);
    expect(second?.text).toContain("Excerpt (personal details removed):");
    expect(second?.text).toContain("about the fight");
    expect(second?.text).not.toContain("kid.doe@example.com");
    expect(second?.text).not.toContain("07700 900123");
  });

  test("the local date and hour come from the group's time zone", async () => {
    const tokyo = await sceneIn({ timeZone: "Asia/Tokyo", digest: { hour: 8 } });
    // 21:00 on 03-08 in Tokyo; the digest goes at 08:00 on 03-09 Tokyo time (23:00Z on 03-08).
    await finding(tokyo, "2026-03-08T12:00:00Z");
    now = new Date("2026-03-08T22:59:00Z");
    await run();
    expect(await digestsOf(tokyo.scene.teacher.id)).toEqual([]);
    now = new Date("2026-03-08T23:00:00Z");
    await run();
    const [digest] = await digestsOf(tokyo.scene.teacher.id);
    expect(digest?.dedupeKey).toBe(`digest:${tokyo.scene.teacher.id}:2026-03-09`);
    expect(digest?.payload).toMatchObject({ date: "2026-03-09", from: "2026-03-07T23:00:00.000Z", to: "2026-03-08T23:00:00.000Z", total: 1 });
  });

  test("two instances running the digest job at once queue one digest", async () => {
    const berlin = await sceneIn({ timeZone: "Europe/Berlin", digest: { hour: 7 } });
    await finding(berlin, "2026-03-09T18:00:00Z");
    now = new Date("2026-03-10T06:05:00Z"); // 07:05 CET
    const namespace = unique("digest");
    const second = await h.withApp({ db: await h.otherPool(4), deps: { clock } });
    const registries = [h, second].map((on, i) => {
      const deps = on.deps;
      const jobs = createJobRegistry({ deps: { ...deps, config: { ...deps.config, instanceId: `digest-${i}` } }, runner: on.app.realtime.runner }, { namespace });
      jobs.register(notificationDigestJob());
      return jobs;
    });
    const attempts = await Promise.all(registries.map((jobs) => jobs.runOnce("notification-digest", { force: true })));
    // Both may run one after the other (the lease is free again): the key still holds it to one.
    attempts.push(...(await Promise.all(registries.map((jobs) => jobs.runOnce("notification-digest", { force: true })))));
    expect(attempts.filter((a) => a === "ok").length).toBeGreaterThanOrEqual(1);
    expect(await digestsOf(berlin.scene.teacher.id)).toHaveLength(1);
    await Promise.all(registries.map((jobs) => jobs.stop()));
  });
});
