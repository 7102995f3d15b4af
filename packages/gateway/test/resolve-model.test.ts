import { describe, expect, test } from "bun:test";
import { AppError } from "@raptscallions/core";
import { resolveModel, resolveModelChoice, type ResolveModelInput } from "../src/index.ts";

const catalogue = new Map([
  ["tool-model", { active: true }],
  ["class-model", { active: true }],
  ["district-model", { active: true }],
  ["system-model", { active: true }],
  ["env-model", { active: true }],
  ["retired-model", { active: false }],
]);

function base(overrides: Partial<ResolveModelInput> = {}): ResolveModelInput {
  return { groupChainDefaults: [], envDefault: "env-model", catalogue, ...overrides };
}

function refusal(input: ResolveModelInput): AppError {
  try {
    resolveModel(input);
  } catch (err) {
    if (err instanceof AppError) return err;
    throw err;
  }
  throw new Error("expected MODEL_UNAVAILABLE");
}

describe("resolveModel", () => {
  test("the tool's model wins over every group and default", () => {
    expect(resolveModel(base({ toolModel: "tool-model", groupChainDefaults: ["class-model"], systemDefault: "system-model" }))).toBe("tool-model");
  });

  test("otherwise the nearest group up the tree that sets one", () => {
    expect(resolveModelChoice(base({ groupChainDefaults: [null, "", "district-model"], systemDefault: "system-model" }))).toEqual({
      model: "district-model",
      source: { level: "group", depth: 2 },
    });
    expect(resolveModel(base({ groupChainDefaults: ["class-model", "district-model"] }))).toBe("class-model");
  });

  test("then the system default, then the environment default", () => {
    expect(resolveModel(base({ toolModel: null, groupChainDefaults: [null], systemDefault: "system-model" }))).toBe("system-model");
    expect(resolveModelChoice(base({ groupChainDefaults: [null, undefined] }))).toEqual({ model: "env-model", source: { level: "env" } });
  });

  test("an inactive model is refused, not silently replaced", () => {
    const err = refusal(base({ toolModel: "retired-model", groupChainDefaults: ["class-model"] }));
    expect(err.code).toBe("MODEL_UNAVAILABLE");
    expect(err.details).toEqual({ model: "retired-model", reason: "inactive", source: { level: "tool" } });
  });

  test("a model missing from the catalogue is refused, saying which level chose it", () => {
    const err = refusal(base({ groupChainDefaults: [null, "gpt-99"] }));
    expect(err.code).toBe("MODEL_UNAVAILABLE");
    expect(err.status).toBe(422);
    expect(err.details).toEqual({ model: "gpt-99", reason: "unknown", source: { level: "group", depth: 1 } });
    expect(err.message).toContain("gpt-99");
    expect(refusal(base({ envDefault: "nope" })).details).toMatchObject({ reason: "unknown", source: { level: "env" } });
  });
});
