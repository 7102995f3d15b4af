import { beforeAll, describe, expect, test } from "bun:test";
import { auditLog, extractions, notificationAttempts, notificationDeliveries } from "@raptscallions/db";
import type { SchoolScene } from "@raptscallions/db/testing";
import { and, eq, inArray } from "drizzle-orm";
import type { Clock } from "../src/lib/clock.ts";
import { createNotificationDispatcher } from "../src/services/notifications/dispatcher.ts";
import { escalateAlerts } from "../src/services/notifications/escalation.ts";
import { createDevOutbox } from "../src/lib/notify/mail.ts";
import { defaultNotificationSettings } from "../src/lib/notify/settings.ts";
import { persistFindings } from "../src/services/modules/findings.ts";
import { useHarness } from "./helpers/harness.ts";
import { crisisFinding, notificationScene, setNotifications } from "./helpers/notifications.ts";

// A clock the test moves: minutes pass in microseconds. The job scans every open alert raised in
// the three days before its clock (and the dispatcher claims every delivery due by it), so each run
// starts on a day of its own, a whole number of days after 2000-01-03 21:00 UTC and before 2025: on
// a Postgres kept between runs, the alerts earlier runs left open are then outside the window
// instead of piling up in it (each scan loading each one's group), and the other suites' rows,
// stamped with today's clock or fixed 2026 dates, are never due.
let now = new Date(Date.parse("2000-01-03T21:00:00Z") + Math.floor(Math.random() * 9_000) * 86_400_000);
const clock: Clock = { now: () => now };
const h = useHarness({ deps: { clock } });
let scene: SchoolScene;
let sessionId: string;
const lead = "lead@district.example.test";
const t0 = now;
const at = (minutes: number) => new Date(t0.getTime() + minutes * 60_000);

const crisis = (escalateTo: string[]) => crisisFinding({ data: { category: "self-harm", escalate: true, escalateTo } });

async function raise() {
  const target = { sessionId, classId: scene.cls.id, groupId: scene.department.id, studentId: scene.student.id, messageId: null };
  const [row] = await persistFindings(h.db.db, target, [crisis([scene.schoolAdmin.id])], now);
  if (!row) throw new Error("no alert");
  return row;
}
const run = () => escalateAlerts({ db: h.db.db, clock, logger: h.deps.logger, actor: { kind: "system", name: "alert-escalation" }, requestId: "test-run" });
const stepsOf = async (alertId: string) =>
  (await h.db.db.select().from(notificationDeliveries).where(eq(notificationDeliveries.alertId, alertId))).map((d) => `${d.step}:${d.recipient}`).sort();

beforeAll(async () => {
  ({ scene, sessionId } = await notificationScene(h.db.db, {
    safeguardingList: [lead],
    email: { minSeverity: "high", to: ["teachers"] },
    escalation: { minSeverity: "high", afterMinutes: 10, steps: [["escalation"], ["safeguarding"]] },
  }));
}, 60_000);

describe("escalation on silence", () => {
  test("an unacknowledged alert goes to the escalation list, then the safeguarding list, once each", async () => {
    now = t0;
    const alert = await raise();
    expect(await stepsOf(alert.id)).toEqual([`0:${scene.teacher.email}`]);
    // The job scans every open alert in the database (other suites' too): assert this alert's rows.
    now = at(9);
    await run();
    expect(await stepsOf(alert.id)).toEqual([`0:${scene.teacher.email}`]);
    now = at(11);
    await run();
    expect(await stepsOf(alert.id)).toEqual([`0:${scene.teacher.email}`, `1:${scene.schoolAdmin.email}`]);
    // Running again (or on another instance) adds nothing.
    await run();
    expect(await stepsOf(alert.id)).toEqual([`0:${scene.teacher.email}`, `1:${scene.schoolAdmin.email}`]);
    now = at(21);
    await run();
    expect(await stepsOf(alert.id)).toEqual([`0:${scene.teacher.email}`, `1:${scene.schoolAdmin.email}`, `2:${lead}`]);
    now = at(60);
    await run();
    expect(await stepsOf(alert.id)).toHaveLength(3);

    const audits = await h.db.db
      .select()
      .from(auditLog)
      .where(and(eq(auditLog.targetId, alert.id), eq(auditLog.action, "alert.escalate")));
    expect(audits.map((a) => a.details.step).sort()).toEqual([1, 2]);
    expect(audits.every((a) => a.actorKind === "system" && a.actorName === "alert-escalation")).toBe(true);

    // The escalation mail says so.
    const outbox = createDevOutbox(h.deps.logger);
    await createNotificationDispatcher(h.deps, defaultNotificationSettings(outbox)).drainOnce();
    const toAdmin = outbox.list().find((m) => m.to === scene.schoolAdmin.email);
    expect(toAdmin?.subject).toBe("[Escalated] CRITICAL safety alert: self-harm");
    expect(toAdmin?.text).toContain("Nobody has acknowledged");
  });

  test("a flood of newer open alerts does not hide an older one that is due", async () => {
    now = t0;
    const alert = await raise();
    // 500 alerts raised since (one scan's worth), none due yet: the due one is the oldest of 501.
    const { id: _id, createdAt: _createdAt, ...copy } = alert;
    const flood = await h.db.db
      .insert(extractions)
      .values(Array.from({ length: 500 }, (_, i) => ({ ...copy, createdAt: at(10 + i / 1000) })))
      .returning({ id: extractions.id });
    now = at(11);
    await run();
    expect(await stepsOf(alert.id)).toEqual([`0:${scene.teacher.email}`, `1:${scene.schoolAdmin.email}`]);
    // Closed, so the later tests' runs do not escalate the flood too.
    await h.db.db
      .update(extractions)
      .set({ status: "dismissed" })
      .where(
        inArray(
          extractions.id,
          flood.map((f) => f.id),
        ),
      );
  });

  test("acknowledging through REST stops it", async () => {
    now = t0;
    const alert = await raise();
    now = at(5);
    const ack = await h.as(scene.teacher).post(`/api/alerts/${alert.id}/acknowledge`);
    expect(ack.status).toBe(200);
    now = at(30);
    await run();
    expect(await stepsOf(alert.id)).toEqual([`0:${scene.teacher.email}`]);
  });

  test("an acknowledgement cancels the steps already queued, with the reason in the delivery log", async () => {
    now = t0;
    const alert = await raise();
    now = at(11);
    await run();
    // Step 1 is queued but not yet sent (no dispatcher ran) when the teacher acknowledges.
    const [queued] = (await h.db.db.select().from(notificationDeliveries).where(eq(notificationDeliveries.alertId, alert.id))).filter((d) => d.step === 1);
    expect(queued?.status).toBe("pending");
    now = at(12);
    expect((await h.as(scene.teacher).post(`/api/alerts/${alert.id}/acknowledge`)).status).toBe(200);

    const log = await h
      .as(scene.schoolAdmin)
      .get<{ items: { step: number; status: string; lastError: string | null; log: { outcome: string; error: string | null }[] }[] }>(
        `/api/alerts/${alert.id}/deliveries`,
      );
    expect(log.status).toBe(200);
    const step1 = log.body.items.find((d) => d.step === 1);
    expect(step1?.status).toBe("cancelled");
    expect(step1?.lastError).toBe(`escalation stopped: the alert was acknowledged at ${at(12).toISOString()}`);
    expect(step1?.log).toEqual([expect.objectContaining({ outcome: "cancelled", error: step1?.lastError })]);
    // The step-0 notification is not an escalation: it stays as it was.
    expect(log.body.items.find((d) => d.step === 0)?.status).toBe("pending");
    const [ackAudit] = await h.db.db
      .select()
      .from(auditLog)
      .where(and(eq(auditLog.targetId, alert.id), eq(auditLog.action, "alert.acknowledge")));
    expect(ackAudit?.details.cancelledDeliveries).toEqual([queued?.id]);

    // Neither the dispatcher nor a later escalation run sends anything more to the escalation lists.
    const outbox = createDevOutbox(h.deps.logger);
    const dispatcher = createNotificationDispatcher(h.deps, defaultNotificationSettings(outbox));
    await dispatcher.drainOnce();
    now = at(25);
    await run();
    await dispatcher.drainOnce();
    expect(await stepsOf(alert.id)).toEqual([`0:${scene.teacher.email}`, `1:${scene.schoolAdmin.email}`]);
    expect(outbox.list().filter((m) => m.deliveryId === queued?.id)).toEqual([]);
    expect(outbox.list().some((m) => m.to === scene.teacher.email)).toBe(true);
  });

  test("a step claimed before the acknowledgement is stopped by the dispatcher's re-check before the send", async () => {
    now = t0;
    const alert = await raise();
    now = at(11);
    await run();
    // A dispatcher claimed step 1 and died before sending: the row is `sending` with a lease.
    const [step1] = await h.db.db
      .update(notificationDeliveries)
      .set({ status: "sending", attempts: 1, leaseUntil: at(11.5) })
      .where(and(eq(notificationDeliveries.alertId, alert.id), eq(notificationDeliveries.step, 1)))
      .returning();
    expect(step1).toBeDefined();
    now = at(12);
    expect((await h.as(scene.teacher).post(`/api/alerts/${alert.id}/dismiss`)).status).toBe(200);
    // The acknowledgement cannot cancel a claimed row; the next claim (after the lease) re-checks.
    const [still] = await h.db.db
      .select()
      .from(notificationDeliveries)
      .where(eq(notificationDeliveries.id, step1?.id ?? ""));
    expect(still?.status).toBe("sending");

    now = at(13);
    const outbox = createDevOutbox(h.deps.logger);
    await createNotificationDispatcher(h.deps, defaultNotificationSettings(outbox)).drainOnce();
    expect(outbox.list().filter((m) => m.deliveryId === step1?.id)).toEqual([]);
    const [after] = await h.db.db
      .select()
      .from(notificationDeliveries)
      .where(eq(notificationDeliveries.id, step1?.id ?? ""));
    expect(after?.status).toBe("cancelled");
    expect(after?.lastError).toBe(`escalation stopped: the alert was dismissed at ${at(12).toISOString()}`);
    const attempts = await h.db.db
      .select()
      .from(notificationAttempts)
      .where(eq(notificationAttempts.deliveryId, step1?.id ?? ""));
    expect(attempts.map((a) => [a.attempt, a.outcome])).toEqual([[2, "cancelled"]]);
    const audits = await h.db.db
      .select()
      .from(auditLog)
      .where(and(eq(auditLog.targetId, alert.id), eq(auditLog.action, "notification.cancel")));
    expect(audits).toHaveLength(1);
    expect(audits[0]?.actorName).toBe("notifications");
  });

  test("quiet hours hold a non-critical alert until they end, in the group's time zone", async () => {
    await setNotifications(h.db.db, scene.school.id, {
      timeZone: "America/New_York",
      quietHours: { start: "20:00", end: "07:00" },
      email: { minSeverity: "high", to: ["teachers"] },
    });
    // 21:00 UTC is 16:00 in New York (EST): not quiet. 02:00 UTC is 21:00 there: quiet until 07:00 EST = 12:00 UTC.
    const target = { sessionId, classId: scene.cls.id, groupId: scene.department.id, studentId: scene.student.id, messageId: null };
    const high = { ...crisis([]), severity: "high" as const };
    const [day] = await persistFindings(h.db.db, target, [high], new Date("2026-03-02T21:00:00Z"));
    const [night] = await persistFindings(h.db.db, target, [high], new Date("2026-03-03T02:00:00Z"));
    const [critical] = await persistFindings(h.db.db, target, [crisis([])], new Date("2026-03-03T02:00:00Z"));
    const due = async (id: string | undefined) =>
      (
        await h.db.db
          .select()
          .from(notificationDeliveries)
          .where(eq(notificationDeliveries.alertId, id ?? ""))
      ).map((d) => d.nextAttemptAt.toISOString());
    expect(await due(day?.id)).toEqual(["2026-03-02T21:00:00.000Z"]);
    expect(await due(night?.id)).toEqual(["2026-03-03T12:00:00.000Z"]);
    // Critical alerts are never held.
    expect(await due(critical?.id)).toEqual(["2026-03-03T02:00:00.000Z"]);
  });
});
