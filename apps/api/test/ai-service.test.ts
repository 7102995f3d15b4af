import { describe, expect, test } from "bun:test";
import { AppError } from "@raptscallions/core";
import { aiSettings, aiUsage } from "@raptscallions/db";
import { makeMessage, makeSchoolScene, makeSession } from "@raptscallions/db/testing";
import { costOf, createDevModelApp, createGatewayClient, estimateMessagesTokens, estimateTokens, GatewayError, MemoryLimitStore } from "@raptscallions/gateway";
import { eq } from "drizzle-orm";
import { Hono } from "hono";
import { systemClock } from "../src/lib/clock.ts";
import { createMemoryLogger } from "../src/lib/logger.ts";
import { createMetrics } from "../src/lib/metrics.ts";
import { createAiService } from "../src/services/ai/create-ai-service.ts";
import { drain, generationRequest, rejection, settingsFor, usageRowsFor } from "./ai-fixtures.ts";
import { eventually } from "@raptscallions/core/testing";
import { createTestAiService, makeDevModel, pinDevModel } from "./helpers/ai.ts";
import { useHarness } from "./helpers/harness.ts";

const h = useHarness();
// PGlite boots and migrates in seconds; more on a busy machine than bun's 5 s hook default.

/** A service whose dev model records every request body it receives. */
function recordingService(opts: { metrics?: ReturnType<typeof createMetrics> } = {}) {
  const bodies: Record<string, unknown>[] = [];
  const devApp = new Hono().route("/v1", createDevModelApp({ tokensPerSecond: 0 }));
  const client = createGatewayClient({
    baseUrl: "http://dev-model.test/v1",
    fetch: async (url, init) => {
      bodies.push(JSON.parse(String(init.body)) as Record<string, unknown>);
      return devApp.request(url, init);
    },
    firstTokenTimeoutMs: 10_000,
    idleTimeoutMs: 10_000,
    maxRetries: 0,
    retryBaseMs: 5,
  });
  const ai = createAiService({
    db: h.db.db,
    client,
    limits: new MemoryLimitStore(),
    defaultModel: "dev-tutor",
    clock: systemClock,
    logger: createMemoryLogger(),
    metrics: opts.metrics,
  });
  return { ai, bodies };
}

describe("a generation through the dev model", () => {
  test("streams events and finish writes one ai_usage row with tokens and cost from the catalogue prices", async () => {
    const scene = await makeSchoolScene(h.db.db);
    const model = await pinDevModel(h.db.db, scene.district.id, { model: { inputPricePer1k: 0.5, outputPricePer1k: 1.5 } });
    const session = await makeSession(h.db.db, { toolId: scene.tool.id, studentId: scene.student.id, groupId: scene.department.id, classId: scene.cls.id });
    const message = await makeMessage(h.db.db, { sessionId: session.id, seq: 2, role: "assistant", content: "" });
    const metrics = createMetrics();
    const { ai, bodies } = recordingService({ metrics });

    const gen = await ai.start(
      generationRequest(scene, {
        definition: { systemPrompt: "You are a patient maths tutor.", temperature: 0.3, maxOutputTokens: 200 },
        scope: { sessionId: session.id, messageId: message.id },
      }),
    );
    expect(gen.model).toBe(model.id);
    const { events, text, error } = await drain(gen);
    expect(error).toBeUndefined();
    expect(events[0]).toEqual({ type: "start", model: model.id });
    expect(events.filter((e) => e.type === "delta").length).toBeGreaterThan(3);
    const usage = events.find((e) => e.type === "usage");
    expect(usage?.type).toBe("usage");
    expect(events.at(-1)).toEqual({ type: "finish", reason: "stop" });
    expect(text).toContain("one half and one third");

    // The tool's system prompt goes first; temperature and max tokens are passed on.
    expect(bodies).toHaveLength(1);
    const sent = bodies[0] as { messages: { role: string; content: string }[]; temperature: number; max_tokens: number; model: string };
    expect(sent.model).toBe(model.id);
    expect(sent.messages[0]).toEqual({ role: "system", content: "You are a patient maths tutor." });
    expect(sent.messages[1]?.role).toBe("user");
    expect(sent.temperature).toBe(0.3);
    expect(sent.max_tokens).toBe(200);

    const result = await gen.finish("complete", text);
    const inputTokens = estimateMessagesTokens(sent.messages as { content: string }[]);
    const outputTokens = estimateTokens(text);
    expect(result).toMatchObject({ model: model.id, inputTokens, outputTokens, estimated: false, budgetAlerts: [] });
    const expectedUsd = costOf({ inputTokens, outputTokens }, model) / 1_000_000;
    expect(result.costUsd).toBeCloseTo(expectedUsd, 6);
    expect(result.ttftMs).not.toBeNull();

    const rows = await h.db.db.select().from(aiUsage).where(eq(aiUsage.messageId, message.id));
    expect(rows).toHaveLength(1);
    expect(rows[0]).toMatchObject({
      userId: scene.student.id,
      groupId: scene.department.id,
      classId: scene.cls.id,
      toolId: scene.tool.id,
      sessionId: session.id,
      model: model.id,
      inputTokens,
      outputTokens,
      status: "complete",
      estimated: false,
    });
    expect(rows[0]?.costUsd).toBeCloseTo(expectedUsd, 6);
    expect(rows[0]?.latencyMs).toBeGreaterThanOrEqual(0);

    // finish is idempotent: same result, still one row.
    expect(await gen.finish("complete", text)).toEqual(result);
    expect(await h.db.db.select().from(aiUsage).where(eq(aiUsage.messageId, message.id))).toHaveLength(1);

    const counted = await metrics.gatewayCalls.get();
    expect(counted.values.find((v) => v.labels.model === model.id && v.labels.outcome === "complete")?.value).toBe(1);
  });

  test("an empty system prompt sends only the conversation; the model's maxOutputTokens caps the answer", async () => {
    const scene = await makeSchoolScene(h.db.db);
    await pinDevModel(h.db.db, scene.district.id, { model: { maxOutputTokens: 64 } });
    const { ai, bodies } = recordingService();
    const gen = await ai.start(generationRequest(scene, { definition: { systemPrompt: "", maxOutputTokens: 5000 } }));
    await drain(gen);
    await gen.finish("complete", "");
    const sent = bodies[0] as { messages: { role: string }[]; max_tokens: number };
    expect(sent.messages.map((m) => m.role)).toEqual(["user"]);
    expect(sent.max_tokens).toBe(64);
  });
});

describe("model resolution: tool → nearest group → system → AI_DEFAULT_MODEL", () => {
  test("the tool's model wins over every group default", async () => {
    const scene = await makeSchoolScene(h.db.db);
    await pinDevModel(h.db.db, scene.department.id);
    const toolModel = await makeDevModel(h.db.db);
    const { ai } = createTestAiService(h.db);
    const gen = await ai.start(generationRequest(scene, { definition: { model: toolModel.id } }));
    expect(gen.model).toBe(toolModel.id);
    await gen.finish("complete", "");
  });

  test("the nearest group up the tree that names a model wins", async () => {
    const scene = await makeSchoolScene(h.db.db);
    const districtModel = await pinDevModel(h.db.db, scene.district.id);
    const schoolModel = await pinDevModel(h.db.db, scene.school.id);
    await settingsFor(h.db.db, scene.department.id, { requestsPerMinute: 100 }); // settings, but no model
    const { ai } = createTestAiService(h.db);
    const gen = await ai.start(generationRequest(scene));
    expect(gen.model).toBe(schoolModel.id);
    expect(gen.model).not.toBe(districtModel.id);
    await gen.finish("complete", "");
  });

  test("with no tool or group model, the system settings decide, then AI_DEFAULT_MODEL", async () => {
    const scene = await makeSchoolScene(h.db.db);
    const systemModel = await makeDevModel(h.db.db);
    const envModel = await makeDevModel(h.db.db);
    class Rollback extends Error {}
    // The system row is shared by every test on a database: change it only inside a transaction
    // that is rolled back.
    const inTransaction = h.db.db.transaction(async (tx) => {
      const [existing] = await tx.select().from(aiSettings).where(eq(aiSettings.isSystem, true));
      if (existing) await tx.update(aiSettings).set({ defaultModel: systemModel.id }).where(eq(aiSettings.id, existing.id));
      else await tx.insert(aiSettings).values({ isSystem: true, defaultModel: systemModel.id });
      const { ai } = createTestAiService(tx, { defaultModel: envModel.id });
      const bySystem = await ai.start(generationRequest(scene));
      expect(bySystem.model).toBe(systemModel.id);

      await tx.update(aiSettings).set({ defaultModel: null }).where(eq(aiSettings.isSystem, true));
      const byEnv = await ai.start(generationRequest(scene));
      expect(byEnv.model).toBe(envModel.id);

      await tx.delete(aiSettings).where(eq(aiSettings.isSystem, true));
      expect((await ai.start(generationRequest(scene))).model).toBe(envModel.id);
      throw new Rollback();
    });
    expect(await rejection(inTransaction)).toBeInstanceOf(Rollback);
  });

  test("an inactive or unknown model is refused with MODEL_UNAVAILABLE before any upstream call, not replaced", async () => {
    const scene = await makeSchoolScene(h.db.db);
    await pinDevModel(h.db.db, scene.district.id); // an active fallback the service must not silently use
    const inactive = await makeDevModel(h.db.db, { active: false });
    const test = createTestAiService(h.db);

    const err = await rejection(test.ai.start(generationRequest(scene, { definition: { model: inactive.id } })));
    expect(err).toBeInstanceOf(AppError);
    expect(err.code).toBe("MODEL_UNAVAILABLE");
    expect(err.status).toBe(422);
    expect(err.details).toMatchObject({ model: inactive.id, reason: "inactive", source: { level: "tool" } });

    const schoolInactive = await makeDevModel(h.db.db, { active: false });
    await settingsFor(h.db.db, scene.school.id, { defaultModel: schoolInactive.id });
    const fromGroup = await rejection(test.ai.start(generationRequest(scene)));
    expect(fromGroup.details).toMatchObject({ model: schoolInactive.id, reason: "inactive", source: { level: "group", depth: 1 } });

    const unknown = await rejection(test.ai.start(generationRequest(scene, { definition: { model: "no-such-model" } })));
    expect(unknown.details).toMatchObject({ model: "no-such-model", reason: "unknown" });

    expect(test.streamEnds).toHaveLength(0);
    expect((await test.limits.usage({ userId: scene.student.id, groupIds: [], now: Date.now() })).requestsLastMinute).toBe(0);
  });

  test("definition.fallbackModels are tried in order before the first token; inactive ones are skipped", async () => {
    const scene = await makeSchoolScene(h.db.db);
    await pinDevModel(h.db.db, scene.district.id);
    const primary = await makeDevModel(h.db.db, { behaviour: "dev-fail-before" });
    const inactive = await makeDevModel(h.db.db, { active: false });
    const fallback = await makeDevModel(h.db.db, { inputPricePer1k: 0.25, outputPricePer1k: 0.75 });
    const { ai } = createTestAiService(h.db, { maxRetries: 0 });
    const gen = await ai.start(generationRequest(scene, { definition: { model: primary.id, fallbackModels: [inactive.id, fallback.id] } }));
    expect(gen.model).toBe(primary.id);
    const { events, text, error } = await drain(gen);
    expect(error).toBeUndefined();
    expect(events[0]).toEqual({ type: "start", model: fallback.id });
    const result = await gen.finish("complete", text);
    expect(result.model).toBe(fallback.id);
    const [row] = await usageRowsFor(h.db.db, scene.student.id);
    expect(row?.model).toBe(fallback.id);
    expect(row?.costUsd).toBeCloseTo(costOf(result, fallback) / 1e6, 6);
  });

  test("a scope whose group does not exist is a 404, not a crash", async () => {
    const scene = await makeSchoolScene(h.db.db);
    const { ai } = createTestAiService(h.db);
    const err = await rejection(ai.start(generationRequest(scene, { scope: { groupId: crypto.randomUUID() } })));
    expect(err.code).toBe("NOT_FOUND");
  });
});

describe("streams that do not complete", () => {
  test("a stopped stream (signal aborted mid-stream) settles with an estimate and records `stopped`", async () => {
    const scene = await makeSchoolScene(h.db.db);
    const model = await pinDevModel(h.db.db, scene.district.id, { model: { tokensPerSecond: 50 } });
    const test = createTestAiService(h.db);
    const controller = new AbortController();
    const gen = await test.ai.start(generationRequest(scene, { signal: controller.signal }));
    let text = "";
    let deltas = 0;
    const thrown = await rejection(
      (async () => {
        for await (const ev of gen.events) {
          if (ev.type !== "delta") continue;
          text += ev.text;
          if (++deltas === 3) controller.abort(new DOMException("Stopped by the student", "AbortError"));
        }
      })(),
    );
    expect(thrown.name).toBe("AbortError");
    const result = await gen.finish("stopped", text);
    expect(result.estimated).toBe(true);
    expect(result.outputTokens).toBe(estimateTokens(text));
    expect(result.inputTokens).toBeGreaterThan(0);
    expect(result.costUsd).toBeCloseTo(costOf(result, model) / 1e6, 6);

    const rows = await usageRowsFor(h.db.db, scene.student.id);
    expect(rows).toHaveLength(1);
    expect(rows[0]).toMatchObject({ status: "stopped", estimated: true, outputTokens: result.outputTokens });
    // The upstream saw the connection close, and the day's tokens hold the actual, not the allowance.
    await eventually(() => test.streamEnds.some((e) => e.outcome === "aborted"), "the dev model noticing the abort");
    const usage = await test.limits.usage({ userId: scene.student.id, groupIds: [scene.district.id], now: Date.now() });
    expect(usage.tokensToday).toBe(result.inputTokens + result.outputTokens);
    expect(usage.spentThisMonthMicros[scene.district.id]).toBe(Math.round(result.costUsd * 1e6));
  });

  test("an upstream failure mid-stream (dev-fail-mid) surfaces as UPSTREAM_ERROR and finish records `failed`", async () => {
    const scene = await makeSchoolScene(h.db.db);
    await pinDevModel(h.db.db, scene.district.id, { model: { behaviour: "dev-fail-mid" } });
    const { ai } = createTestAiService(h.db);
    const gen = await ai.start(generationRequest(scene));
    const { text, error } = await drain(gen);
    expect(error).toBeInstanceOf(GatewayError);
    expect((error as GatewayError).code).toBe("UPSTREAM_ERROR");
    expect((error as GatewayError).afterFirstToken).toBe(true);
    expect(text.length).toBeGreaterThan(0);
    const result = await gen.finish("failed", text);
    expect(result).toMatchObject({ estimated: true, outputTokens: estimateTokens(text) });
    const rows = await usageRowsFor(h.db.db, scene.student.id);
    expect(rows).toHaveLength(1);
    expect(rows[0]).toMatchObject({ status: "failed", estimated: true });
  });

  test("a call refused upstream before any token costs nothing and is still recorded", async () => {
    const scene = await makeSchoolScene(h.db.db);
    await pinDevModel(h.db.db, scene.district.id, { model: { behaviour: "dev-fail-before" } });
    const test = createTestAiService(h.db, { maxRetries: 0 });
    const gen = await test.ai.start(generationRequest(scene));
    const { error } = await drain(gen);
    expect((error as GatewayError).code).toBe("UPSTREAM_ERROR");
    const result = await gen.finish("failed", "");
    expect(result).toMatchObject({ inputTokens: 0, outputTokens: 0, costUsd: 0, estimated: true });
    const usage = await test.limits.usage({ userId: scene.student.id, groupIds: [scene.district.id], now: Date.now() });
    expect(usage.tokensToday).toBe(0);
    expect(usage.spentThisMonthMicros[scene.district.id]).toBe(0);
    expect((await usageRowsFor(h.db.db, scene.student.id))[0]).toMatchObject({ status: "failed", costUsd: 0 });
  });

  test("finish before the stream ended cancels the upstream request and settles what was used", async () => {
    const scene = await makeSchoolScene(h.db.db);
    await pinDevModel(h.db.db, scene.district.id, { model: { tokensPerSecond: 50 } });
    const test = createTestAiService(h.db);
    const gen = await test.ai.start(generationRequest(scene));
    const iterator = gen.events[Symbol.asyncIterator]();
    let text = "";
    for (let deltas = 0; deltas < 2; ) {
      const next = await iterator.next();
      if (next.done) throw new Error("stream ended early");
      if (next.value.type === "delta") {
        text += next.value.text;
        deltas++;
      }
    }
    const result = await gen.finish("interrupted", text);
    expect(result.estimated).toBe(true);
    expect(result.outputTokens).toBe(estimateTokens(text));
    await eventually(() => test.streamEnds.some((e) => e.outcome === "aborted"), "the upstream request being cancelled");
    expect((await usageRowsFor(h.db.db, scene.student.id))[0]?.status).toBe("interrupted");
  });

  test("a generation finished without ever being read sends nothing upstream and costs nothing", async () => {
    const scene = await makeSchoolScene(h.db.db);
    await pinDevModel(h.db.db, scene.district.id);
    const test = createTestAiService(h.db);
    const gen = await test.ai.start(generationRequest(scene));
    const result = await gen.finish("failed", "");
    expect(result).toMatchObject({ inputTokens: 0, outputTokens: 0, costUsd: 0 });
    expect(test.streamEnds).toHaveLength(0);
  });
});
