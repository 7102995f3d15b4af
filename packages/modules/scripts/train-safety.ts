/**
 * Trains the bundled safety classifier and writes src/safety/classifier/weights.json.
 *
 *   bun packages/modules/scripts/train-safety.ts [--dir packages/modules/evaluation] [--folds 5]
 *       [--budget 0.03] [--cv-only]
 *
 * Data: the dev split of the evaluation set plus every evaluation/train/*.jsonl (never the
 * held-out split). First a k-fold cross-validation (each line scored by a model that never saw
 * it) picks the per-category thresholds within a false-alert budget on look-alikes and prints
 * recall and false alerts per category and language, for the classifier alone and for the fast
 * path (rules + classifier). Then the final model is trained on every line and written with the
 * thresholds. Deterministic: same data, same weights, byte for byte.
 */
import { writeFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import {
  CLASSIFIER_CATEGORIES,
  DEFAULT_TRAIN_OPTIONS,
  foldClassifier,
  SAFETY_CATEGORIES,
  type SafetyCategory,
  assessStudentMessage,
  safetyConfigSchema,
  toSerialised,
  trainClassifier,
} from "../src/index.ts";
import { formatEvaluation, type Prediction, scoreEvaluation } from "./safety-eval-lib.ts";
import { chooseThresholds, crossValidate, loadTrainingLines, type Thresholds } from "./safety-train-lib.ts";

function arg(name: string, fallback: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? (process.argv[i + 1] ?? fallback) : fallback;
}

const dir = arg("dir", fileURLToPath(new URL("../evaluation", import.meta.url)));
const folds = Number(arg("folds", "5"));
const budget = Number(arg("budget", "0.03"));
const out = fileURLToPath(new URL("../src/safety/classifier/weights.json", import.meta.url));

const lines = loadTrainingLines(dir);
const sources = [...new Set(lines.map((l) => l.source))];
console.log(`Training lines: ${lines.length} (${sources.map((s) => `${s}: ${lines.filter((l) => l.source === s).length}`).join(", ")})`);

const started = performance.now();
const scores = crossValidate(lines, folds, DEFAULT_TRAIN_OPTIONS);
console.log(`${folds}-fold cross-validation: ${((performance.now() - started) / 1000).toFixed(1)} s`);
const thresholds: Thresholds = chooseThresholds(lines, scores, budget);
console.log(`Thresholds (false-alert budget ${budget * 100}% on look-alikes, out of fold):`);
for (const c of CLASSIFIER_CATEGORIES) console.log(`  ${c.padEnd(16)} alert ${thresholds[c].alert.toFixed(2)}  block ${thresholds[c].block.toFixed(2)}`);

const must = <T>(x: T | undefined): T => {
  if (x === undefined) throw new Error("a line was not scored in cross-validation");
  return x;
};
const config = safetyConfigSchema.parse({ classifier: { thresholds } });
const enabled = new Set<SafetyCategory>(SAFETY_CATEGORIES);
const alerts = (a: { severity: string; category: SafetyCategory }[]) => new Set(a.filter((x) => x.severity !== "low" && x.severity !== "info").map((x) => x.category));
const classifierOnly: Prediction[] = lines.map((_, i) => ({ alerts: alerts(foldClassifier([], must(scores[i]), config.classifier, enabled, new Set())) }));
const fastPath: Prediction[] = lines.map((l, i) => {
  const excused = new Set<SafetyCategory>();
  const rules = assessStudentMessage(l.text, config, excused);
  return { alerts: alerts(foldClassifier(rules, must(scores[i]), config.classifier, enabled, excused)) };
});
const asEval = lines.map((l) => ({ ...l, split: "dev" as const, urgency: null }));
for (const s of ["all", ...sources]) {
  const idx = lines.flatMap((l, i) => (s === "all" || l.source === s ? [i] : []));
  const pick = <T>(xs: readonly T[]) => idx.map((i) => xs[i] as T);
  console.log(`\nOut-of-fold, ${s} lines — classifier alone:\n${formatEvaluation(scoreEvaluation(pick(asEval), pick(classifierOnly)))}`);
  console.log(
    `\nOut-of-fold, ${s} lines — fast path (rules + classifier; the rules were written on the dev lines, so on those they flatter):\n${formatEvaluation(scoreEvaluation(pick(asEval), pick(fastPath)))}`,
  );
}

if (!process.argv.includes("--cv-only")) {
  const model = trainClassifier(
    lines.map((l) => ({ text: l.text, label: l.target })),
    DEFAULT_TRAIN_OPTIONS,
  );
  const serialised = toSerialised(model, {
    trainedOn: { lines: lines.length, sources },
    options: { ...DEFAULT_TRAIN_OPTIONS },
    thresholds,
  });
  writeFileSync(out, `${JSON.stringify(serialised)}\n`);
  console.log(`\nWrote ${out}: ${serialised.ids.length} features.`);
}
