import { describe, expect, test } from "bun:test";
import { generatedCorpus, loadCorpus } from "../scripts/corpus.ts";
import { guessLanguage, languageWordCounts, languageWordCountsByPatterns } from "../src/pii/language.ts";
import { tokenize, tokenizeByPattern } from "../src/pii/people.ts";
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
});
