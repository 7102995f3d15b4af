import { beforeAll, describe, expect, test } from "bun:test";
import { auditLog, groups, notificationDeliveries } from "@raptscallions/db";
import { makeSchoolScene, makeSession, type SchoolScene } from "@raptscallions/db/testing";
import type { Finding } from "@raptscallions/modules";
import { and, eq } from "drizzle-orm";
import type { Clock } from "../src/lib/clock.ts";
import { createNotificationDispatcher } from "../src/services/notifications/dispatcher.ts";
import { escalateAlerts } from "../src/services/notifications/escalation.ts";
import { createDevOutbox } from "../src/lib/notify/mail.ts";
import { defaultNotificationSettings } from "../src/lib/notify/settings.ts";
import { persistFindings } from "../src/services/modules/findings.ts";
import { useHarness } from "./helpers/harness.ts";

// A clock the test moves: minutes pass in microseconds.
let now = new Date("2026-03-02T21:00:00Z");
const clock: Clock = { now: () => now };
const h = useHarness({ deps: { clock } });
let scene: SchoolScene;
let sessionId: string;
const lead = "lead@district.example.test";
const t0 = now;
const at = (minutes: number) => new Date(t0.getTime() + minutes * 60_000);

const crisis = (escalateTo: string[]): Finding => ({
  module: "safety-filter",
  kind: "self-harm",
  severity: "critical",
  isAlert: true,
  message: "Possible self-harm (critical) in a student message.",
  data: { category: "self-harm", escalate: true, escalateTo },
});

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
  scene = await makeSchoolScene(h.db.db);
  sessionId = (await makeSession(h.db.db, { toolId: scene.tool.id, studentId: scene.student.id, groupId: scene.department.id, classId: scene.cls.id })).id;
  await h.db.db
    .update(groups)
    .set({
      settings: {
        notifications: {
          safeguardingList: [lead],
          email: { minSeverity: "high", to: ["teachers"] },
          escalation: { minSeverity: "high", afterMinutes: 10, steps: [["escalation"], ["safeguarding"]] },
        },
      },
    })
    .where(eq(groups.id, scene.district.id));
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

  test("quiet hours hold a non-critical alert until they end, in the group's time zone", async () => {
    await h.db.db
      .update(groups)
      .set({
        settings: { notifications: { timeZone: "America/New_York", quietHours: { start: "20:00", end: "07:00" }, email: { minSeverity: "high", to: ["teachers"] } } },
      })
      .where(eq(groups.id, scene.school.id));
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
