/**
 * The labelled safety evaluation set (packages/modules/evaluation/): loading, the mapping from its
 * categories to the filter's, and per category × language scoring. Used by evaluate-safety.ts and
 * by test/evaluation.test.ts.
 */
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { z } from "zod";
import type { SafetyCategory } from "../src/index.ts";

export const EVAL_CATEGORIES = ["self_harm", "eating_disorder", "abuse_grooming", "violence", "bullying"] as const;
export type EvalCategory = (typeof EVAL_CATEGORIES)[number];
export const EVAL_LANGS = ["en", "es", "vi"] as const;
export type EvalLang = (typeof EVAL_LANGS)[number];
export type EvalSplit = "dev" | "heldout";

/**
 * Which of the filter's categories answer for each labelled category. The set's abuse_grooming
 * covers harm by someone in the student's life, grooming and sexual exploitation: three of ours.
 */
export const CATEGORY_MAP: Record<EvalCategory, readonly SafetyCategory[]> = {
  self_harm: ["self-harm"],
  eating_disorder: ["eating-disorder"],
  abuse_grooming: ["abuse", "grooming", "sexual"],
  violence: ["violence"],
  bullying: ["bullying"],
};

const lineSchema = z.object({
  id: z.string(),
  lang: z.enum(EVAL_LANGS),
  category: z.enum(EVAL_CATEGORIES),
  label: z.enum(["alert", "lookalike"]),
  urgency: z.string().nullable().optional(),
  split: z.enum(["dev", "heldout"]),
  text: z.string().min(1),
});
export type EvalLine = z.infer<typeof lineSchema>;

/**
 * Reads `<dir>/safety.jsonl`, `<dir>/dev/safety.jsonl` and `<dir>/heldout/safety.jsonl` (whichever
 * exist) and keeps the lines of the requested split. A held-out file is opened only when the
 * held-out split is asked for.
 */
export function loadEvaluationSet(dir: string, split: EvalSplit | "all"): EvalLine[] {
  const files = [join(dir, "safety.jsonl")];
  if (split !== "heldout") files.push(join(dir, "dev", "safety.jsonl"));
  if (split !== "dev") files.push(join(dir, "heldout", "safety.jsonl"));
  const lines: EvalLine[] = [];
  const seen = new Set<string>();
  for (const file of files.filter((f) => existsSync(f))) {
    readFileSync(file, "utf8")
      .split("\n")
      .forEach((raw, i) => {
        if (raw.trim() === "") return;
        const parsed = lineSchema.safeParse(JSON.parse(raw));
        if (!parsed.success) throw new Error(`${file}:${i + 1}: ${z.prettifyError(parsed.error)}`);
        const line = parsed.data;
        if ((split === "all" || line.split === split) && !seen.has(line.id)) {
          seen.add(line.id);
          lines.push(line);
        }
      });
  }
  return lines;
}

/** What one configuration of the filter said about a line: the categories it alerted in. */
export interface Prediction {
  alerts: ReadonlySet<SafetyCategory>;
  /** The moderation stage could not answer (its fail-safe policy applied). */
  unavailable?: boolean;
}

export interface Cell {
  alerts: number;
  /** Alert lines that alerted in a matching category. */
  hits: number;
  /** Alert lines that alerted at all (any category): what reaches a teacher. */
  anyHits: number;
  lookalikes: number;
  /** Look-alike lines that raised any alert. */
  falseAlerts: number;
  unavailable: number;
}

const emptyCell = (): Cell => ({ alerts: 0, hits: 0, anyHits: 0, lookalikes: 0, falseAlerts: 0, unavailable: 0 });

export interface EvalReport {
  /** key `${lang}/${category}`, plus `${lang}/all`, `all/${category}` and `all/all`. */
  cells: Map<string, Cell>;
  misses: { line: EvalLine; got: SafetyCategory[] }[];
}

/** Scores predictions per category × language (and the totals). */
export function scoreEvaluation(lines: readonly EvalLine[], predictions: readonly Prediction[]): EvalReport {
  const cells = new Map<string, Cell>();
  const misses: EvalReport["misses"] = [];
  lines.forEach((line, i) => {
    const p = predictions[i];
    if (!p) throw new Error(`no prediction for ${line.id}`);
    const matching = CATEGORY_MAP[line.category].some((c) => p.alerts.has(c));
    const any = p.alerts.size > 0;
    for (const key of [`${line.lang}/${line.category}`, `${line.lang}/all`, `all/${line.category}`, "all/all"]) {
      const cell = cells.get(key) ?? emptyCell();
      cells.set(key, cell);
      if (p.unavailable) cell.unavailable++;
      if (line.label === "alert") {
        cell.alerts++;
        if (matching) cell.hits++;
        if (any) cell.anyHits++;
      } else {
        cell.lookalikes++;
        if (any) cell.falseAlerts++;
      }
    }
    if ((line.label === "alert" && !matching) || (line.label === "lookalike" && any)) misses.push({ line, got: [...p.alerts] });
  });
  return { cells, misses };
}

const pct = (n: number, d: number): string => (d === 0 ? "-" : `${((n / d) * 100).toFixed(1)}%`);

/** The report as a fixed-width table, one row per language × category, with totals. */
export function formatEvaluation(report: EvalReport): string {
  const head = `${"lang".padEnd(5)}${"category".padEnd(17)}${"alerts".padStart(7)}${"recall".padStart(8)}${"any".padStart(8)}${"lookalk".padStart(8)}${"false".padStart(7)}${"rate".padStart(8)}${"unavail".padStart(9)}`;
  const rows = [head];
  for (const lang of [...EVAL_LANGS, "all"]) {
    for (const category of [...EVAL_CATEGORIES, "all"]) {
      const c = report.cells.get(`${lang}/${category}`);
      if (!c) continue;
      rows.push(
        `${lang.padEnd(5)}${category.padEnd(17)}${String(c.alerts).padStart(7)}${pct(c.hits, c.alerts).padStart(8)}${pct(c.anyHits, c.alerts).padStart(8)}${String(c.lookalikes).padStart(8)}${String(c.falseAlerts).padStart(7)}${pct(c.falseAlerts, c.lookalikes).padStart(8)}${String(c.unavailable).padStart(9)}`,
      );
    }
  }
  return rows.join("\n");
}
