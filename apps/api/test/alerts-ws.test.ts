import { beforeAll, describe, expect, test } from "bun:test";
import { auditLog, extractions, notificationDeliveries } from "@raptscallions/db";
import { makeExtraction, makeSchoolScene, makeSession, type SchoolScene } from "@raptscallions/db/testing";
import { and, eq } from "drizzle-orm";
import { useHarness } from "./helpers/harness.ts";
import { deploymentTransports, useDeployment, useDevModel } from "./helpers/deployment.ts";
import { connect, type Instance } from "./helpers/live.ts";

/**
 * `alert.ack` over real sockets: the same service as `POST /api/alerts/:id/acknowledge` (who may,
 * the audit row, the escalation stop, the class-room event other teachers see), answered like
 * every client frame; refusals and bad frames are error frames and the socket stays usable.
 */
const h = useHarness();
const dev = useDevModel(h, 200);

for (const [name, skip] of deploymentTransports())
  describe.skipIf(skip)(`alert.ack over the WebSocket (${name})`, () => {
    const d = useDeployment(h, dev, name);
    let a: Instance;
    let b: Instance;
    let scene: SchoolScene;
    let other: SchoolScene;
    let sessionId: string;

    beforeAll(async () => {
      a = await d.start();
      b = await d.start();
      scene = await makeSchoolScene(h.db.db);
      other = await makeSchoolScene(h.db.db);
      sessionId = (await makeSession(h.db.db, { toolId: scene.tool.id, studentId: scene.student.id, groupId: scene.department.id, classId: scene.cls.id })).id;
    }, 30_000);

    const raise = () =>
      makeExtraction(h.db.db, { sessionId, classId: scene.cls.id, groupId: scene.department.id, severity: "critical", data: { message: "Possible self-harm." } });

    test("a teacher acknowledges: audited, escalation stopped, and the class room sees it on another instance", async () => {
      const alert = await raise();
      // An escalation step queued and not yet sent.
      const [step] = await h.db.db
        .insert(notificationDeliveries)
        .values({
          alertId: alert.id,
          groupId: scene.department.id,
          purpose: "escalation",
          step: 1,
          channel: "email",
          recipient: "lead@district.example.test",
          dedupeKey: `alert:${alert.id}:1`,
          nextAttemptAt: new Date(Date.now() + 60_000),
        })
        .returning();
      const watcher = await connect(b, scene.schoolAdmin);
      expect((await watcher.request({ type: "subscribe", room: `class:${scene.cls.id}` })).type).toBe("ack");
      const teacher = await connect(a, scene.teacher);

      const ack = await teacher.request({ type: "alert.ack", alertId: alert.id });
      expect(ack).toMatchObject({ type: "ack", for: "alert.ack", result: { alert: { id: alert.id, status: "acknowledged", resolvedBy: scene.teacher.id } } });
      const seen = await watcher.next((f) => f.type === "event" && f.event === "alert");
      expect(seen.payload).toMatchObject({ alert: { id: alert.id, status: "acknowledged" } });

      const [row] = await h.db.db.select().from(extractions).where(eq(extractions.id, alert.id));
      expect(row?.status).toBe("acknowledged");
      const audits = await h.db.db
        .select()
        .from(auditLog)
        .where(and(eq(auditLog.targetId, alert.id), eq(auditLog.action, "alert.acknowledge")));
      expect(audits.map((x) => x.actorId)).toEqual([scene.teacher.id]);
      const [stopped] = await h.db.db
        .select()
        .from(notificationDeliveries)
        .where(eq(notificationDeliveries.id, step?.id ?? ""));
      expect(stopped?.status).toBe("cancelled");

      // Again: a no-op, answered the same way (no second audit row, no second event).
      expect(await teacher.request({ type: "alert.ack", alertId: alert.id })).toMatchObject({ type: "ack", result: { alert: { status: "acknowledged" } } });
      const again = await h.db.db
        .select()
        .from(auditLog)
        .where(and(eq(auditLog.targetId, alert.id), eq(auditLog.action, "alert.acknowledge")));
      expect(again).toHaveLength(1);
      teacher.close();
      watcher.close();
    });

    test("a student, a teacher of another class and an admin elsewhere are refused; the socket stays usable", async () => {
      const alert = await raise();
      for (const user of [scene.student, other.teacher, other.schoolAdmin]) {
        const client = await connect(a, user);
        expect(await client.request({ type: "alert.ack", alertId: alert.id })).toMatchObject({ type: "error", code: "NOT_FOUND" });
        expect((await client.request({ type: "ping" })).type).toBe("pong");
        client.close();
      }
      const [row] = await h.db.db.select().from(extractions).where(eq(extractions.id, alert.id));
      expect(row?.status).toBe("open");
    });

    test("bad input is an error frame naming the problem, and the next frame still works", async () => {
      const alert = await raise();
      const teacher = await connect(a, scene.teacher);
      const malformed = await teacher.request({ type: "alert.ack", alertId: "not-a-uuid" });
      expect(malformed).toMatchObject({ type: "error", code: "VALIDATION_FAILED", details: [expect.objectContaining({ path: "alertId" })] });
      expect(await teacher.request({ type: "alert.ack" })).toMatchObject({ type: "error", code: "VALIDATION_FAILED" });
      expect(await teacher.request({ type: "alert.ack", alertId: crypto.randomUUID() })).toMatchObject({ type: "error", code: "NOT_FOUND" });
      // A dismissed alert cannot be acknowledged: the REST route's 409, as a frame.
      const dismissed = await raise();
      await h.db.db.update(extractions).set({ status: "dismissed" }).where(eq(extractions.id, dismissed.id));
      expect(await teacher.request({ type: "alert.ack", alertId: dismissed.id })).toMatchObject({ type: "error", code: "CONFLICT" });
      expect(await teacher.request({ type: "alert.ack", alertId: alert.id })).toMatchObject({ type: "ack", result: { alert: { status: "acknowledged" } } });
      expect(teacher.closed).toBeNull();
      teacher.close();
    });
  });
