import { describe, expect, test } from "bun:test";
import { generatedCorpus, loadCorpus } from "../scripts/corpus.ts";
import { guessLanguage, languageWordCounts, languageWordCountsByPatterns } from "../src/pii/language.ts";
import { tokenize, tokenizeByPattern } from "../src/pii/people.ts";
import { redactPii } from "../src/pii/redact.ts";
import { foldForMatch, foldForMatchByCharacter } from "../src/text.ts";

// The PII filter's fast paths each stand in for a definition kept beside them: over every text of
// the data sets, generated variations and a few crafted edge cases, the two give the same answer.
const base = loadCorpus();
const texts = [
  ...base.map((c) => c.text),
  ...generatedCorpus(base, 4000).map((c) => c.text),
  // Case folding beyond ASCII: long s folds to "s", the Kelvin sign to "k"; "I'M" is the word "i".
  "ſo THE qué, I'M here i'm",
  "Kelvin: ok, la\u0301 la, Ǆ ß ŉ ΐ İstanbul",
  // Lone and paired surrogates, emoji next to letters.
  "\ud800x a\udc00b 😀Sofía😀 𝒜bc",
  // Longer than the fold's chunk, with a pair across the chunk's edge.
  `${"é".repeat(4095)}😀${"x".repeat(5000)}`,
  "tyler's mom, TYLER'S, o'neil-smith 90bea870 - ' 's \t\v\f\r\n end",
];

describe("pii fast paths", () => {
  test("foldForMatch equals its per-character definition", () => {
    for (const text of texts) expect(foldForMatch(text)).toBe(foldForMatchByCharacter(text));
  });

  test("the language word counts equal the three patterns' match counts", () => {
    for (const text of texts) {
      const opening = text.slice(0, 600);
      expect(languageWordCounts(opening)).toEqual(languageWordCountsByPatterns(opening));
    }
    // "ſo", "THE", "I" (of "I'M") and "i" are English; "qué" is Spanish.
    expect(languageWordCounts("ſo THE qué, I'M here i'm")).toEqual([0, 1, 4]);
    expect(guessLanguage("QUÉ es la tarea")).toBe("es");
  });

  test("the people tokenizer equals its pattern", () => {
    for (const text of texts) expect(tokenize(text)).toEqual(tokenizeByPattern(text));
    expect(tokenize("tyler's mom").map((t) => [t.text, t.possessive])).toEqual([
      ["tyler", true],
      ["mom", false],
    ]);
  });

  // The detectors skip text without the characters their matches need; the forms that need none
  // of them still run (check-decisions.ts compares every outcome with main's).
  test("a street with no number and e-mails spelled out are still found without a digit or @", () => {
    const now = new Date("2026-01-15T10:00:00Z");
    // `ſ` folds to `s` under the street pattern's `iu` flags, so the gate must fold it too.
    for (const text of ["vivo en calle hidalgo s/n", "mi casa está en calle morelos S/N, colonia centro", "vivo en calle hidalgo ſ/n"]) {
      expect(redactPii(text, { now }).counts).toEqual({ address: 1 });
    }
    expect(redactPii("email me at jdoe [at] school [dot] edu", { now }).text).toBe("email me at [email]");
    expect(redactPii("my insta is FB.COM/kira.xo", { now }).counts.handle).toBeGreaterThan(0);
  });
});
