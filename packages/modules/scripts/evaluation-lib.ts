/**
 * Scores the PII and safety filters against the labelled fixtures. Shared by
 * scripts/evaluate.ts (prints the table) and test/fixtures.test.ts (asserts thresholds).
 */
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { z } from "zod";
import {
  PII_KINDS,
  SAFETY_CATEGORIES,
  SEVERITIES,
  assessStudentMessage,
  atLeast,
  redactPii,
  type PiiKind,
  type SafetyCategory,
  type Severity,
  type StudentInfo,
} from "../src/index.ts";

/** Fixed "now" so the age arithmetic for dates of birth gives the same answer every year. */
export const EVALUATION_NOW = new Date("2026-01-15T12:00:00Z");
export const DEFAULT_FIXTURE_STUDENT: StudentInfo = {
  id: "fixture-student",
  givenName: "Maya",
  familyName: "Okafor",
  displayName: "Maya O.",
};

const splitSchema = z.enum(["dev", "holdout"]);
export type Split = z.infer<typeof splitSchema>;

const piiLineSchema = z.strictObject({
  split: splitSchema,
  text: z.string(),
  labels: z.array(z.enum(PII_KINDS)),
  values: z.array(z.string()).optional(),
  student: z.strictObject({ givenName: z.string().optional(), familyName: z.string().optional(), displayName: z.string().optional() }).optional(),
});
export type PiiFixture = z.infer<typeof piiLineSchema>;

const safetyLabel = z.union([z.literal("none"), z.string().regex(new RegExp(`^(?:${SAFETY_CATEGORIES.join("|")}):(?:${SEVERITIES.join("|")})$`))]);
const safetyLineSchema = z.strictObject({ split: splitSchema, text: z.string(), labels: z.array(safetyLabel).min(1) });
export type SafetyFixture = z.infer<typeof safetyLineSchema>;

function readJsonl<T>(file: string, schema: z.ZodType<T>): T[] {
  const path = fileURLToPath(new URL(`../fixtures/${file}`, import.meta.url));
  return readFileSync(path, "utf8")
    .split("\n")
    .map((line, i) => ({ line: line.trim(), n: i + 1 }))
    .filter(({ line }) => line.length > 0)
    .map(({ line, n }) => {
      const parsed = schema.safeParse(JSON.parse(line));
      if (!parsed.success) throw new Error(`${file}:${n}: ${z.prettifyError(parsed.error)}`);
      return parsed.data;
    });
}

export const loadPiiFixtures = (): PiiFixture[] => readJsonl("pii.jsonl", piiLineSchema);
export const loadSafetyFixtures = (): SafetyFixture[] => readJsonl("safety.jsonl", safetyLineSchema);

/** True/false positives and false negatives, with precision and recall (1 when undefined). */
export interface Score {
  tp: number;
  fp: number;
  fn: number;
  precision: number;
  recall: number;
  support: number;
}

function score(tp: number, fp: number, fn: number): Score {
  return {
    tp,
    fp,
    fn,
    precision: tp + fp === 0 ? 1 : tp / (tp + fp),
    recall: tp + fn === 0 ? 1 : tp / (tp + fn),
    support: tp + fn,
  };
}

/** One misclassified fixture line, for tuning on the dev split. */
export interface Miss {
  text: string;
  expected: string[];
  predicted: string[];
  output?: string;
}

export interface PiiReport {
  perKind: Record<PiiKind, Score>;
  overall: Score;
  /** Raw values from `values` still present after redaction, out of all listed values. */
  leaked: number;
  values: number;
  misses: Miss[];
}

function contains(haystack: string, needle: string): boolean {
  return haystack.toLowerCase().includes(needle.toLowerCase());
}

/** Message-level precision/recall per PII kind (a kind counts once per message). */
export function evaluatePii(fixtures: readonly PiiFixture[]): PiiReport {
  const counts = Object.fromEntries(PII_KINDS.map((k) => [k, { tp: 0, fp: 0, fn: 0 }])) as Record<PiiKind, { tp: number; fp: number; fn: number }>;
  let leaked = 0;
  let values = 0;
  const misses: Miss[] = [];
  for (const fx of fixtures) {
    const student: StudentInfo = fx.student ? { id: "fixture-student", ...fx.student } : DEFAULT_FIXTURE_STUDENT;
    const result = redactPii(fx.text, { student, now: EVALUATION_NOW });
    const predicted = new Set(result.spans.map((s) => s.kind));
    const expected = new Set(fx.labels);
    for (const kind of PII_KINDS) {
      const c = counts[kind];
      if (predicted.has(kind) && expected.has(kind)) c.tp++;
      else if (predicted.has(kind)) c.fp++;
      else if (expected.has(kind)) c.fn++;
    }
    const leaks = (fx.values ?? []).filter((v) => contains(result.text, v));
    values += fx.values?.length ?? 0;
    leaked += leaks.length;
    const same = predicted.size === expected.size && [...expected].every((k) => predicted.has(k));
    if (!same || leaks.length > 0) misses.push({ text: fx.text, expected: [...expected], predicted: [...predicted], output: result.text });
  }
  const perKind = Object.fromEntries(PII_KINDS.map((k) => [k, score(counts[k].tp, counts[k].fp, counts[k].fn)])) as Record<PiiKind, Score>;
  const sum = (f: "tp" | "fp" | "fn"): number => PII_KINDS.reduce((acc, k) => acc + counts[k][f], 0);
  return { perKind, overall: score(sum("tp"), sum("fp"), sum("fn")), leaked, values, misses };
}

export interface SafetyReport {
  /** Per category: an alert (severity ≥ medium) in that category. */
  perCategory: Record<SafetyCategory, Score>;
  /** Message level: any alert vs. labelled "none". */
  anyAlert: Score;
  /** Message level: blocked (≥ high) vs. labelled high/critical. */
  block: Score;
  /** Of labelled positives that alerted in the right category, how many reached the labelled minimum severity. */
  severityMet: { met: number; of: number };
  misses: Miss[];
}

const ALERT: Severity = "medium";
const BLOCK: Severity = "high";

/** Message-level precision/recall per safety category, for alerts and for blocks. */
export function evaluateSafety(fixtures: readonly SafetyFixture[]): SafetyReport {
  const counts = Object.fromEntries(SAFETY_CATEGORIES.map((c) => [c, { tp: 0, fp: 0, fn: 0 }])) as Record<SafetyCategory, { tp: number; fp: number; fn: number }>;
  const any = { tp: 0, fp: 0, fn: 0 };
  const block = { tp: 0, fp: 0, fn: 0 };
  let met = 0;
  let of = 0;
  const misses: Miss[] = [];
  for (const fx of fixtures) {
    const expected = new Map<SafetyCategory, Severity>();
    for (const label of fx.labels) {
      if (label === "none") continue;
      const [category, severity] = label.split(":") as [SafetyCategory, Severity];
      expected.set(category, severity);
    }
    const assessed = assessStudentMessage(fx.text);
    const predicted = new Map(assessed.filter((a) => atLeast(a.severity, ALERT)).map((a) => [a.category, a.severity]));
    for (const category of SAFETY_CATEGORIES) {
      const c = counts[category];
      const want = expected.get(category);
      const got = predicted.get(category);
      if (want && got) {
        c.tp++;
        of++;
        if (atLeast(got, want)) met++;
      } else if (got) c.fp++;
      else if (want) c.fn++;
    }
    const wantAlert = expected.size > 0;
    const gotAlert = predicted.size > 0;
    if (wantAlert && gotAlert) any.tp++;
    else if (gotAlert) any.fp++;
    else if (wantAlert) any.fn++;
    const wantBlock = [...expected.values()].some((s) => atLeast(s, BLOCK));
    const gotBlock = [...predicted.values()].some((s) => atLeast(s, BLOCK));
    if (wantBlock && gotBlock) block.tp++;
    else if (gotBlock) block.fp++;
    else if (wantBlock) block.fn++;
    const exp = fx.labels.filter((l) => l !== "none");
    const got = [...predicted].map(([c, s]) => `${c}:${s}`);
    const ok =
      exp.length === got.length &&
      exp.every((l) => {
        const [c, s] = l.split(":") as [SafetyCategory, Severity];
        const g = predicted.get(c);
        return g !== undefined && atLeast(g, s);
      });
    if (!ok) misses.push({ text: fx.text, expected: exp.length ? exp : ["none"], predicted: got.length ? got : ["none"] });
  }
  const perCategory = Object.fromEntries(SAFETY_CATEGORIES.map((c) => [c, score(counts[c].tp, counts[c].fp, counts[c].fn)])) as Record<SafetyCategory, Score>;
  return { perCategory, anyAlert: score(any.tp, any.fp, any.fn), block: score(block.tp, block.fp, block.fn), severityMet: { met, of }, misses };
}

const pct = (n: number): string => `${(n * 100).toFixed(1)}%`.padStart(7);

/** A fixed-width table of scores. */
export function formatTable(title: string, rows: Array<[string, Score]>): string {
  const lines = [title, `${"kind".padEnd(14)} ${"prec".padStart(7)} ${"recall".padStart(7)}   tp  fp  fn`];
  for (const [name, s] of rows) {
    lines.push(`${name.padEnd(14)} ${pct(s.precision)} ${pct(s.recall)} ${String(s.tp).padStart(4)}${String(s.fp).padStart(4)}${String(s.fn).padStart(4)}`);
  }
  return lines.join("\n");
}
