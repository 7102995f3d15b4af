import { describe, expect, test } from "bun:test";
import {
  applyModeration,
  categoryScores,
  DEFAULT_HOLD_REPLY,
  DEFAULT_SELF_HARM_REPLY,
  moderateTurn,
  type ModerationClassifier,
  resolveModuleConfig,
  runBeforeGateway,
  runModeration,
  safetyConfigSchema,
  type SafetyConfig,
  safetyFilter,
} from "../src/index.ts";
import { turn } from "./helpers.ts";

const config = (moderation: Record<string, unknown> = {}): SafetyConfig => safetyConfigSchema.parse({ moderation: { enabled: true, budgetMs: 100, ...moderation } });
const rules = (text: string) => runBeforeGateway([safetyFilter], {}, turn(), text);
const answer =
  (scores: Record<string, number>): ModerationClassifier =>
  async () => ({ model: "m", categories: {}, scores });

describe("moderation config", () => {
  test("off by default, with thresholds for every category", () => {
    const c = safetyConfigSchema.parse({});
    expect(c.moderation).toMatchObject({ enabled: false, mode: "moderations", failClosed: false, budgetMs: 1500 });
    expect(c.moderation.thresholds.grooming).toEqual({ alert: 0.5, block: 0.8 });
  });

  test("a threshold with alert above block is refused", () => {
    expect(() => resolveModuleConfig([{ "safety-filter": { moderation: { thresholds: { violence: { alert: 0.9, block: 0.5 } } } } }])).toThrow();
  });
});

describe("categoryScores", () => {
  test("maps OpenAI's names to ours and keeps the highest score per category", () => {
    const got = categoryScores({ model: "m", categories: { "sexual/minors": true }, scores: { "self-harm": 0.2, "self-harm/intent": 0.9, harassment: 0.4 } });
    expect(got.get("self-harm")?.score).toBe(0.9);
    expect(got.get("grooming")?.score).toBe(1);
    expect(got.get("bullying")?.score).toBe(0.4);
  });
});

describe("runModeration", () => {
  test("a classifier slower than the budget is a timeout, and is aborted", async () => {
    let aborted = false;
    const slow: ModerationClassifier = (_input, signal) =>
      new Promise((resolve) => {
        signal.addEventListener("abort", () => {
          aborted = true;
        });
        setTimeout(() => resolve({ model: "m", categories: {}, scores: {} }), 1000);
      });
    const outcome = await runModeration(slow, "hi", config().moderation);
    expect(outcome).toMatchObject({ status: "unavailable", reason: "timeout" });
    expect(aborted).toBe(true);
  });

  test("a throwing classifier is an error; no classifier is not-configured", async () => {
    const boom: ModerationClassifier = async () => {
      throw new Error("boom");
    };
    expect(await runModeration(boom, "hi", config().moderation)).toMatchObject({ status: "unavailable", reason: "error" });
    expect(await runModeration(null, "hi", config().moderation)).toMatchObject({ status: "unavailable", reason: "not-configured" });
  });
});

describe("applyModeration", () => {
  test("a score at the block threshold blocks with the category's reply; below it alerts", async () => {
    const blocked = (await moderateTurn(rules("what should I do this weekend"), config(), answer({ "self-harm/intent": 0.85 }))).result;
    expect(blocked.action).toBe("block");
    expect(blocked.reply).toBe(DEFAULT_SELF_HARM_REPLY);
    expect(blocked.findings[0]).toMatchObject({ kind: "self-harm", severity: "high", data: { blocked: true, stages: ["moderation"] } });
    const alerted = (await moderateTurn(rules("what should I do this weekend"), config(), answer({ violence: 0.6 }))).result;
    expect(alerted.action).toBe("allow");
    expect(alerted.findings[0]).toMatchObject({ kind: "violence", severity: "medium", isAlert: true });
  });

  test("a category the rules found is raised, not duplicated", async () => {
    const base = rules("this level is so hard i want to die lol");
    expect(base.findings).toHaveLength(1);
    const { result } = await moderateTurn(base, config(), answer({ "self-harm": 0.95 }));
    expect(result.findings).toHaveLength(1);
    expect(result.findings[0]).toMatchObject({ kind: "self-harm", severity: "high", data: { stages: ["rules", "moderation"] } });
  });

  test("a disabled category stays quiet whatever the model says", async () => {
    const c = safetyConfigSchema.parse({ categories: { bullying: false }, moderation: { enabled: true } });
    const { result } = await moderateTurn(rules("hello"), c, answer({ harassment: 0.99 }));
    expect(result.action).toBe("allow");
    expect(result.findings).toEqual([]);
  });

  test("unavailable: the rules' verdict stands and a moderation-unavailable alert is added; fail closed holds", () => {
    const outcome = { status: "unavailable" as const, reason: "error" as const, latencyMs: 3, model: "m" };
    const open = applyModeration(rules("what is a noun"), outcome, config());
    expect(open.action).toBe("allow");
    expect(open.findings).toEqual([expect.objectContaining({ kind: "moderation-unavailable", isAlert: true, data: expect.objectContaining({ held: false }) })]);
    const closed = applyModeration(rules("what is a noun"), outcome, config({ failClosed: true }));
    expect(closed).toMatchObject({ action: "block", held: true, reply: DEFAULT_HOLD_REPLY });
  });

  test("the stage does not run when the rules already block, nor when it is off", async () => {
    let calls = 0;
    const counting: ModerationClassifier = async () => {
      calls++;
      return { model: "m", categories: {}, scores: {} };
    };
    await moderateTurn(rules("I want to kill myself"), config(), counting);
    await moderateTurn(rules("hello"), safetyConfigSchema.parse({}), counting);
    expect(calls).toBe(0);
  });
});
