// The AI plan's rows read with a chat turn's session (on the student's own scope) instead of by
// the AI service: the same plan, and the service falls back to its own read when they do not fit.
import { describe, expect, test } from "bun:test";
import { makeSchoolScene, makeSession, makeTool } from "@raptscallions/db/testing";
import { loadActor } from "../src/access/actor.ts";
import type { AiPlanRows } from "../src/lib/ai-service.ts";
import { loadAiPlan, planFromRows, planRowsCover } from "../src/services/ai/load-plan.ts";
import { reachOf } from "../src/services/context.ts";
import { loadSessionForSend } from "../src/services/live/session-for-send.ts";
import { generationRequest, rejection, settingsFor } from "./ai-fixtures.ts";
import { createTestAiService, makeDevModel, pinDevModel } from "./helpers/ai.ts";
import { useHarness } from "./helpers/harness.ts";

const h = useHarness();

async function studentTurnRead(scene: Awaited<ReturnType<typeof makeSchoolScene>>, sessionId: string, defaultModel: string) {
  const actor = await loadActor(h.db.db, scene.student.id);
  if (!actor) throw new Error("no actor");
  return loadSessionForSend(h.db.scoped(reachOf(actor)), actor, sessionId, "no-such-client-id", { defaultModel });
}

describe("the AI plan's rows read with the session", () => {
  test("give the plan the service's own read gives, on the student's scope", async () => {
    const scene = await makeSchoolScene(h.db.db);
    const schoolModel = await pinDevModel(h.db.db, scene.school.id);
    await settingsFor(h.db.db, scene.department.id, { requestsPerMinute: 7, monthlyBudgetUsd: 12.5 });
    const primary = await makeDevModel(h.db.db);
    const fallback = await makeDevModel(h.db.db);
    const envModel = await makeDevModel(h.db.db);
    const tool = await makeTool(h.db.db, scene.school.id, { definition: { model: primary.id, fallbackModels: [fallback.id, "not-a-model", ""] } });

    for (const [toolId, toolModel, fallbackModels] of [
      [tool.id, primary.id, [fallback.id, "not-a-model"]],
      [scene.tool.id, null, []],
    ] as const) {
      const session = await makeSession(h.db.db, { toolId, studentId: scene.student.id, groupId: scene.department.id, classId: scene.cls.id });
      const read = await studentTurnRead(scene, session.id, envModel.id);
      const rows = read.aiPlanRows;
      expect(rows).toBeDefined();
      const input = { groupId: scene.department.id, toolModel, fallbackModels, envDefault: envModel.id };
      expect(planRowsCover(rows as AiPlanRows, input)).toBe(true);
      const own = await loadAiPlan(h.db.db, input);
      expect(planFromRows(rows, input)).toEqual(own);
      expect(own.model.id).toBe(toolModel ?? schoolModel.id);
      expect(own.limits.requestsPerMinute).toBe(7);
    }
  });

  test("a read for other models (another environment default) does not cover the plan", async () => {
    const scene = await makeSchoolScene(h.db.db);
    const session = await makeSession(h.db.db, { toolId: scene.tool.id, studentId: scene.student.id, groupId: scene.department.id });
    const read = await studentTurnRead(scene, session.id, "env-model-a");
    const rows = read.aiPlanRows as AiPlanRows;
    expect(planRowsCover(rows, { groupId: scene.department.id, toolModel: null, envDefault: "env-model-a" })).toBe(true);
    expect(planRowsCover(rows, { groupId: scene.department.id, toolModel: null, envDefault: "env-model-b" })).toBe(false);
    expect(planRowsCover(rows, { groupId: scene.department.id, toolModel: "named-by-a-newer-version", envDefault: "env-model-a" })).toBe(false);
  });

  test("the service plans from rows that cover the call, and reads its own when they do not", async () => {
    const scene = await makeSchoolScene(h.db.db);
    const model = await makeDevModel(h.db.db);
    const { ai } = createTestAiService(h.db);
    const request = generationRequest(scene, { definition: { model: model.id } });
    const session = await makeSession(h.db.db, { toolId: scene.tool.id, studentId: scene.student.id, groupId: scene.department.id });
    const read = await studentTurnRead(scene, session.id, ai.defaultModel ?? "");
    const base = read.aiPlanRows as AiPlanRows;
    // Rows saying the tool's model is inactive: used (they name it), so the call is refused...
    const inactive = { ...base, named: [...(base.named ?? []), model.id], models: [{ ...modelJson(model), active: false }] };
    const refused = await rejection(ai.start({ ...request, planRows: inactive }));
    expect(refused.code).toBe("MODEL_UNAVAILABLE");
    // ...while rows read without the tool's model are not: the service reads the catalogue itself.
    const gen = await ai.start({ ...request, planRows: base });
    expect(gen.model).toBe(model.id);
    await gen.finish("complete", "");
  });
});

function modelJson(m: { id: string; inputPricePer1k: number; outputPricePer1k: number; contextWindow: number; maxOutputTokens: number }) {
  return {
    id: m.id,
    input_price_per_1k: m.inputPricePer1k,
    output_price_per_1k: m.outputPricePer1k,
    context_window: m.contextWindow,
    max_output_tokens: m.maxOutputTokens,
    active: true,
  };
}
