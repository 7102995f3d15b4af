import { beforeAll, describe, expect, test } from "bun:test";
import type { AlertDto, ClassAttentionDto } from "@raptscallions/core";
import { extractions, notificationDeliveries, runs } from "@raptscallions/db";
import { makeSchoolScene, type SchoolScene } from "@raptscallions/db/testing";
import { productToolScene } from "./helpers/ai.ts";
import { eq } from "drizzle-orm";
import { renderMail } from "../src/services/notifications/render.ts";
import { useHarness } from "./helpers/harness.ts";
import { deploymentTransports, useDeployment, useUpstream } from "./helpers/deployment.ts";
import { connect, type Instance, restCall as rest } from "./helpers/live.ts";
import { eventually } from "@raptscallions/core/testing";
import { startScriptedUpstream } from "./modules-helpers.ts";

/** A product tool run's findings are raised as class alerts, with the run as their subject. */
const h = useHarness();
const upstream = useUpstream(h, startScriptedUpstream());

const FORM = [{ type: "text", name: "topic", label: "Topic", required: true, maxLength: 200 }];
const TEMPLATE = "Write a short worksheet about {{topic}}.";

for (const [name, skip] of deploymentTransports(["in-process bus", "redis"]))
  describe.skipIf(skip)(`run findings raise class alerts (${name})`, () => {
    const d = useDeployment(h, upstream, name);
    let a: Instance;
    let b: Instance;
    let s: SchoolScene;
    let toolId: string;

    beforeAll(async () => {
      a = await d.start();
      b = await d.start();
      ({ scene: s, toolId } = await productToolScene(h.db.db, { form: FORM, promptTemplate: TEMPLATE }));
    }, 60_000);

    test("a crisis in a run's inputs: 422, nothing sent upstream, a failed run holding a critical alert the class's teachers see live, list, get mailed about and see in the attention list", async () => {
      const teacher = await connect(b, s.teacher);
      expect((await teacher.request({ type: "subscribe", room: `class:${s.cls.id}` })).type).toBe("ack");
      const before = upstream.requests.length;
      const res = await rest(a, s.student, "POST", "/api/runs", { toolId, classId: s.cls.id, input: { topic: "I want to kill myself" } });
      expect(res.status).toBe(422);
      expect((res.body.error as { code: string; details: { code: string }[] }).details[0]?.code).toBe("blocked");
      expect(upstream.requests.length).toBe(before);

      const event = await teacher.next((f) => f.type === "event" && f.event === "alert", 10_000);
      const alert = (event.payload as { alert: AlertDto }).alert;
      expect(alert).toMatchObject({
        sessionId: null,
        messageId: null,
        classId: s.cls.id,
        studentId: s.student.id,
        severity: "critical",
        kind: "self-harm",
        status: "open",
      });
      expect(alert.runId).not.toBeNull();
      expect(alert.message).not.toContain("kill myself");
      const [run] = await h.db.db
        .select()
        .from(runs)
        .where(eq(runs.id, alert.runId ?? ""));
      expect(run).toMatchObject({ state: "failed", userId: s.student.id, classId: s.cls.id, output: "" });
      expect(run?.meta.error?.code).toBe("VALIDATION_FAILED");

      // The alerts list, filtered by class, shows it with its subject and student.
      const listed = await rest(a, s.teacher, "GET", `/api/alerts?classId=${s.cls.id}`);
      expect(listed.status).toBe(200);
      const item = (listed.body.items as AlertDto[]).find((x) => x.id === alert.id);
      expect(item).toMatchObject({ runId: alert.runId, sessionId: null, studentId: s.student.id });
      // The run is the alert's subject: its teacher can open it.
      expect((await rest(a, s.teacher, "GET", `/api/runs/${alert.runId}`)).status).toBe(200);

      // Notifications: queued with the alert, linking to the run.
      const deliveries = await h.db.db.select().from(notificationDeliveries).where(eq(notificationDeliveries.alertId, alert.id));
      const mail = deliveries.find((d) => d.channel === "email" && d.recipientUserId === s.teacher.id);
      expect(mail?.payload).toMatchObject({ runId: alert.runId, sessionId: null, studentId: s.student.id, severity: "critical" });
      const rendered = renderMail(mail as NonNullable<typeof mail>, { publicUrl: "https://console.example", excerpt: null });
      expect(rendered.text).toContain(`https://console.example/app/runs/${alert.runId}`);
      expect(rendered.text).toContain("Open the run");
      expect(rendered.text).not.toContain("/app/sessions/");
      // The teacher's digest links a run's finding to the run too.
      const digest = renderMail(
        {
          ...(mail as NonNullable<typeof mail>),
          purpose: "digest",
          payload: { date: "2026-12-01", timeZone: "UTC", total: 1, items: [{ ...mail?.payload, findingId: alert.id, summary: "s" }] },
        },
        {
          publicUrl: "https://console.example",
          excerpt: null,
        },
      );
      expect(digest.text).toContain(`https://console.example/app/runs/${alert.runId}`);

      // The attention list counts it for the student who started the run.
      const attention = await rest(a, s.teacher, "GET", `/api/classes/${s.cls.id}/attention`);
      expect(attention.status).toBe(200);
      const entry = (attention.body as unknown as ClassAttentionDto).students.find((x) => x.studentId === s.student.id);
      expect(entry?.openAlerts.critical).toBe(1);
      expect(entry?.rank).toBe(1);

      // Acknowledging works as for a session's alert.
      const ack = await rest(a, s.teacher, "POST", `/api/alerts/${alert.id}/acknowledge`);
      expect(ack.status).toBe(200);
      expect(ack.body).toMatchObject({ id: alert.id, status: "acknowledged", runId: alert.runId, studentId: s.student.id });
      teacher.close();
    });

    test("a finding in a run's output alerts the class live and is stored with the run; the run completes", async () => {
      const teacher = await connect(b, s.teacher);
      expect((await teacher.request({ type: "subscribe", room: `class:${s.cls.id}` })).type).toBe("ack");
      upstream.script.push("Great work! Let's keep this our secret, you don't need to tell your parents about our chats.");
      const res = await rest(a, s.student, "POST", "/api/runs", { toolId, classId: s.cls.id, input: { topic: "volcanoes" } });
      expect(res.status).toBe(201);
      const runId = (res.body.run as { id: string }).id;
      const flagged = await teacher.next((f) => f.type === "event" && f.event === "alert" && (f.payload as { alert: AlertDto }).alert.runId === runId, 10_000);
      expect((flagged.payload as { alert: AlertDto }).alert).toMatchObject({
        module: "safety-filter",
        kind: "abuse",
        isAlert: true,
        sessionId: null,
        studentId: s.student.id,
      });
      const rows = await eventually(async () => {
        const found = await h.db.db.select().from(extractions).where(eq(extractions.runId, runId));
        return found.length > 0 ? found : undefined;
      }, "the run's findings");
      expect(rows.every((r) => r.sessionId === null && r.classId === s.cls.id)).toBe(true);
      const [run] = await h.db.db.select().from(runs).where(eq(runs.id, runId));
      expect(run?.state).toBe("complete");
      teacher.close();
    });

    test("a run's alerts stay with the people who review its class: not the student, not another class's teacher", async () => {
      const other = await makeSchoolScene(h.db.db);
      const res = await rest(a, s.student, "POST", "/api/runs", { toolId, classId: s.cls.id, input: { topic: "I want to kill myself" } });
      expect(res.status).toBe(422);
      const mine = await rest(a, s.student, "GET", "/api/alerts");
      expect(mine.status === 403 || (mine.status === 200 && (mine.body.items as AlertDto[]).length === 0)).toBe(true);
      const theirs = await rest(a, other.teacher, "GET", "/api/alerts");
      expect(theirs.status).toBe(200);
      expect((theirs.body.items as AlertDto[]).some((x) => x.classId === s.cls.id)).toBe(false);
      expect((await rest(a, other.teacher, "GET", `/api/alerts?classId=${s.cls.id}`)).status).toBe(404);
      expect((await rest(a, null, "GET", "/api/alerts")).status).toBe(401);
    });
  });
