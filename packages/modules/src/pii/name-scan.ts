/**
 * Finding a student's name in a folded message without compiling a RegExp per name.
 *
 * Each new student used to cost a handful of Unicode RegExps (their full names, name parts and
 * nickname prefixes), compiled on first use: on a live instance where most sessions are a
 * student's first, that compilation was a visible share of a chat turn. These scanners find the
 * same matches with `indexOf` and a boundary check, and are tested against the patterns they
 * replace (`namePatternSource`, `nicknamePatternSource`), which stay the definition.
 */

import { escapeRegExp } from "../text.ts";

const WORD_CHAR = /^[\p{L}\p{N}]$/u;
const LETTER = /^\p{L}$/u;
const SEPARATOR = /^[\s._-]$/u;

/** A match in the folded text: where it starts and the matched text. */
export interface NameHit {
  index: number;
  text: string;
}

/** The code point that ends right before `index`, or -1 at the start. */
function codePointBefore(text: string, index: number): number {
  if (index <= 0) return -1;
  const low = text.charCodeAt(index - 1);
  if (low >= 0xdc00 && low <= 0xdfff && index >= 2) {
    const high = text.charCodeAt(index - 2);
    if (high >= 0xd800 && high <= 0xdbff) return text.codePointAt(index - 2) ?? -1;
  }
  return low;
}

function isWordCodePoint(cp: number): boolean {
  return cp >= 0 && (cp < 0x80 ? (cp >= 0x30 && cp <= 0x39) || (cp >= 0x61 && cp <= 0x7a) || (cp >= 0x41 && cp <= 0x5a) : WORD_CHAR.test(String.fromCodePoint(cp)));
}

function isLetterCodePoint(cp: number): boolean {
  return cp >= 0 && (cp < 0x80 ? (cp >= 0x61 && cp <= 0x7a) || (cp >= 0x41 && cp <= 0x5a) : LETTER.test(String.fromCodePoint(cp)));
}

const wordBefore = (text: string, index: number) => isWordCodePoint(codePointBefore(text, index));
const wordAt = (text: string, index: number) => index < text.length && isWordCodePoint(text.codePointAt(index) ?? -1);
const separatorAt = (text: string, index: number) => index < text.length && SEPARATOR.test(text.charAt(index));

// Both apostrophes match either, as the patterns' `['’]` did: compared with one of them.
export const sameApostrophe = (text: string) => (text.includes("’") ? text.replaceAll("’", "'") : text);

/** The words of a folded name, as the name pattern joins them. */
export function nameWords(foldedName: string): string[] {
  return sameApostrophe(foldedName)
    .split(/\s+/)
    .filter((w) => w.length > 0);
}

/**
 * Where the words from `w` on match from `pos` (the end of the previous word): separators, as many
 * as possible first and fewer on a miss (the pattern's greedy `[\s._-]+`), then the word; after
 * the last word, no letter or digit may follow. The end of the match, or -1.
 */
function restFrom(hay: string, words: readonly string[], w: number, pos: number): number {
  if (w === words.length) return wordAt(hay, pos) ? -1 : pos;
  const word = words[w] ?? "";
  let run = pos;
  while (separatorAt(hay, run)) run++;
  for (let start = run; start > pos; start--) {
    if (!hay.startsWith(word, start)) continue;
    const end = restFrom(hay, words, w + 1, start + word.length);
    if (end >= 0) return end;
  }
  return -1;
}

/**
 * Every match of the folded name `foldedName` in the folded text, left to right and not
 * overlapping: its words with separators between, on word boundaries ({@link namePatternSource}).
 */
export function scanName(folded: string, foldedName: string): NameHit[] {
  return scanNameWords(folded, sameApostrophe(folded), nameWords(foldedName));
}

/**
 * {@link scanName} with its parts prepared by the caller, once per message (`hay` = the folded
 * text with one apostrophe) and once per name (`words` = {@link nameWords}).
 */
export function scanNameWords(folded: string, hay: string, words: readonly string[]): NameHit[] {
  const first = words[0];
  if (!first) return [];
  const hits: NameHit[] = [];
  let from = 0;
  for (;;) {
    const at = hay.indexOf(first, from);
    if (at < 0) return hits;
    const end = wordBefore(hay, at) ? -1 : restFrom(hay, words, 1, at + first.length);
    if (end < 0) {
      from = at + 1;
      continue;
    }
    hits.push({ index: at, text: folded.slice(at, end) });
    from = end;
  }
}

/**
 * Nicknames of a folded given name (five letters or more): the first three letters plus up to
 * `length - 4` more letters, on word boundaries ({@link nicknamePatternSource}).
 */
export function scanNickname(folded: string, foldedName: string): NameHit[] {
  const prefix = foldedName.slice(0, 3);
  const extra = foldedName.length - 4;
  const hits: NameHit[] = [];
  if (prefix.length === 0 || extra < 0) return hits;
  let from = 0;
  for (;;) {
    const at = folded.indexOf(prefix, from);
    if (at < 0) return hits;
    from = at + 1;
    if (wordBefore(folded, at)) continue;
    // Greedy letters; backing off one cannot help, since a letter would then follow.
    let end = at + prefix.length;
    let letters = 0;
    while (end < folded.length && letters <= extra) {
      const cp = folded.codePointAt(end) ?? -1;
      if (!isLetterCodePoint(cp)) break;
      end += cp > 0xffff ? 2 : 1;
      letters++;
    }
    if (letters > extra || wordAt(folded, end)) continue;
    hits.push({ index: at, text: folded.slice(at, end) });
    from = end;
  }
}

/** The name pattern these scanners replace, kept as their definition (tests compare the two). */
export function namePatternSource(foldedName: string): string {
  const body = foldedName
    .split(/\s+/)
    .map((w) => escapeRegExp(w).replace(/['’]/g, "['’]"))
    .join(String.raw`[\s._-]+`);
  return String.raw`(?<![\p{L}\p{N}])${body}(?![\p{L}\p{N}])`;
}

/** The nickname pattern {@link scanNickname} replaces. */
export function nicknamePatternSource(foldedName: string): string {
  return String.raw`(?<![\p{L}\p{N}])(${escapeRegExp(foldedName.slice(0, 3))}[\p{L}]{0,${foldedName.length - 4}})(?![\p{L}\p{N}])`;
}
