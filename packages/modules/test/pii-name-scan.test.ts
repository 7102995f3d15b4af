import { describe, expect, test } from "bun:test";
import { namePatternSource, nicknamePatternSource, scanName, scanNickname } from "../src/pii/name-scan.ts";
import { foldForMatch } from "../src/text.ts";

// The scanners must find exactly what the patterns they replace find, on any text.
const viaPattern = (source: string, folded: string) => [...folded.matchAll(new RegExp(source, "gu"))].map((m) => ({ index: m.index, text: m[0] }));

// A small deterministic generator (mulberry32), so a failure reproduces.
function random(seed: number) {
  let a = seed;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const NAMES = ["maya", "o'brien", "o’brien", "mary ann", "nguyen thi lan", "siobhan", "sofia", "carolina", "jo-anne", "ana", "đỗ", "hưng", "li", "𝒶lex"];
// Pieces texts are made of: the names' own pieces, separators, boundaries of every kind.
const PIECES = [
  ..."abcdefghijklmnopqrstuvwxyz".split(""),
  ...NAMES,
  "ma",
  "may",
  "mayan",
  "sof",
  "sofi",
  "caro",
  "carol",
  "o",
  "brien",
  " ",
  "  ",
  ".",
  "_",
  "-",
  "\t",
  "\n",
  "\u00a0",
  "'",
  "’",
  ",",
  "!",
  "1",
  "٣",
  "é",
  "ñ",
  "𝒶",
  "😀",
  "ã",
];

function text(next: () => number): string {
  let out = "";
  const n = 1 + Math.floor(next() * 14);
  for (let i = 0; i < n; i++) out += PIECES[Math.floor(next() * PIECES.length)] ?? "";
  return out;
}

describe("name scanners match the patterns they replace", () => {
  test("full names and name parts, on generated texts", () => {
    const next = random(11);
    let compared = 0;
    let found = 0;
    for (let i = 0; i < 4000; i++) {
      const folded = foldForMatch(text(next));
      for (const name of NAMES) {
        const foldedName = foldForMatch(name);
        const expected = viaPattern(namePatternSource(foldedName), folded);
        expect({ folded, name, hits: scanName(folded, foldedName) }).toEqual({ folded, name, hits: expected });
        compared++;
        found += expected.length;
      }
    }
    // The texts must actually contain names, or the comparison proves little.
    expect(compared).toBe(4000 * NAMES.length);
    expect(found).toBeGreaterThan(400);
  });

  test("nicknames, on generated texts", () => {
    const next = random(23);
    let found = 0;
    for (let i = 0; i < 4000; i++) {
      const folded = foldForMatch(text(next));
      for (const name of ["siobhan", "sofia", "carolina", "maria", "𝒶lexander"]) {
        const expected = viaPattern(nicknamePatternSource(name), folded);
        expect({ folded, name, hits: scanNickname(folded, name) }).toEqual({ folded, name, hits: expected });
        found += expected.length;
      }
    }
    expect(found).toBeGreaterThan(300);
  });

  test("written examples", () => {
    expect(scanName("i'm maya's friend, not mayan", "maya")).toEqual([{ index: 4, text: "maya" }]);
    expect(scanName("mary_ann. and mary -  ann", "mary ann")).toEqual([
      { index: 0, text: "mary_ann" },
      { index: 14, text: "mary -  ann" },
    ]);
    expect(scanName("o’brien and o'brien", "o'brien").map((h) => h.text)).toEqual(["o’brien", "o'brien"]);
    expect(scanNickname("call me sofi or sofiaa or sof1", "sofia").map((h) => h.text)).toEqual(["sofi"]);
  });
});
