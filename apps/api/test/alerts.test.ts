import { beforeAll, describe, expect, test } from "bun:test";
import type { BusSignal } from "@raptscallions/bus";
import { auditLog } from "@raptscallions/db";
import { makeSchoolScene, makeSession, type SchoolScene } from "@raptscallions/db/testing";
import type { Finding } from "@raptscallions/modules";
import { and, eq } from "drizzle-orm";
import { persistFindings } from "../src/services/modules/findings.ts";
import { authHeader } from "./helpers/auth.ts";
import { useHarness } from "./helpers/harness.ts";

const h = useHarness();
let scene: SchoolScene;
let other: SchoolScene;
let sessionId: string;
let otherSessionId: string;

const finding = (over: Partial<Finding>): Finding => ({
  module: "safety-filter",
  kind: "bullying",
  severity: "medium",
  isAlert: true,
  message: "Possible bullying (medium) in a student message.",
  data: { category: "bullying", source: "student", rules: ["r1"], blocked: false, escalate: false, escalateTo: [] },
  ...over,
});

beforeAll(async () => {
  scene = await makeSchoolScene(h.db.db);
  other = await makeSchoolScene(h.db.db);
  const session = await makeSession(h.db.db, { toolId: scene.tool.id, studentId: scene.student.id, groupId: scene.department.id, classId: scene.cls.id });
  const elsewhere = await makeSession(h.db.db, { toolId: other.tool.id, studentId: other.student.id, groupId: other.department.id, classId: other.cls.id });
  sessionId = session.id;
  otherSessionId = elsewhere.id;
  const target = { sessionId, classId: scene.cls.id, groupId: scene.department.id, studentId: scene.student.id, messageId: null };
  // Five alerts a second apart (oldest first) and one quiet finding that is not an alert.
  for (let i = 0; i < 5; i++) {
    await persistFindings(h.db.db, target, [finding({ severity: i === 4 ? "critical" : "medium" })], new Date(Date.UTC(2026, 0, 1, 9, 0, i)));
  }
  await persistFindings(h.db.db, target, [finding({ module: "pii-filter", kind: "pii-redacted", severity: "low", isAlert: false, data: {} })], new Date());
  await persistFindings(
    h.db.db,
    { sessionId: otherSessionId, classId: other.cls.id, groupId: other.department.id, studentId: other.student.id, messageId: null },
    [finding({})],
    new Date(),
  );
}, 60_000);

async function call(user: { clerkUserId: string | null } | null, method: string, path: string) {
  const res = await h.app.request(path, { method, headers: user ? await authHeader(user) : {} });
  return { status: res.status, body: (await res.json()) as Record<string, unknown> };
}
type AlertItem = { id: string; sessionId: string; status: string; severity: string; studentId: string; message: string; isAlert: boolean };
const items = (body: Record<string, unknown>) => body.items as AlertItem[];

describe("GET /api/alerts", () => {
  test("a teacher sees their class's alerts, newest first, without quiet findings", async () => {
    const res = await call(scene.teacher, "GET", `/api/alerts?classId=${scene.cls.id}`);
    expect(res.status).toBe(200);
    const list = items(res.body);
    expect(list).toHaveLength(5);
    expect(list.every((a) => a.isAlert && a.sessionId === sessionId && a.studentId === scene.student.id)).toBe(true);
    expect(list[0]?.severity).toBe("critical");
    expect(list[0]?.message).toContain("bullying");
    // Unfiltered, the teacher sees the same: only their classes.
    expect(items((await call(scene.teacher, "GET", "/api/alerts")).body).map((a) => a.id)).toEqual(list.map((a) => a.id));
  });

  test("cursor pagination walks every alert once", async () => {
    const seen: string[] = [];
    let cursor: string | null = null;
    do {
      const res = await call(scene.teacher, "GET", `/api/alerts?sessionId=${sessionId}&limit=2${cursor ? `&cursor=${cursor}` : ""}`);
      expect(res.status).toBe(200);
      seen.push(...items(res.body).map((a) => a.id));
      cursor = res.body.nextCursor as string | null;
    } while (cursor);
    expect(seen).toHaveLength(5);
    expect(new Set(seen).size).toBe(5);
  });

  test("filters by severity; admins see their subtree by group", async () => {
    expect(items((await call(scene.teacher, "GET", `/api/alerts?classId=${scene.cls.id}&minSeverity=high`)).body)).toHaveLength(1);
    const admin = await call(scene.districtAdmin, "GET", `/api/alerts?groupId=${scene.district.id}`);
    expect(admin.status).toBe(200);
    expect(items(admin.body)).toHaveLength(5);
    expect(items((await call(scene.schoolAdmin, "GET", `/api/alerts?classId=${scene.cls.id}`)).body)).toHaveLength(5);
  });

  test("a teacher of another class, a student and an admin elsewhere see nothing", async () => {
    for (const path of [`/api/alerts?classId=${scene.cls.id}`, `/api/alerts?sessionId=${sessionId}`]) {
      for (const user of [other.teacher, scene.student, other.districtAdmin]) {
        const res = await call(user, "GET", path);
        expect(res.status).toBe(404);
        expect((res.body.error as { code: string }).code).toBe("NOT_FOUND");
      }
    }
    expect((await call(other.districtAdmin, "GET", `/api/alerts?groupId=${scene.district.id}`)).status).toBe(404);
    expect((await call(scene.teacher, "GET", `/api/alerts?groupId=${scene.district.id}`)).status).toBe(404);
    const student = await call(scene.student, "GET", "/api/alerts");
    expect(student.status).toBe(200);
    expect(items(student.body)).toHaveLength(0);
    const otherTeacher = items((await call(other.teacher, "GET", "/api/alerts")).body);
    expect(otherTeacher).toHaveLength(1);
    expect(otherTeacher.every((a) => a.sessionId === otherSessionId)).toBe(true);
  });

  test("no token, a bad token and bad queries", async () => {
    expect((await call(null, "GET", "/api/alerts")).status).toBe(401);
    const bad = await h.app.request("/api/alerts", { headers: { authorization: "Bearer not.a.token" } });
    expect(bad.status).toBe(401);
    const status = await call(scene.teacher, "GET", "/api/alerts?status=maybe");
    expect(status.status).toBe(400);
    expect((status.body.error as { code: string }).code).toBe("BAD_REQUEST");
    expect((await call(scene.teacher, "GET", "/api/alerts?cursor=%%%")).status).toBe(400);
  });
});

describe("acknowledge and dismiss", () => {
  test("records who and when, audits it, tells the class room, and is idempotent", async () => {
    const [first] = items((await call(scene.teacher, "GET", `/api/alerts?classId=${scene.cls.id}&status=open`)).body);
    const id = first?.id ?? "";
    const events: { type: string; payload: unknown }[] = [];
    const unsubscribe = await h.deps.bus.subscribe(`class:${scene.cls.id}`, (s: BusSignal) => {
      if (s.kind === "event") events.push({ type: s.event.type, payload: s.event.payload });
    });
    const ack = await call(scene.teacher, "POST", `/api/alerts/${id}/acknowledge`);
    expect(ack.status).toBe(200);
    expect(ack.body).toMatchObject({ id, status: "acknowledged", resolvedBy: scene.teacher.id });
    expect(typeof ack.body.resolvedAt).toBe("string");
    const again = await call(scene.teacher, "POST", `/api/alerts/${id}/acknowledge`);
    expect(again.body).toMatchObject({ status: "acknowledged", resolvedAt: ack.body.resolvedAt });

    const dismissed = await call(scene.schoolAdmin, "POST", `/api/alerts/${id}/dismiss`);
    expect(dismissed.body).toMatchObject({ status: "dismissed", resolvedBy: scene.schoolAdmin.id });
    const conflict = await call(scene.teacher, "POST", `/api/alerts/${id}/acknowledge`);
    expect(conflict.status).toBe(409);
    expect((conflict.body.error as { code: string }).code).toBe("CONFLICT");

    const audit = await h.db.db
      .select()
      .from(auditLog)
      .where(and(eq(auditLog.targetType, "alert"), eq(auditLog.targetId, id)));
    expect(audit.map((r) => [r.action, r.actorId])).toEqual(
      expect.arrayContaining([
        ["alert.acknowledge", scene.teacher.id],
        ["alert.dismiss", scene.schoolAdmin.id],
      ]),
    );
    expect(audit).toHaveLength(2);
    expect(events.map((e) => (e.payload as { alert: { status: string } }).alert.status)).toEqual(["acknowledged", "dismissed"]);
    unsubscribe();
    expect(items((await call(scene.teacher, "GET", `/api/alerts?classId=${scene.cls.id}&status=dismissed`)).body).map((a) => a.id)).toEqual([id]);
  });

  test("others cannot resolve an alert; unknown, malformed and non-alert ids are 404", async () => {
    const [open] = items((await call(scene.teacher, "GET", `/api/alerts?classId=${scene.cls.id}&status=open`)).body);
    const id = open?.id ?? "";
    for (const user of [other.teacher, scene.student, other.schoolAdmin]) {
      const res = await call(user, "POST", `/api/alerts/${id}/dismiss`);
      expect(res.status).toBe(404);
    }
    expect((await call(null, "POST", `/api/alerts/${id}/dismiss`)).status).toBe(401);
    expect((await call(scene.teacher, "POST", `/api/alerts/${crypto.randomUUID()}/dismiss`)).status).toBe(404);
    expect((await call(scene.teacher, "POST", "/api/alerts/not-a-uuid/dismiss")).status).toBe(404);
    const [quiet] = await persistFindings(
      h.db.db,
      { sessionId, classId: scene.cls.id, groupId: scene.department.id, studentId: scene.student.id, messageId: null },
      [finding({ isAlert: false, severity: "info" })],
      new Date(),
    );
    expect((await call(scene.teacher, "POST", `/api/alerts/${quiet?.id}/acknowledge`)).status).toBe(404);
    // Still open: nothing above changed it.
    const after = items((await call(scene.teacher, "GET", `/api/alerts?sessionId=${sessionId}&status=open`)).body);
    expect(after.map((a) => a.id)).toContain(id);
  });
});
