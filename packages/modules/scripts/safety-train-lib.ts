/**
 * Training data and cross-validation for the bundled safety classifier. Reads the dev split of
 * the evaluation set and the training set under evaluation/train/; never the held-out split.
 */
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { z } from "zod";
import {
  CLASSIFIER_CATEGORIES,
  type ClassifierCategory,
  type ClassifierClass,
  type ClassifierModel,
  type ClassifierScores,
  classifyText,
  type TrainOptions,
  trainClassifier,
} from "../src/index.ts";
import { EVAL_CATEGORIES, EVAL_LANGS, type EvalCategory, type EvalLang, loadEvaluationSet } from "./safety-eval-lib.ts";

export const CLASS_OF: Record<EvalCategory, ClassifierCategory> = {
  self_harm: "self-harm",
  eating_disorder: "eating-disorder",
  abuse_grooming: "abuse",
  violence: "violence",
  bullying: "bullying",
};

/** One labelled line for training: where it came from, its cell and its class. */
export interface TrainingLine {
  id: string;
  source: string;
  lang: EvalLang;
  category: EvalCategory;
  label: "alert" | "lookalike";
  text: string;
  target: ClassifierClass;
}

const trainLineSchema = z.object({
  id: z.string(),
  lang: z.enum(EVAL_LANGS),
  category: z.enum(EVAL_CATEGORIES),
  label: z.enum(["alert", "lookalike"]),
  text: z.string().min(1),
});

const target = (l: { category: EvalCategory; label: "alert" | "lookalike" }): ClassifierClass => (l.label === "alert" ? CLASS_OF[l.category] : "none");

/** The dev split of `<evalDir>` plus every `*.jsonl` under `<evalDir>/train/`. */
export function loadTrainingLines(evalDir: string): TrainingLine[] {
  const out: TrainingLine[] = loadEvaluationSet(evalDir, "dev").map((l) => ({ ...l, source: "dev", target: target(l) }));
  const trainDir = join(evalDir, "train");
  if (!existsSync(trainDir)) return out;
  for (const name of readdirSync(trainDir)
    .filter((n) => n.endsWith(".jsonl"))
    .sort()) {
    const file = join(trainDir, name);
    readFileSync(file, "utf8")
      .split("\n")
      .forEach((raw, i) => {
        if (raw.trim() === "") return;
        const parsed = trainLineSchema.safeParse(JSON.parse(raw));
        if (!parsed.success) throw new Error(`${file}:${i + 1}: ${z.prettifyError(parsed.error)}`);
        out.push({ ...parsed.data, source: name, target: target(parsed.data) });
      });
  }
  return out;
}

/** Fold of each line: every (source, lang, category, label) cell is dealt round-robin over `k` folds. */
export function assignFolds(lines: readonly TrainingLine[], k: number): number[] {
  const counters = new Map<string, number>();
  return lines.map((l) => {
    const key = `${l.source}/${l.lang}/${l.category}/${l.label}`;
    const n = counters.get(key) ?? 0;
    counters.set(key, n + 1);
    return n % k;
  });
}

/** Out-of-fold scores per category: each line scored by a model that never saw it. */
export function crossValidate(lines: readonly TrainingLine[], k: number, options: Partial<TrainOptions>): ClassifierScores[] {
  const folds = assignFolds(lines, k);
  const out: ClassifierScores[] = new Array(lines.length);
  for (let f = 0; f < k; f++) {
    const model: ClassifierModel = trainClassifier(
      lines.filter((_, i) => folds[i] !== f).map((l) => ({ text: l.text, label: l.target })),
      options,
    );
    lines.forEach((l, i) => {
      if (folds[i] !== f) return;
      out[i] = classifyText(model, l.text);
    });
  }
  return out;
}

export type Thresholds = Record<ClassifierCategory, { alert: number; block: number }>;

const GRID = Array.from({ length: 44 }, (_, i) => Math.round((0.96 - i * 0.02) * 100) / 100);

/**
 * Per-category thresholds from out-of-fold scores: starting from "never", lower one category's
 * alert threshold a grid step at a time, always the step that buys the most recall per false
 * alert, while the look-alikes' false-alert rate stays within `budget`. The block threshold is
 * the first grid step above every look-alike's score for that category (at least 0.85).
 */
export function chooseThresholds(lines: readonly TrainingLine[], classified: readonly ClassifierScores[], budget: number): Thresholds {
  const scores = classified.map((c) => c.scores);
  const alert = Object.fromEntries(CLASSIFIER_CATEGORIES.map((c) => [c, 1])) as Record<ClassifierCategory, number>;
  const lookalikes = lines.filter((l) => l.label === "lookalike").length;
  const measure = (t: Record<ClassifierCategory, number>) => {
    let hits = 0;
    let falseAlerts = 0;
    lines.forEach((l, i) => {
      const s = scores[i];
      if (!s) return;
      const flagged = CLASSIFIER_CATEGORIES.filter((c) => s[c] >= t[c]);
      if (l.label === "alert" && flagged.includes(CLASS_OF[l.category])) hits++;
      if (l.label === "lookalike" && flagged.length > 0) falseAlerts++;
    });
    return { hits, rate: falseAlerts / Math.max(1, lookalikes), falseAlerts };
  };
  let current = measure(alert);
  for (;;) {
    let best: { c: ClassifierCategory; t: number; gain: number; m: ReturnType<typeof measure> } | undefined;
    for (const c of CLASSIFIER_CATEGORIES) {
      const next = GRID.find((g) => g < alert[c]);
      if (next === undefined) continue;
      const m = measure({ ...alert, [c]: next });
      if (m.rate > budget) continue;
      const gain = (m.hits - current.hits) / (m.falseAlerts - current.falseAlerts + 0.5);
      if (!best || gain > best.gain) best = { c, t: next, gain, m };
    }
    if (!best) break;
    alert[best.c] = best.t;
    current = best.m;
  }
  const out = {} as Thresholds;
  for (const c of CLASSIFIER_CATEGORIES) {
    const worst = Math.max(0, ...lines.flatMap((l, i) => (l.label === "lookalike" ? [scores[i]?.[c] ?? 0] : [])));
    const block = Math.min(1, Math.max(0.85, Math.ceil((worst + 0.01) * 20) / 20));
    out[c] = { alert: Math.min(alert[c], block), block };
  }
  return out;
}
