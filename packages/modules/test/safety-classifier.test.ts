import { describe, expect, test } from "bun:test";
import weights from "../src/safety/classifier/weights.json" with { type: "json" };
import {
  applyModeration,
  assessFastPath,
  assessStudentMessage,
  bundledClassifier,
  classifyText,
  DEFAULT_CLASSIFIER_THRESHOLDS,
  DEFAULT_SELF_HARM_REPLY,
  extractFeatures,
  fromSerialised,
  predictVector,
  resolveModuleConfig,
  runBeforeGateway,
  safetyConfigSchema,
  type SafetyCategory,
  type SafetyConfig,
  safetyFilter,
  toSerialised,
  trainClassifier,
  type TrainingExample,
} from "../src/index.ts";
import { classifierForm, safetyForms, safetyVariants } from "../src/safety/normalize.ts";
import { turn } from "./helpers.ts";

/**
 * The feature definition the committed weights were trained with, spelled out the slow way: each
 * n-gram's text (`c:`/`w:`/`b:`/`t:` + the n-gram) hashed with 32-bit FNV-1a into 2^20 buckets,
 * character n-grams at 0.3 and word n-grams at 1 (a word's weight wins a shared bucket), the
 * vector scaled to unit length in that insertion order.
 */
function referenceFeatures(text: string): { ids: number[]; values: number[] } {
  const hash = (feature: string) => {
    let h = 0x811c9dc5;
    for (let i = 0; i < feature.length; i++) h = Math.imul(h ^ feature.charCodeAt(i), 0x01000193);
    return (h >>> 0) % (1 << 20);
  };
  const words = (classifierForm(text).match(/[\p{L}\p{N}']+/gu) ?? []).map((w) => w.replace(/^'+|'+$/g, "")).filter((w) => w.length > 0);
  const features = new Map<number, number>();
  for (const w of words) {
    const padded = ` ${w} `;
    for (let n = 3; n <= 5; n++) for (let j = 0; j + n <= padded.length; j++) features.set(hash(`c:${padded.slice(j, j + n)}`), 0.3);
  }
  words.forEach((w, i) => {
    features.set(hash(`w:${w}`), 1);
    if (i + 1 < words.length) features.set(hash(`b:${w} ${words[i + 1]}`), 1);
    if (i + 2 < words.length) features.set(hash(`t:${w} ${words[i + 1]} ${words[i + 2]}`), 1);
  });
  const ids = [...features.keys()].sort((a, b) => a - b);
  let norm = 0;
  for (const v of features.values()) norm += v * v;
  const scale = norm > 0 ? 1 / Math.sqrt(norm) : 0;
  return { ids, values: ids.map((id) => (features.get(id) ?? 0) * scale) };
}

// Written for this test, not taken from the evaluation or training files.
const CRISIS_NO_RULE = "i dont see the point of waking up tomorrow tbh";
const IDIOMS = [
  "my dad will murder me when he sees this math grade lol",
  "my brother is gonna kill me for eating his fries haha",
  "ugh this essay is gonna be the death of me",
];

const defaults = safetyConfigSchema.parse({});
const withClassifier = (classifier: Record<string, unknown>): SafetyConfig => safetyConfigSchema.parse({ classifier });
const check = (text: string, config: SafetyConfig = defaults) => {
  const result = safetyFilter.beforeGateway?.({ ...turn(), config }, text);
  if (!result) throw new Error("safety-filter has no beforeGateway");
  return result;
};
const alerted = (text: string, config: SafetyConfig = defaults): SafetyCategory[] =>
  check(text, config)
    .findings.filter((f) => f.isAlert)
    .map((f) => f.kind as SafetyCategory);

const TINY: TrainingExample[] = [
  ...["i will kill him tomorrow", "gonna kill that kid at recess", "i want to kill him so bad", "i'll kill them all"].map((text) => ({
    text,
    label: "violence" as const,
  })),
  ...["what is photosynthesis", "help me with fractions", "who wrote hamlet", "how do volcanoes form"].map((text) => ({ text, label: "none" as const })),
];

describe("the fast path's shared normalisation", () => {
  test("safetyForms gives exactly the rules' variants and the classifier's form", () => {
    for (const text of [
      "I w4nt to d!e",
      "s u i c i d e a lot",
      "k.y.s now!!",
      "kiiiiill meeee",
      "Tôi muốn chết",
      "Ｉ　ｗａｎｔ　to die\u200b today",
      "it’s fine, 2 + 3 = 5 at 11:00",
      "",
    ]) {
      const forms = safetyForms(text);
      expect(forms.variants).toEqual(safetyVariants(text));
      expect(forms.classifier).toBe(classifierForm(text));
    }
  });
});

describe("bundled classifier", () => {
  test("the same text gives the same features and the same scores, every time", () => {
    expect(Array.from(extractFeatures(CRISIS_NO_RULE).ids)).toEqual(Array.from(extractFeatures(CRISIS_NO_RULE).ids));
    expect(classifyText(bundledClassifier(), CRISIS_NO_RULE)).toEqual(classifyText(bundledClassifier(), CRISIS_NO_RULE));
  });

  test("features are exactly those the weights were trained on (hashed in place, no n-gram strings built)", () => {
    // A long run of distinct words (thousands of features: the reused table grows), then short
    // messages again (what the long one left behind must not leak into them).
    const many = Array.from({ length: 600 }, (_, i) => `w${i}q${(i * 7919) % 1009}`).join(" ");
    const texts = [
      CRISIS_NO_RULE,
      many,
      ...IDIOMS,
      "",
      "a",
      "I'm",
      "'''",
      "''it's''",
      "muốn chết 😭 tôi",
      "k.y.s kiiiill m3",
      `${"x".repeat(300)} y`,
      "no como nada desde el lunes",
      many,
      "a",
    ];
    for (const text of texts) {
      const got = extractFeatures(text);
      expect({ ids: Array.from(got.ids), values: Array.from(got.values) }).toEqual(referenceFeatures(text));
    }
  });

  test("training is deterministic: the same lines give byte-identical weights", () => {
    const meta = { trainedOn: { lines: TINY.length, sources: ["test"] }, options: {}, thresholds: {} };
    const a = JSON.stringify(toSerialised(trainClassifier(TINY, { epochs: 5 }), meta));
    const b = JSON.stringify(toSerialised(trainClassifier(TINY, { epochs: 5 }), meta));
    expect(a).toBe(b);
    expect(JSON.stringify(toSerialised(trainClassifier(TINY, { epochs: 5, seed: 99 }), meta))).not.toBe(a);
  });

  test("a loaded model scores through its row index exactly as through its weights map", () => {
    const loaded = bundledClassifier();
    expect(loaded.rows).toBeDefined();
    const byMap = { bias: loaded.bias, weights: loaded.weights };
    for (const text of [CRISIS_NO_RULE, ...IDIOMS, "i want to kill myself", "", "zzzz qqqq unseen words"]) {
      const x = extractFeatures(text);
      expect(Array.from(predictVector(loaded, x))).toEqual(Array.from(predictVector(byMap, x)));
    }
  });

  test("the committed weights reload to the scores they were saved with", () => {
    const model = trainClassifier(TINY, { epochs: 5 });
    const reloaded = fromSerialised(toSerialised(model, { trainedOn: { lines: 8, sources: ["test"] }, options: {}, thresholds: {} }));
    const before = classifyText(model, "i will kill him");
    const after = classifyText(reloaded, "i will kill him");
    expect(after.scores.violence).toBeCloseTo(before.scores.violence, 2);
  });

  test("malformed weights are refused, not half loaded", () => {
    expect(() => fromSerialised({ ...weights, weights: [0.5] })).toThrow();
    expect(() => fromSerialised({ ...weights, ids: [1, 2] })).toThrow();
    expect(() => fromSerialised(null)).toThrow();
  });

  test("the config's default thresholds are the ones cross-validation wrote beside the weights", () => {
    expect(weights.thresholds).toEqual(DEFAULT_CLASSIFIER_THRESHOLDS);
    expect(defaults.classifier.thresholds).toEqual(DEFAULT_CLASSIFIER_THRESHOLDS);
  });
});

describe("the fast path: rules + classifier", () => {
  test("a crisis line no rule matches is flagged by the classifier, with its score", () => {
    expect(assessStudentMessage(CRISIS_NO_RULE).filter((a) => a.severity !== "low" && a.severity !== "info")).toEqual([]);
    const finding = check(CRISIS_NO_RULE).findings.find((f) => f.kind === "self-harm");
    expect(finding).toMatchObject({ isAlert: true, data: { source: "student", rules: [], stages: ["classifier"] } });
    const score = (finding?.data.classifier as { score: number } | undefined)?.score ?? 0;
    expect(score).toBeGreaterThanOrEqual(defaults.classifier.thresholds["self-harm"].alert);
  });

  test.each(IDIOMS)("an everyday idiom is not flagged: %p", (text) => {
    expect(check(text).findings.filter((f) => f.isAlert)).toEqual([]);
  });

  test("per-category thresholds are honoured: above alert → no finding; block at the score → blocked", () => {
    const score = assessFastPath(CRISIS_NO_RULE).classified?.scores["self-harm"] ?? 0;
    expect(alerted(CRISIS_NO_RULE, withClassifier({ thresholds: { "self-harm": { alert: Math.min(1, score + 0.01), block: 1 } } }))).not.toContain("self-harm");
    const blocked = check(CRISIS_NO_RULE, withClassifier({ thresholds: { "self-harm": { alert: score, block: score } } }));
    expect(blocked.action).toBe("block");
    expect(blocked.reply).toBe(DEFAULT_SELF_HARM_REPLY);
    expect(blocked.findings.find((f) => f.kind === "self-harm")).toMatchObject({ severity: "high", data: { blocked: true, escalate: true } });
  });

  test("thresholds come through layered module config, and a bad pair is refused", () => {
    const configs = resolveModuleConfig([{ "safety-filter": { classifier: { thresholds: { "self-harm": { alert: 1, block: 1 } } } } }]);
    const result = runBeforeGateway([safetyFilter], configs, turn(), CRISIS_NO_RULE);
    expect(result.findings.filter((f) => f.kind === "self-harm")).toEqual([]);
    expect(() => resolveModuleConfig([{ "safety-filter": { classifier: { thresholds: { violence: { alert: 0.9, block: 0.2 } } } } }])).toThrow();
  });

  test("switched off, or its category off, the classifier adds nothing", () => {
    expect(assessFastPath(CRISIS_NO_RULE, withClassifier({ enabled: false })).classified).toBeNull();
    expect(alerted(CRISIS_NO_RULE, withClassifier({ enabled: false }))).toEqual([]);
    expect(alerted(CRISIS_NO_RULE, safetyConfigSchema.parse({ categories: { "self-harm": false } }))).not.toContain("self-harm");
  });

  test("a rule's look-alike guard still applies: the classifier cannot flag what the guard excused", () => {
    const model = trainClassifier(TINY);
    const game = "in minecraft im gonna kill steve tonight";
    const excused = new Set<SafetyCategory>();
    assessStudentMessage(game, defaults, excused);
    expect(excused.has("violence")).toBe(true);
    expect(classifyText(model, game).scores.violence).toBeGreaterThan(defaults.classifier.thresholds.violence.alert);
    expect(assessFastPath(game, defaults, model).assessments).toEqual([]);
    expect(assessFastPath("gonna kill him at recess", defaults, model).assessments.map((a) => a.category)).toEqual(["violence"]);
  });

  test("a category the rules found keeps the rules' severity and records the classifier's score", () => {
    const finding = check("I want to kill myself").findings.find((f) => f.kind === "self-harm");
    expect(finding?.severity).toBe("critical");
    expect(finding?.data.stages).toEqual(["rules", "classifier"]);
  });

  test("the moderation stage keeps the classifier's part of a finding it raises", () => {
    const config = safetyConfigSchema.parse({ moderation: { enabled: true } });
    const fast = runBeforeGateway([safetyFilter], { "safety-filter": { enabled: true, config } }, turn(), CRISIS_NO_RULE);
    const merged = applyModeration(fast, { status: "ok", latencyMs: 1, model: "m", categories: {}, scores: { "self-harm/intent": 0.95 } }, config);
    const finding = merged.findings.find((f) => f.kind === "self-harm");
    expect(finding?.data.stages).toEqual(["classifier", "moderation"]);
    expect(finding?.data.classifier).toBeDefined();
    expect(merged.action).toBe("block");
  });
});
