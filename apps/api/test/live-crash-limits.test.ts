import { beforeAll, describe, expect, test } from "bun:test";
import type { UsageSummary } from "@raptscallions/core";
import { aiUsage, messages, runs } from "@raptscallions/db";
import { makeSchoolScene, makeSession, makeTool, type SchoolScene } from "@raptscallions/db/testing";
import type { LimitStore } from "@raptscallions/gateway";
import { eq } from "drizzle-orm";
import { closeLimitStoreConnections, limitStoreFlavours } from "../../../packages/gateway/test/limit-store-flavours.ts";
import { reservationSubject } from "../src/lib/ai-service.ts";
import { generationRequest, settingsFor } from "./ai-fixtures.ts";
import { createTestAiService, pinDevModel } from "./helpers/ai.ts";
import { useHarness } from "./helpers/harness.ts";
import { deploymentTransports, type TransportName, useDeployment, useDevModel } from "./helpers/deployment.ts";
import { connect, type Instance, makeStaleAnswer, restCall, sweepOn, textFromDeltas } from "./helpers/live.ts";

/**
 * An instance dies mid-answer (or mid-run) holding a limits reservation: the estimate, with the
 * whole output allowance, charged to the student's day and every group's month. The sweeper on
 * another instance settles it to what the call consumed, once, however many sweepers recover it
 * and even when the dead instance comes back — on the in-process store, Redis and a Redis Cluster.
 *
 * The dead instance is one that stopped proving itself alive: its heartbeats and checkpoints are
 * switched off and its upstream stalls after a few tokens (`dev-stall`), so its row goes stale
 * exactly as a killed process's does, with its text only in the room's replay buffer. It is then
 * shut down ("comes back"): its own late settle must change nothing. The SIGKILL of a real process
 * is in live-crash.test.ts (Postgres + Redis).
 */
const h = useHarness();
const dev = useDevModel(h, 200);
h.beforeClose(closeLimitStoreConnections);

/**
 * The limit store every instance of a deployment shares: the in-process one, or one on the
 * deployment's Redis or Redis Cluster (the same flavours the gateway's limits suite runs on).
 */
function limitStoreFor(transport: TransportName): LimitStore {
  const flavour = limitStoreFlavours().find((f) => f.name === (transport === "in-process bus" ? "memory" : transport));
  if (!flavour) throw new Error(`no limit store for ${transport}`);
  return flavour.instances()(0);
}

// Never heart-beats nor checkpoints after its answer started: to every other instance it is dead.
const FROZEN = { heartbeatMs: 3_600_000, checkpointMs: 3_600_000, checkpointEvents: 1_000_000 };
const STALE_AFTER_MS = 300;

for (const [name, skip] of deploymentTransports())
  describe.skipIf(skip)(`a crashed call's reservation is settled by the sweeper (${name})`, () => {
    let limits: LimitStore;
    const d = useDeployment(h, dev, name, { limits: () => (limits = limitStoreFor(name)) });
    let b: Instance;
    let c: Instance;

    beforeAll(async () => {
      b = await d.start();
      c = await d.start();
    }, 60_000);

    /** An instance that will stop heart-beating once its call streams (see FROZEN). */
    function frozenInstance() {
      return d.start({ live: FROZEN });
    }

    /** Two sweepers at once on two instances, as overlapping job runs would (only one may finalise). */
    async function sweepTwice() {
      await Bun.sleep(STALE_AFTER_MS + 100);
      const sweep = (i: Instance) => sweepOn(i, STALE_AFTER_MS);
      await Promise.all([sweep(b), sweep(c)]);
    }

    const figures = (scene: SchoolScene) => limits.usage({ userId: scene.student.id, groupIds: [scene.school.id, scene.district.id], now: Date.now() });

    test("a chat answer: the student refused for tokens nobody used is admitted again, the day and month hold what the usage report says, once", async () => {
      const scene = await makeSchoolScene(h.db.db);
      // Room for one reservation (prompt + the 512-token output allowance) a day, not two.
      await pinDevModel(h.db.db, scene.district.id, { model: { behaviour: "dev-stall" }, settings: { tokensPerDay: 900 } });
      const a = await frozenInstance();
      const session = await makeSession(h.db.db, { toolId: scene.tool.id, studentId: scene.student.id, groupId: scene.department.id, classId: scene.cls.id });
      const room = `session:${session.id}`;
      const watcher = await connect(b, scene.teacher);
      await watcher.request({ type: "subscribe", room, lastOffset: 0 });

      const sent = await restCall(a, scene.student, "POST", `/api/sessions/${session.id}/messages`, { clientMessageId: "c1", content: "Explain diffusion" });
      expect(sent.status).toBe(201);
      const answerId = (sent.body.answer as { id: string }).id;
      // A few tokens reach the watchers, then the upstream stalls and the instance goes quiet.
      await watcher.next((f) => f.type === "event" && f.event === "message.delta", 10_000);
      const reserved = await figures(scene);
      expect(reserved.tokensToday).toBeGreaterThan(512);
      expect(reserved.spentThisMonthMicros[scene.school.id]).toBeGreaterThan(0);

      // While the estimate stays charged, the student is refused in another session.
      const other = await makeSession(h.db.db, { toolId: scene.tool.id, studentId: scene.student.id, groupId: scene.department.id, classId: scene.cls.id });
      const refused = await restCall(b, scene.student, "POST", `/api/sessions/${other.id}/messages`, { clientMessageId: "c2", content: "And osmosis?" });
      expect(refused.status).toBe(429);
      expect((refused.body.error as { code: string }).code).toBe("LIMIT_EXCEEDED");

      await sweepTwice();
      const [row] = await h.db.db.select().from(messages).where(eq(messages.id, answerId));
      expect(row?.state).toBe("interrupted");
      expect(row?.content).toBe(textFromDeltas(watcher.frames, answerId));
      expect(row?.content.length).toBeGreaterThan(0);
      const usageRows = await h.db.db.select().from(aiUsage).where(eq(aiUsage.messageId, answerId));
      expect(usageRows).toHaveLength(1);
      const usage = usageRows[0];
      if (!usage) throw new Error("no usage row");
      expect(usage).toMatchObject({ status: "interrupted", estimated: true });
      expect(usage.outputTokens).toBeGreaterThan(0);

      // The day and the month now hold what the call consumed, as the usage report counts it.
      const recovered = await figures(scene);
      expect(recovered.tokensToday).toBe(usage.inputTokens + usage.outputTokens);
      expect(recovered.tokensToday).toBeLessThan(reserved.tokensToday);
      const costMicros = Math.round(usage.costUsd * 1e6);
      expect(recovered.spentThisMonthMicros[scene.school.id]).toBe(costMicros);
      expect(recovered.spentThisMonthMicros[scene.district.id]).toBe(costMicros);
      const report = await restCall(b, scene.student, "GET", `/api/usage/summary?userId=${scene.student.id}`);
      expect(report.status).toBe(200);
      const totals = (report.body as unknown as UsageSummary).totals;
      expect(totals).toMatchObject({ requests: 1, inputTokens: usage.inputTokens, outputTokens: usage.outputTokens, estimatedRequests: 1 });

      // Nothing is left to settle: a third recoverer, and the dead instance coming back, change nothing.
      expect(await c.deps.ai.settleAbandoned(reservationSubject({ messageId: answerId }) ?? "", { tokens: 0, costMicros: 0 })).toBeNull();
      await a.stop();
      expect(await figures(scene)).toMatchObject({ tokensToday: recovered.tokensToday, spentThisMonthMicros: recovered.spentThisMonthMicros });
      // …nor does its late finalisation add a second usage row: the sweeper's is the call's one.
      expect(await h.db.db.select().from(aiUsage).where(eq(aiUsage.messageId, answerId))).toHaveLength(1);

      // The student is admitted again (a model that answers, under the same daily allowance).
      await pinDevModel(h.db.db, scene.district.id, { settings: { tokensPerDay: 900 } });
      const again = await restCall(b, scene.student, "POST", `/api/sessions/${other.id}/messages`, { clientMessageId: "c3", content: "And osmosis?" });
      expect(again.status).toBe(201);
      await b.app.realtime.runner.settled();
      watcher.close();
    }, 60_000);

    test("an answer whose instance died between reserving and its first write: the whole estimate is given back; a call that ended keeps nothing", async () => {
      const scene = await makeSchoolScene(h.db.db);
      await pinDevModel(h.db.db, scene.district.id);
      const session = await makeSession(h.db.db, { toolId: scene.tool.id, studentId: scene.student.id, groupId: scene.department.id, classId: scene.cls.id });
      await h.db.db.insert(messages).values({ sessionId: session.id, seq: 1, role: "user", content: "What is a cell wall?" });
      // What such an instance leaves: its answer row, streaming, no model recorded, a stale heartbeat…
      const answerId = (await makeStaleAnswer(h.db.db, { sessionId: session.id, seq: 2 })).id;
      // …and the reservation its AI service made for it (the call is admitted, then never read nor finished).
      const scope = { userId: scene.student.id, groupId: session.groupId, classId: scene.cls.id, toolId: scene.tool.id, toolVersion: 1 };
      await b.deps.ai.start({
        scope: { ...scope, sessionId: session.id, assignmentId: null, runId: null, messageId: answerId },
        definition: { systemPrompt: "You are a helpful tutor." },
        messages: [{ role: "user", content: "What is a cell wall?" }],
        signal: new AbortController().signal,
      });
      expect((await figures(scene)).tokensToday).toBeGreaterThan(512);

      await sweepTwice();
      const [row] = await h.db.db.select().from(messages).where(eq(messages.id, answerId));
      expect(row?.state).toBe("interrupted");
      // Nothing was sent upstream, so nothing is counted: no usage row, and the day and month are back at zero.
      expect(await h.db.db.select().from(aiUsage).where(eq(aiUsage.messageId, answerId))).toHaveLength(0);
      expect(await figures(scene)).toMatchObject({ tokensToday: 0, spentThisMonthMicros: { [scene.school.id]: 0, [scene.district.id]: 0 } });

      // A call that ends normally drops what it kept: there is nothing for a sweeper to find.
      const messageId = crypto.randomUUID();
      const done = await c.deps.ai.start({
        scope: { ...scope, sessionId: session.id, assignmentId: null, runId: null, messageId },
        definition: { systemPrompt: "You are a helpful tutor." },
        messages: [{ role: "user", content: "Thanks!" }],
        signal: new AbortController().signal,
      });
      expect(await limits.unsettled(reservationSubject({ messageId }) ?? "")).not.toBeNull();
      let text = "";
      for await (const ev of done.events) if (ev.type === "delta") text += ev.text;
      const result = await done.finish("complete", text);
      expect(await limits.unsettled(reservationSubject({ messageId }) ?? "")).toBeNull();
      expect(await b.deps.ai.settleAbandoned(reservationSubject({ messageId }) ?? "", { tokens: 0, costMicros: 0 })).toBeNull();
      expect((await figures(scene)).tokensToday).toBe(result.inputTokens + result.outputTokens);
    }, 60_000);

    test("a product tool run: its estimate is given back down to what it streamed, once", async () => {
      const scene = await makeSchoolScene(h.db.db);
      await pinDevModel(h.db.db, scene.district.id, { model: { behaviour: "dev-stall" } });
      const tool = await makeTool(h.db.db, scene.school.id, {
        kind: "product",
        createdBy: scene.teacher.id,
        definition: { form: [{ type: "text", name: "topic", label: "Topic" }], promptTemplate: "Write a worksheet about {{topic}}." },
      });
      const a = await frozenInstance();
      const res = await restCall(a, scene.student, "POST", "/api/runs", { toolId: tool.id, classId: scene.cls.id, input: { topic: "tides" } });
      expect(res.status).toBe(201);
      const runId = (res.body.run as { id: string }).id;
      const at = res.body.room as { name: string; epoch: string | null; offset: number };
      const watcher = await connect(b, scene.teacher);
      await watcher.request({ type: "subscribe", room: at.name, lastOffset: at.offset, ...(at.epoch ? { epoch: at.epoch } : {}) });
      await watcher.next((f) => f.type === "event" && f.event === "run.delta", 10_000);
      const reserved = await figures(scene);
      expect(reserved.tokensToday).toBeGreaterThan(512);

      await sweepTwice();
      const [row] = await h.db.db.select().from(runs).where(eq(runs.id, runId));
      expect(row?.state).toBe("interrupted");
      const usageRows = await h.db.db.select().from(aiUsage).where(eq(aiUsage.runId, runId));
      expect(usageRows).toHaveLength(1);
      const usage = usageRows[0];
      if (!usage) throw new Error("no usage row");
      const recovered = await figures(scene);
      expect(recovered.tokensToday).toBe(usage.inputTokens + usage.outputTokens);
      expect(recovered.spentThisMonthMicros[scene.district.id]).toBe(Math.round(usage.costUsd * 1e6));

      await a.stop();
      expect(await figures(scene)).toMatchObject({ tokensToday: recovered.tokensToday, spentThisMonthMicros: recovered.spentThisMonthMicros });
      expect(await h.db.db.select().from(aiUsage).where(eq(aiUsage.runId, runId))).toHaveLength(1);
      watcher.close();
    }, 60_000);
  });

describe("settling an abandoned reservation above its estimate", () => {
  test("reports the budget alert the correction crosses, in the form the runner records", async () => {
    const scene = await makeSchoolScene(h.db.db);
    await pinDevModel(h.db.db, scene.district.id);
    // $1 a month for the school, alert at half: the estimate stays under it, the correction crosses it.
    await settingsFor(h.db.db, scene.school.id, { monthlyBudgetUsd: 1, alertThreshold: 0.5 });
    const { ai, limits } = createTestAiService(h.db);
    const messageId = crypto.randomUUID();
    await ai.start(generationRequest(scene, { scope: { messageId } }));
    const subject = reservationSubject({ messageId }) ?? "";
    const kept = await limits.unsettled(subject);
    expect(kept?.estimate.costMicros).toBeLessThan(500_000);
    const settled = await ai.settleAbandoned(subject, { tokens: 1_000, costMicros: 600_000 });
    expect(settled?.budgetAlerts).toEqual([{ groupId: scene.school.id, usedUsd: 0.6, budgetUsd: 1, threshold: 0.5 }]);
    expect(await ai.settleAbandoned(subject, { tokens: 1_000, costMicros: 600_000 })).toBeNull();
  });
});
