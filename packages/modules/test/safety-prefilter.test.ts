import { describe, expect, test } from "bun:test";
import { generatedCorpus, loadCorpus } from "../scripts/corpus.ts";
import { assessText } from "../src/safety/detect.ts";
import { classifierForm, safetyForms, safetyVariants } from "../src/safety/normalize.ts";
import { candidateRules, requiredLiterals } from "../src/safety/prefilter.ts";
import { ANSWER_RULES, SAFETY_CATEGORIES } from "../src/safety/rules.ts";
import { STUDENT_RULES } from "../src/safety/student-rules.ts";

const base = loadCorpus();
// Every text of the data sets, and variations of them (leetspeak, stretched and spelled-out
// letters, upper case, accents stripped, messages run together…).
const texts = [...base, ...generatedCorpus(base, 2500, 23)].map((c) => c.text);
const allCategories = new Set(SAFETY_CATEGORIES);

describe("required literals", () => {
  test("are read from a pattern's structure", () => {
    expect(requiredLiterals(/\bwant to die\b/g)).toEqual(["want to die"]);
    expect(requiredLiterals(/\b(?:kill|hurt) myself\b/g)).toEqual([" myself"]);
    expect(requiredLiterals(/\b(?:cutting|burning)\b|\bkms\b/g)).toEqual(["cutting", "burning", "kms"]);
    // Optional pieces split a literal; lookarounds and classes require nothing.
    expect(requiredLiterals(/\bhaven'?t eaten\b/g)).toEqual(["t eaten"]);
    expect(requiredLiterals(/(?<!not )\bsad\b(?! movie)/g)).toEqual(["sad"]);
    expect(requiredLiterals(/\bab+c\b/g)).toEqual(["ab"]);
    // Escapes are the characters they stand for; zero-width assertions do not split a literal.
    expect(requiredLiterals(/\u0111ie|ch\u1EBFt/g)).toEqual(["đie", "chết"]);
    expect(requiredLiterals(/\x41\/b/g)).toEqual(["A/b"]);
    expect(requiredLiterals(/kill\b myself/g)).toEqual(["kill myself"]);
    expect(requiredLiterals(/\bwant (?:to )?die\b/g)).toEqual(["want "]);
  });

  test("are not claimed when the pattern cannot be read or a branch holds none", () => {
    expect(requiredLiterals(/\bdie\b|\w+ing/g)).toEqual(["die", "ing"]);
    expect(requiredLiterals(/\bdie\b|\w+/g)).toBeNull();
    expect(requiredLiterals(/kill/giu)).toBeNull();
    expect(requiredLiterals(/(a)\1/g)).toBeNull();
    expect(requiredLiterals(/(?<w>ab)\k<w>/g)).toEqual(["ab"]);
    expect(requiredLiterals(/(?i:kill)/g)).toBeNull(); // modifiers change how letters match
    expect(requiredLiterals(/[k]ill|\d+ pills/g)).toEqual(["ill", " pills"]); // a class, even of one, is no literal
    expect(requiredLiterals(/[a-z]+.\d/g)).toBeNull();
    expect(requiredLiterals(/a.b/g)).toBeNull(); // one-letter literals are not worth a look-up
  });

  test("every match of every rule, on every form of every text, contains one of its literals", () => {
    const rules = [...STUDENT_RULES, ...ANSWER_RULES];
    let matches = 0;
    let skipped = 0;
    for (const text of texts) {
      const variants = safetyVariants(text);
      const may = candidateRules(rules, variants);
      variants.forEach((variant, v) => {
        rules.forEach((rule, r) => {
          const pattern = new RegExp(rule.pattern.source, rule.pattern.flags);
          const hit = pattern.test(variant);
          if (hit) matches++;
          if (may[v]?.[r] === 0) {
            skipped++;
            if (hit) throw new Error(`rule ${rule.id} matches ${JSON.stringify(variant)} but was ruled out`);
          }
        });
      });
    }
    // The check means something only if the texts match rules and the prefilter skips most runs.
    expect(matches).toBeGreaterThan(1000);
    expect(skipped).toBeGreaterThan(0.8 * texts.length * rules.length);
  }, 120_000);
});

describe("assessments with the prefilter", () => {
  test("equal every rule run on every form, student and answer rules", () => {
    let found = 0;
    for (const text of texts) {
      const variants = safetyVariants(text);
      for (const rules of [STUDENT_RULES, ANSWER_RULES]) {
        const excusedFast = new Set();
        const excusedAll = new Set();
        const fast = assessText(text, rules, allCategories, excusedFast as never, variants, true);
        const all = assessText(text, rules, allCategories, excusedAll as never, variants, false);
        expect(fast).toEqual(all);
        expect([...excusedFast]).toEqual([...excusedAll]);
        found += all.length;
      }
    }
    expect(found).toBeGreaterThan(500);
  }, 120_000);
});

// The normalisation as it was written before its ASCII fast paths, to hold them to it.
const LEET: Record<string, string> = { "0": "o", "1": "i", "3": "e", "4": "a", "5": "s", "7": "t", "@": "a", $: "s", "!": "i" };
const reference = {
  lowerPlain: (t: string) =>
    t
      .normalize("NFKC")
      .replace(/[\u200B-\u200D\u2060\uFEFF]/g, "")
      .replace(/[’‘`]/g, "'")
      .toLowerCase(),
  deleet: (t: string) =>
    t.replace(/[\p{L}\d@$!]+/gu, (word) => {
      if (!/\p{L}/u.test(word) || !/[\d@$!]/.test(word)) return word;
      const core = word.replace(/!+$/, "");
      return core.replace(/[013457@$!]/g, (c) => LEET[c] ?? c) + word.slice(core.length);
    }),
  join: (t: string) =>
    t.replace(/(?<![\p{L}\p{N}])\p{L}(?:[ .\-_*]\p{L}(?![\p{L}\p{N}])){2,}/gu, (run) => {
      const tail = /[ .\-_*]([ai])$/.exec(run);
      if (tail && run.length >= 9) return `${run.slice(0, tail.index).replace(/[ .\-_*]/g, "")} ${tail[1]}`;
      return run.replace(/[ .\-_*]/g, "");
    }),
  squeeze: (t: string, keep: 1 | 2) => t.replace(/(\p{L})\1{2,}/gu, keep === 1 ? "$1" : "$1$1"),
  fold: (t: string) =>
    t
      .normalize("NFD")
      .replace(/\p{M}+/gu, "")
      .replace(/đ/g, "d"),
};

test("the safety forms equal the normalisation's definition", () => {
  const extra = ["`quoted` TEXT", "I WANT TO D1E!!!", "k.y.s", "muốn chết", "ｆｕｌｌ ｗｉｄｔｈ", "zero\u200bwidth", "ĐI ĐÂU", ""];
  for (const text of [...texts, ...extra]) {
    const lower = reference.lowerPlain(text);
    const cleaned = reference.join(reference.deleet(lower));
    const variants = [...new Set([lower, cleaned, reference.squeeze(cleaned, 1), reference.squeeze(cleaned, 2), reference.fold(cleaned)])];
    const forms = safetyForms(text);
    expect(forms.variants).toEqual(variants);
    expect(safetyVariants(text)).toEqual(variants);
    expect(forms.classifier).toBe(reference.fold(reference.squeeze(cleaned, 2)));
    expect(classifierForm(text)).toBe(forms.classifier);
  }
}, 60_000);
