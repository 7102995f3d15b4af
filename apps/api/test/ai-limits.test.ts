import { describe, expect, test } from "bun:test";
import { LimitExceededError } from "@raptscallions/core";
import { addClassMember, makeSchoolScene, makeUser } from "@raptscallions/db/testing";
import { closeLimitStoreConnections, limitStoreFlavours } from "../../../packages/gateway/test/limit-store-flavours.ts";
import { drain, generationRequest, rejection, settingsFor, usageRowsFor } from "./ai-fixtures.ts";
import { createTestAiService, pinDevModel } from "./helpers/ai.ts";
import { useHarness } from "./helpers/harness.ts";

const h = useHarness();
h.beforeClose(closeLimitStoreConnections);

describe("per-user limits from ai_settings (nearest setting wins, per limit)", () => {
  test("the (N+1)th start within a minute is refused: 429 RATE_LIMITED with Retry-After and the limit", async () => {
    const scene = await makeSchoolScene(h.db.db);
    await pinDevModel(h.db.db, scene.district.id, { settings: { requestsPerMinute: 3 } });
    const { ai, streamEnds } = createTestAiService(h.db);
    for (let i = 0; i < 3; i++) {
      const gen = await ai.start(generationRequest(scene));
      await drain(gen);
      await gen.finish("complete", "");
    }
    const err = await rejection(ai.start(generationRequest(scene)));
    expect(err).toBeInstanceOf(LimitExceededError);
    expect(err.code).toBe("RATE_LIMITED");
    expect(err.status).toBe(429);
    expect(err.retryAfterSeconds).toBeGreaterThanOrEqual(1);
    expect(err.details).toMatchObject({ limit: "rpm", userId: scene.student.id, max: 3 });
    // Refused before the upstream call, and no usage row for the refusal.
    expect(streamEnds).toHaveLength(3);
    expect(await usageRowsFor(h.db.db, scene.student.id)).toHaveLength(3);
    // Limits are per user: a classmate still gets through.
    const other = await ai.start(generationRequest(scene, { scope: { userId: scene.otherStudent.id } }));
    await other.finish("complete", "");
  });

  test("a group's own limit overrides its ancestors' (nearest wins), the system row is the fallback", async () => {
    const scene = await makeSchoolScene(h.db.db);
    await pinDevModel(h.db.db, scene.district.id, { settings: { requestsPerMinute: 1, requestsPerHour: 2 } });
    await settingsFor(h.db.db, scene.department.id, { requestsPerMinute: 5 });
    const { ai } = createTestAiService(h.db);
    // rpm 5 from the department wins over the district's 1; rph 2 still comes from the district.
    for (let i = 0; i < 2; i++) await (await ai.start(generationRequest(scene))).finish("complete", "");
    const err = await rejection(ai.start(generationRequest(scene)));
    expect(err.details).toMatchObject({ limit: "rph", max: 2 });
  });

  test("tokens per day: a start whose estimate does not fit is refused with LIMIT_EXCEEDED", async () => {
    const scene = await makeSchoolScene(h.db.db);
    // The estimate is the prompt plus the model's output allowance (512 tokens here).
    await pinDevModel(h.db.db, scene.district.id, { settings: { tokensPerDay: 400 } });
    const { ai } = createTestAiService(h.db);
    const err = await rejection(ai.start(generationRequest(scene)));
    expect(err.code).toBe("LIMIT_EXCEEDED");
    expect(err.status).toBe(429);
    expect(err.details).toMatchObject({ limit: "tokens_per_day", max: 400 });
    // A tool that asks for less output fits.
    const gen = await ai.start(generationRequest(scene, { definition: { maxOutputTokens: 100 } }));
    await drain(gen);
    await gen.finish("complete", "");
  });
});

describe("group budgets (every ancestor's monthly budget, the strictest refuses)", () => {
  test("a tiny monthly budget on an ancestor refuses with BUDGET_EXCEEDED naming that group", async () => {
    const scene = await makeSchoolScene(h.db.db);
    await pinDevModel(h.db.db, scene.district.id);
    // 512 output tokens at $0.002/1k alone is ~$0.001: more than a $0.0005 budget.
    await settingsFor(h.db.db, scene.school.id, { monthlyBudgetUsd: 0.0005 });
    const { ai, streamEnds } = createTestAiService(h.db);
    const err = await rejection(ai.start(generationRequest(scene)));
    expect(err.code).toBe("BUDGET_EXCEEDED");
    expect(err.status).toBe(429);
    expect(err.retryAfterSeconds).toBeGreaterThanOrEqual(1);
    expect(err.details).toMatchObject({ limit: "monthly_budget", groupId: scene.school.id, max: 500 });
    expect(streamEnds).toHaveLength(0);
  });

  test("crossing a group's alert threshold is reported by finish", async () => {
    const scene = await makeSchoolScene(h.db.db);
    await pinDevModel(h.db.db, scene.district.id, { settings: { monthlyBudgetUsd: 0.001, alertThreshold: 0.1 } });
    const { ai } = createTestAiService(h.db);
    // 50 output tokens: a reservation of ~$0.00013 fits the $0.001 budget; the actual crosses $0.0001.
    const gen = await ai.start(generationRequest(scene, { definition: { maxOutputTokens: 50 } }));
    const { text } = await drain(gen);
    const result = await gen.finish("complete", text);
    expect(result.costUsd).toBeGreaterThanOrEqual(0.0001);
    expect(result.budgetAlerts).toEqual([{ groupId: scene.district.id, usedUsd: result.costUsd, budgetUsd: 0.001, threshold: expect.closeTo(0.1, 5) }]);
  });
});

for (const { name, instances: makeStores, skip } of limitStoreFlavours()) {
  describe.skipIf(skip)(`concurrency (${name} limit store)`, () => {
    test("many simultaneous starts against a small budget never overshoot it", async () => {
      const scene = await makeSchoolScene(h.db.db);
      // One output token per call keeps the estimate small and fixed: prompt + 1 token.
      await pinDevModel(h.db.db, scene.district.id, { model: { maxOutputTokens: 1 } });
      const budgetMicros = 1_000;
      await settingsFor(h.db.db, scene.school.id, { monthlyBudgetUsd: budgetMicros / 1e6 });
      const storeFor = makeStores();
      // Three API instances sharing one store (one Redis), as behind a load balancer.
      const instances = [0, 1, 2].map((i) => createTestAiService(h.db, { limits: storeFor(i) }));
      const students = await Promise.all(
        Array.from({ length: 8 }, async () => {
          const user = await makeUser(h.db.db);
          await addClassMember(h.db.db, scene.cls.id, user.id, "student");
          return user;
        }),
      );

      const attempts = 60;
      const outcomes = await Promise.allSettled(
        Array.from({ length: attempts }, (_, i) => {
          const instance = instances[i % instances.length];
          const student = students[i % students.length];
          if (!instance || !student) throw new Error("unreachable");
          return instance.ai.start(generationRequest(scene, { scope: { userId: student.id } }));
        }),
      );
      const admitted = outcomes.flatMap((o) => (o.status === "fulfilled" ? [o.value] : []));
      const refused = outcomes.flatMap((o) => (o.status === "rejected" ? [o.reason as unknown] : []));
      expect(refused.every((e) => e instanceof LimitExceededError && e.code === "BUDGET_EXCEEDED")).toBe(true);
      expect(refused.length).toBeGreaterThan(0);
      expect(admitted.length).toBeGreaterThan(0);

      const store = storeFor(0);
      const now = Date.now();
      const reserved = (await store.usage({ userId: students[0]?.id ?? "", groupIds: [scene.school.id], now })).spentThisMonthMicros[scene.school.id];
      // Atomic admission: the sum of admitted estimates stays within the budget...
      expect(reserved).toBeLessThanOrEqual(budgetMicros);
      // ...and is not refused early: one more estimate would not have fitted.
      const perCall = (reserved ?? 0) / admitted.length;
      expect((reserved ?? 0) + perCall).toBeGreaterThan(budgetMicros);

      // Settling to actual usage (at most the estimate here) keeps spend within the budget.
      const results = await Promise.all(
        admitted.map(async (gen) => {
          const { text } = await drain(gen);
          return gen.finish("complete", text);
        }),
      );
      const spent = (await store.usage({ userId: students[0]?.id ?? "", groupIds: [scene.school.id], now })).spentThisMonthMicros[scene.school.id];
      const recorded = results.reduce((sum, r) => sum + Math.round(r.costUsd * 1e6), 0);
      expect(spent).toBe(recorded);
      expect(spent).toBeLessThanOrEqual(budgetMicros);
    });
  });
}
