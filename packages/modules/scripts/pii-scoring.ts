/**
 * Scores redactPii against the span-labelled PII evaluation set (evaluation/pii.jsonl). Used by
 * scripts/evaluate-pii.ts (prints the tables) and its test.
 *
 * Definitions (strict on purpose, so a partial redaction never counts as a success):
 * - A gold span is **fully withheld** when every letter and digit of every occurrence of its value
 *   in the text (matched by value, case-insensitively, because a value can occur twice — a name
 *   and the same name inside an e-mail) lies inside some redaction. Spaces and punctuation may be
 *   left; any letter or digit left over — the city after a street, a first name before a redacted
 *   surname — makes the span leaked. The redaction's kind does not matter: a name withheld
 *   as part of an e-mail is withheld.
 * - **Precision** is per redaction: a redaction is correct when it overlaps some gold span (of any
 *   kind). Reported per module kind, since one module kind can cover two gold kinds. The
 *   character-level figure (redacted characters inside gold spans / all redacted characters) is
 *   printed too, so over-long redactions show.
 * - **False redactions** are redactions on lines that have no gold spans at all.
 */
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { z } from "zod";
import { PII_KINDS, redactPii, type PiiKind, type StudentInfo } from "../src/index.ts";

/** Fixed "now" so the age arithmetic for dates of birth does not drift. */
export const PII_EVALUATION_NOW = new Date("2026-01-15T12:00:00Z");

export const GOLD_KINDS = ["own_name", "family_name", "other_person_name", "email", "phone", "date_of_birth", "address", "student_id", "social_handle"] as const;
export type GoldKind = (typeof GOLD_KINDS)[number];

/** Which module kind is meant to withhold each labelled kind. */
export const GOLD_TO_MODULE_KIND: Record<GoldKind, PiiKind> = {
  own_name: "name",
  family_name: "person",
  other_person_name: "person",
  email: "email",
  phone: "phone",
  date_of_birth: "dob",
  address: "address",
  student_id: "student_id",
  social_handle: "handle",
};

export const LANGS = ["en", "es", "vi"] as const;
export type Lang = (typeof LANGS)[number];
export const SPLITS = ["dev", "heldout"] as const;
export type EvalSplit = (typeof SPLITS)[number];

const lineSchema = z.object({
  id: z.string(),
  lang: z.enum(LANGS),
  student: z.object({ givenName: z.string().optional(), familyName: z.string().optional() }),
  split: z.enum(SPLITS),
  text: z.string(),
  spans: z.array(z.object({ kind: z.enum(GOLD_KINDS), value: z.string().min(1) })),
});
export type PiiEvalLine = z.infer<typeof lineSchema>;

/**
 * The lines of one split (or all) from `<dir>/pii.jsonl`, or from `<dir>/dev/pii.jsonl` and
 * `<dir>/heldout/pii.jsonl` — the held-out file is opened only when that split is asked for.
 */
export function loadPiiEvaluation(dir: string, split: EvalSplit | "all" = "all"): PiiEvalLine[] {
  const wanted = (l: PiiEvalLine): boolean => split === "all" || l.split === split;
  if (existsSync(join(dir, "pii.jsonl"))) return readPiiFile(join(dir, "pii.jsonl")).filter(wanted);
  const files = SPLITS.filter((s) => split === "all" || s === split).map((s) => join(dir, s, "pii.jsonl"));
  const present = files.filter((f) => existsSync(f));
  if (present.length === 0) throw new Error(`no pii.jsonl in ${dir} (nor dev/ or heldout/ below it)`);
  return present.flatMap(readPiiFile).filter(wanted);
}

function readPiiFile(file: string): PiiEvalLine[] {
  return readFileSync(file, "utf8")
    .split("\n")
    .map((line, i) => ({ line: line.trim(), n: i + 1 }))
    .filter(({ line }) => line.length > 0)
    .map(({ line, n }) => {
      const parsed = lineSchema.safeParse(JSON.parse(line));
      if (!parsed.success) throw new Error(`${file}:${n}: ${z.prettifyError(parsed.error)}`);
      return parsed.data;
    });
}

export interface Cell {
  gold: number;
  withheld: number;
}
export interface PrecisionCell {
  redactions: number;
  correct: number;
  chars: number;
  charsInGold: number;
}
export interface LineResult {
  line: PiiEvalLine;
  output: string;
  leaked: Array<{ kind: GoldKind; value: string }>;
  wrong: Array<{ kind: PiiKind; text: string }>;
}
export interface PiiEvaluation {
  recall: Map<string, Cell>; // key `${goldKind}|${lang}`
  precision: Map<string, PrecisionCell>; // key `${moduleKind}|${lang}`
  falseRedactionLines: number;
  falseRedactions: number;
  spanlessLines: number;
  lines: LineResult[];
}

function occurrences(text: string, value: string): Array<{ start: number; end: number }> {
  const hay = text.toLowerCase();
  const needle = value.toLowerCase();
  const out: Array<{ start: number; end: number }> = [];
  // toLowerCase keeps UTF-16 lengths for the scripts in this set (Latin, Vietnamese).
  for (let i = hay.indexOf(needle); i >= 0; i = hay.indexOf(needle, i + 1)) out.push({ start: i, end: i + value.length });
  return out;
}

const bump = <T>(map: Map<string, T>, key: string, make: () => T): T => {
  const found = map.get(key);
  if (found) return found;
  const made = make();
  map.set(key, made);
  return made;
};

/** Redacts every line with the line's student and scores it (see the file header). */
export function evaluatePiiLines(lines: readonly PiiEvalLine[]): PiiEvaluation {
  const recall = new Map<string, Cell>();
  const precision = new Map<string, PrecisionCell>();
  const results: LineResult[] = [];
  let falseRedactionLines = 0;
  let falseRedactions = 0;
  let spanlessLines = 0;
  for (const line of lines) {
    const student: StudentInfo = { id: line.id, givenName: line.student.givenName, familyName: line.student.familyName };
    const redaction = redactPii(line.text, { student, now: PII_EVALUATION_NOW });
    const covered = new Uint8Array(line.text.length);
    for (const s of redaction.spans) covered.fill(1, s.start, s.end);
    const goldChars = new Uint8Array(line.text.length);
    const result: LineResult = { line, output: redaction.text, leaked: [], wrong: [] };
    for (const span of line.spans) {
      const cell = bump(recall, `${span.kind}|${line.lang}`, () => ({ gold: 0, withheld: 0 }));
      cell.gold++;
      const occ = occurrences(line.text, span.value);
      for (const o of occ) goldChars.fill(1, o.start, o.end);
      const leaked =
        occ.length === 0 ||
        occ.some((o) => {
          for (let i = o.start; i < o.end; i++) if (!covered[i] && /[\p{L}\p{N}]/u.test(line.text[i] ?? "")) return true;
          return false;
        });
      if (leaked) result.leaked.push(span);
      else cell.withheld++;
    }
    if (line.spans.length === 0) spanlessLines++;
    if (line.spans.length === 0 && redaction.spans.length > 0) {
      falseRedactionLines++;
      falseRedactions += redaction.spans.length;
    }
    for (const s of redaction.spans) {
      const cell = bump(precision, `${s.kind}|${line.lang}`, () => ({ redactions: 0, correct: 0, chars: 0, charsInGold: 0 }));
      cell.redactions++;
      let inGold = 0;
      for (let i = s.start; i < s.end; i++) inGold += goldChars[i] ?? 0;
      cell.chars += s.end - s.start;
      cell.charsInGold += inGold;
      if (inGold > 0) cell.correct++;
      else result.wrong.push({ kind: s.kind, text: line.text.slice(s.start, s.end) });
    }
    results.push(result);
  }
  return { recall, precision, falseRedactionLines, falseRedactions, spanlessLines, lines: results };
}

const pct = (n: number, d: number): string => (d === 0 ? "-" : `${((100 * n) / d).toFixed(1)}%`);
const sumCells = <K extends string>(cells: Array<Record<K, number>>, keys: K[]): Record<K, number> => {
  const out = {} as Record<K, number>;
  for (const k of keys) out[k] = cells.reduce<number>((acc, c) => acc + c[k], 0);
  return out;
};

/** The report, every line prefixed `[PII]`. */
export function formatPiiEvaluation(ev: PiiEvaluation, title: string): string {
  const out: string[] = [`[PII] ${title}`];
  const langs = [...LANGS, "all"] as const;
  const recallCell = (kind: GoldKind | "all", lang: Lang | "all"): Cell => {
    const cells = [...ev.recall.entries()]
      .filter(([k]) => {
        const [gk, gl] = k.split("|");
        return (kind === "all" || gk === kind) && (lang === "all" || gl === lang);
      })
      .map(([, c]) => c);
    return sumCells(cells, ["gold", "withheld"]);
  };
  out.push(`[PII] recall = fully withheld / gold spans`);
  out.push(`[PII] ${"kind".padEnd(18)}${langs.map((l) => l.padStart(18)).join("")}`);
  for (const kind of [...GOLD_KINDS, "all"] as const) {
    const cols = langs.map((lang) => {
      const c = recallCell(kind, lang);
      return `${c.withheld}/${c.gold} ${pct(c.withheld, c.gold)}`.padStart(18);
    });
    out.push(`[PII] ${kind.padEnd(18)}${cols.join("")}`);
  }
  const precisionCell = (kind: PiiKind | "all", lang: Lang | "all"): PrecisionCell => {
    const cells = [...ev.precision.entries()]
      .filter(([k]) => {
        const [mk, ml] = k.split("|");
        return (kind === "all" || mk === kind) && (lang === "all" || ml === lang);
      })
      .map(([, c]) => c);
    return sumCells(cells, ["redactions", "correct", "chars", "charsInGold"]);
  };
  out.push(`[PII] precision = redactions overlapping a gold span / redactions (chars: redacted chars inside gold spans)`);
  out.push(`[PII] ${"module kind".padEnd(18)}${langs.map((l) => l.padStart(18)).join("")}`);
  for (const kind of [...PII_KINDS, "all"] as const) {
    const cols = langs.map((lang) => {
      const c = precisionCell(kind, lang);
      return `${c.correct}/${c.redactions} ${pct(c.correct, c.redactions)}`.padStart(18);
    });
    out.push(`[PII] ${kind.padEnd(18)}${cols.join("")}`);
  }
  const charCols = langs.map((lang) => {
    const c = precisionCell("all", lang);
    return `chars ${pct(c.charsInGold, c.chars)}`.padStart(18);
  });
  out.push(`[PII] ${"all (chars)".padEnd(18)}${charCols.join("")}`);
  out.push(`[PII] lines without spans: ${ev.spanlessLines}, with a false redaction: ${ev.falseRedactionLines} (${ev.falseRedactions} redactions)`);
  return out.join("\n");
}

/** Overall recall and per-redaction precision, for thresholds. */
export function piiTotals(ev: PiiEvaluation, lang?: Lang): { recall: number; precision: number } {
  let gold = 0;
  let withheld = 0;
  let redactions = 0;
  let correct = 0;
  for (const [key, c] of ev.recall) {
    if (lang && !key.endsWith(`|${lang}`)) continue;
    gold += c.gold;
    withheld += c.withheld;
  }
  for (const [key, c] of ev.precision) {
    if (lang && !key.endsWith(`|${lang}`)) continue;
    redactions += c.redactions;
    correct += c.correct;
  }
  return { recall: gold === 0 ? 1 : withheld / gold, precision: redactions === 0 ? 1 : correct / redactions };
}
