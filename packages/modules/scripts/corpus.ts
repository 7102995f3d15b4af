/**
 * Every text the modules' data sets hold (the evaluation sets, the classifier's training set and
 * the fixtures: English, Spanish and Vietnamese, alerts and look-alikes, PII and none), each with
 * the student it was written for when the set names one, and a generated corpus built from them
 * by the ways students type and dodge filters. Read by bench/modules-turn.bench.ts (a rotating
 * corpus of new messages) and test/decisions.test.ts (the decisions over all of them).
 */
import { readFileSync } from "node:fs";
import { seededRandom } from "@raptscallions/core";
import { join } from "node:path";
import type { StudentInfo } from "../src/index.ts";

export interface CorpusText {
  text: string;
  student?: StudentInfo | undefined;
}

const ROOT = join(import.meta.dir, "..");
const FILES = ["evaluation/safety.jsonl", "evaluation/pii.jsonl", "evaluation/train/safety-train.jsonl", "fixtures/safety.jsonl", "fixtures/pii.jsonl"];

interface Line {
  text?: unknown;
  student?: { givenName?: string; familyName?: string; displayName?: string };
}

/** The data sets' texts in file order. */
export function loadCorpus(): CorpusText[] {
  const out: CorpusText[] = [];
  for (const file of FILES) {
    for (const raw of readFileSync(join(ROOT, file), "utf8").split("\n")) {
      if (!raw.trim()) continue;
      const line = JSON.parse(raw) as Line;
      if (typeof line.text !== "string") continue;
      const s = line.student;
      const student = s ? { id: `corpus-${out.length}`, givenName: s.givenName, familyName: s.familyName, displayName: s.displayName } : undefined;
      out.push({ text: line.text, student });
    }
  }
  return out;
}

const LEET: Record<string, string> = { a: "4", e: "3", i: "1", o: "0", s: "5", t: "7" };

/**
 * Variations of the corpus' texts: leetspeak, stretched letters, spelled-out words, upper case,
 * accents stripped, zero-width characters and curly quotes, two messages run together, a message
 * cut short, and punctuation the rules split on.
 */
export function generatedCorpus(base: readonly CorpusText[], count: number, seed = 11): CorpusText[] {
  const rnd = seededRandom(seed);
  const pick = (): CorpusText => base[Math.floor(rnd() * base.length)] ?? { text: "" };
  const words = (t: string): string[] => t.split(" ");
  const edits: Array<(t: string) => string> = [
    (t) => t.replace(/[aeiost]/g, (c) => (rnd() < 0.4 ? (LEET[c] ?? c) : c)),
    (t) =>
      words(t)
        .map((w) => (rnd() < 0.2 && w.length > 2 ? w.replace(/([a-z])/, "$1$1$1$1") : w))
        .join(" "),
    (t) =>
      words(t)
        .map((w) => (rnd() < 0.15 && /^[a-z]{3,8}$/.test(w) ? w.split("").join(rnd() < 0.5 ? " " : ".") : w))
        .join(" "),
    (t) => t.toUpperCase(),
    (t) => t.normalize("NFD").replace(/\p{M}+/gu, ""),
    (t) => t.replace(/ /g, () => (rnd() < 0.1 ? " \u200b" : " ")).replace(/'/g, "’"),
    (t) => `${t} ${pick().text}`,
    (t) => t.slice(0, Math.max(1, Math.floor(t.length * (0.3 + rnd() * 0.6)))),
    (t) => t.replace(/, /g, () => ["; ", ". ", " btw ", "! ", "\n"][Math.floor(rnd() * 5)] ?? ", "),
    (t) => t.replace(/\b([a-z])/g, (c) => (rnd() < 0.3 ? c.toUpperCase() : c)),
  ];
  const out: CorpusText[] = [];
  for (let i = 0; i < count; i++) {
    const from = pick();
    let text = from.text;
    const n = 1 + Math.floor(rnd() * 3);
    for (let k = 0; k < n; k++) text = (edits[Math.floor(rnd() * edits.length)] ?? ((t: string) => t))(text);
    out.push({ text, student: from.student });
  }
  return out;
}
