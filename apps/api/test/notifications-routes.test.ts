import { beforeAll, describe, expect, test } from "bun:test";
import { makeSchoolScene, makeSession, makeUser, type SchoolScene } from "@raptscallions/db/testing";
import { createNotificationDispatcher } from "../src/services/notifications/dispatcher.ts";
import { createDevOutbox } from "../src/lib/notify/mail.ts";
import { defaultNotificationSettings } from "../src/lib/notify/settings.ts";
import { persistFindings } from "../src/services/modules/findings.ts";
import { useHarness } from "./helpers/harness.ts";
import { errorCode, securityTests } from "./helpers/security.ts";

const h = useHarness();
let scene: SchoolScene;
let other: SchoolScene;
let alertId: string;
const secret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";

beforeAll(async () => {
  scene = await makeSchoolScene(h.db.db);
  other = await makeSchoolScene(h.db.db);
  const session = await makeSession(h.db.db, { toolId: scene.tool.id, studentId: scene.student.id, groupId: scene.department.id, classId: scene.cls.id });
  const [row] = await persistFindings(
    h.db.db,
    { sessionId: session.id, classId: scene.cls.id, groupId: scene.department.id, studentId: scene.student.id, messageId: null },
    [{ module: "safety-filter", kind: "self-harm", severity: "critical", isAlert: true, message: "Possible self-harm (critical).", data: { category: "self-harm" } }],
    new Date(),
  );
  alertId = row?.id ?? "";
  await createNotificationDispatcher(h.deps, defaultNotificationSettings(createDevOutbox(h.deps.logger))).drainOnce();
}, 60_000);

describe("GET /api/alerts/:id/deliveries", () => {
  test("an admin over the group reads each delivery with its attempts", async () => {
    const res = await h
      .as(scene.schoolAdmin)
      .get<{ items: { channel: string; recipient: string; status: string; log: { outcome: string }[] }[] }>(`/api/alerts/${alertId}/deliveries`);
    expect(res.status).toBe(200);
    expect(res.body.items).toHaveLength(1);
    expect(res.body.items[0]).toMatchObject({ channel: "email", recipient: scene.teacher.email ?? "", status: "sent", log: [{ outcome: "sent" }] });
  });

  test("a malformed or unknown id is a 404 in the envelope, as for every alert route", async () => {
    const bad = await h.as(scene.schoolAdmin).get("/api/alerts/not-a-uuid/deliveries");
    expect(bad.status).toBe(404);
    expect(errorCode(bad.body)).toBe("NOT_FOUND");
    const missing = await h.as(scene.schoolAdmin).get(`/api/alerts/${crypto.randomUUID()}/deliveries`);
    expect(missing.status).toBe(404);
    expect(errorCode(missing.body)).toBe("NOT_FOUND");
  });
});

describe("notification settings on a group", () => {
  test("bad settings are a 422 that names the field", async () => {
    const res = await h.as(scene.districtAdmin).patch(`/api/groups/${scene.district.id}`, {
      settings: { notifications: { quietHours: { start: "25:00", end: "07:00" }, webhooks: [{ url: "ftp://x", secret: "nope" }] } },
    });
    expect([400, 422]).toContain(res.status);
    expect(errorCode(res.body)).toBe("VALIDATION_FAILED");
    expect(JSON.stringify(res.body)).toContain("settings.notifications.quietHours.start");
  });

  test("a webhook secret is never shown, and saving the shown settings back keeps it", async () => {
    const settings = { notifications: { timeZone: "America/New_York", webhooks: [{ url: "https://hooks.example.test/rapt", secret }] } };
    const saved = await h
      .as(scene.districtAdmin)
      .patch<{ settings: { notifications: { webhooks: { secret: string }[] } } }>(`/api/groups/${scene.district.id}`, { settings });
    expect(saved.status).toBe(200);
    expect(saved.body.settings.notifications.webhooks[0]?.secret).toBe("whsec_********");
    expect(JSON.stringify(saved.body)).not.toContain(secret);
    const again = await h.as(scene.districtAdmin).patch(`/api/groups/${scene.district.id}`, { settings: saved.body.settings });
    expect(again.status).toBe(200);
    const [row] = await h.db.db.query.groups.findMany({ where: (g, { eq }) => eq(g.id, scene.district.id) });
    expect(JSON.stringify(row?.settings)).toContain(secret);
    // A marker for a webhook that has no stored secret cannot be saved.
    const unknown = await h.as(scene.districtAdmin).patch(`/api/groups/${scene.district.id}`, {
      settings: { notifications: { webhooks: [{ url: "https://elsewhere.example.test/", secret: "whsec_********" }] } },
    });
    expect(errorCode(unknown.body)).toBe("VALIDATION_FAILED");
  });
});

securityTests("notifications", () => h.app, [
  {
    method: "GET",
    route: "/api/alerts/:id/deliveries",
    path: () => `/api/alerts/${alertId}/deliveries`,
    denied: () => [
      { who: scene.teacher, status: 404, as: "the class's teacher (sees the alert, not who was told)" },
      { who: scene.student, status: 404, as: "the student" },
      { who: other.schoolAdmin, status: 404, as: "another school's admin" },
    ],
  },
  {
    method: "GET",
    route: "/api/notifications/outbox",
    path: () => "/api/notifications/outbox",
    denied: () => [
      { who: scene.districtAdmin, status: 403, as: "a district admin" },
      { who: scene.student, status: 403, as: "a student" },
    ],
  },
]);

test("a system admin reads the dev outbox", async () => {
  const admin = await makeUser(h.db.db, { isSystemAdmin: true });
  const res = await h.as(admin).get<{ items: unknown[] }>("/api/notifications/outbox");
  expect(res.status).toBe(200);
  expect(Array.isArray(res.body.items)).toBe(true);
});
