import { isAscii } from "../text.ts";
import { ENGLISH_WORD_NAMES, isFirstName, isKnownWord, isLastName, isNounOnly, type MessageLanguage } from "./lexicon.ts";
import { EN_CUE, EN_NAME_AFTER, EN_STOP, PUBLIC_PERSON_CONTEXT } from "./people-en.ts";
import { ES_CUE, ES_STOP, ES_TITLES } from "./people-es.ts";
import { VI_COMPOUNDS, VI_CUE, VI_KIN_ORDINALS, VI_STOP, VI_TITLES } from "./people-vi.ts";
import type { PiiSpan } from "./types.ts";

/**
 * Other people's names: classmates, friends, family, teachers. Students rarely capitalise, so
 * capitalisation cannot carry this; two signals do instead:
 *
 * 1. A relation or title right before the name, in English, Spanish or Vietnamese ("my mom
 *    maria", "my friends harper, zoe and mia", "ms. kaur", "mi hermano diego", "la profe beatriz",
 *    "bạn minh", "mẹ tôi tên lan", "thầy khôi"). The word after it is the name unless it is a
 *    function word, a verb or (in English) an ordinary word in compromise's lexicon.
 * 2. In English, a word that compromise's lexicon knows mainly as a given name ("tyler",
 *    "brianna"), unless the message is about a public or fictional person ("who was…", "in the
 *    book…") or the name comes with a surname ("george washington", "harry potter"), which in
 *    student questions is nearly always someone famous. A classmate's full name after a relation
 *    word is still caught by (1).
 *
 * Each language's words are in people-en.ts, people-es.ts and people-vi.ts; the two signals are here.
 */

// Letters glued to digits stay one token ("90bea870", "ann345"): a code, never a name.
const TOKEN = /[\p{L}\p{M}\p{N}][\p{L}\p{M}\p{N}'’-]*|[^\s\p{L}\p{N}]/gu;
const WORD = /^\p{L}[\p{L}\p{M}'’-]*$/u;

export interface Token {
  text: string;
  lower: string;
  start: number;
  end: number;
  possessive: boolean;
}

function token(raw: string, start: number): Token {
  // "tyler's mom": the possessive is not part of the name.
  const n = raw.length;
  const word = n >= 2 && (raw.charCodeAt(n - 1) | 0x20) === 0x73 && (raw[n - 2] === "'" || raw[n - 2] === "’") ? raw.slice(0, -2) : raw;
  return { text: word, lower: word.toLowerCase(), start, end: start + word.length, possessive: word !== raw };
}

const isAsciiAlnum = (c: number): boolean => (c >= 0x61 && c <= 0x7a) || (c >= 0x41 && c <= 0x5a) || (c >= 0x30 && c <= 0x39);
// `\s` among ASCII characters: tab, line feed, vertical tab, form feed, carriage return, space.
const isAsciiSpace = (c: number): boolean => c === 0x20 || (c >= 0x09 && c <= 0x0d);

/** {@link TOKEN}'s matches in a text of ASCII characters, read character by character. */
function tokenizeAscii(text: string): Token[] {
  const tokens: Token[] = [];
  let i = 0;
  while (i < text.length) {
    const c = text.charCodeAt(i);
    if (isAsciiAlnum(c)) {
      let j = i + 1;
      for (let d = text.charCodeAt(j); j < text.length && (isAsciiAlnum(d) || d === 0x27 || d === 0x2d); d = text.charCodeAt(++j));
      tokens.push(token(text.slice(i, j), i));
      i = j;
    } else {
      if (!isAsciiSpace(c)) tokens.push(token(text.charAt(i), i));
      i++;
    }
  }
  return tokens;
}

/** The text's tokens ({@link TOKEN}); exported for tests. */
export function tokenize(text: string): Token[] {
  return isAscii(text) ? tokenizeAscii(text) : tokenizeByPattern(text);
}

/** {@link tokenize} by its definition, the pattern: kept for tests. */
export function tokenizeByPattern(text: string): Token[] {
  return [...text.matchAll(TOKEN)].map((m) => token(m[0], m.index));
}

// Questions about public people ("hai bà trưng là ai", "quien fue don benito"): a bare title
// there names a historical figure; a possessive ("my aunt", "mi tía", "cô của t") still marks family.
const PUBLIC_QUESTION = /(?<![\p{L}])(?:who\s+(?:was|is|were)|là ai|quien\s+(?:fue|era|es)|quién\s+(?:fue|era|es))(?![\p{L}])/iu;
const POSSESSIVE = /(?<![\p{L}])(?:my|our|his|her|their|your|ur|mi|mis|tu|tus|su|sus|t|tôi|mình|em|tao|tớ|của)(?![\p{L}])/iu;
const LIST_JOINERS = new Set([",", "and", "&", "y", "e", "và", "với", "vs"]);
const PLURAL_CUE =
  /(?:friends|cousins|sisters|brothers|classmates|siblings|besties|amig[oa]s|prim[oa]s|herman[oa]s|compas|compañer[oa]s|t[ií][oa]s|bạn|sobrin[oa]s)\s*,?\s*$/iu;

function acceptsName(token: Token, lang: MessageLanguage, afterCue: boolean): boolean {
  if (!WORD.test(token.text) || [...token.text].length < 2) return false;
  if (lang === "vi") return !VI_STOP.has(token.lower) || (afterCue && VI_KIN_ORDINALS.has(token.lower));
  if (lang === "es") return !ES_STOP.has(token.lower) && !EN_STOP.has(token.lower);
  if (EN_STOP.has(token.lower)) return false;
  if (isFirstName(token.text)) return true;
  // Adverbs the lexicon does not list ("ask my teacher politely").
  if (/ly$/.test(token.lower) && token.lower.length > 5) return false;
  // After a relation an unknown word is a name ("my uncle raj"), and so is a word the lexicon
  // knows only as a noun ("my stepdad ray", "my grandpa jan"); never a verb ("my mom says").
  return !isKnownWord(token.text) || (afterCue && isNounOnly(token.text));
}

function secondPart(token: Token | undefined, lang: MessageLanguage): boolean {
  if (!token || !WORD.test(token.text)) return false;
  if (isFirstName(token.text) || isLastName(token.text)) return true;
  if (lang === "vi") return !VI_STOP.has(token.lower);
  if (lang === "es") return /^\p{Lu}/u.test(token.text);
  return !EN_STOP.has(token.lower) && !isKnownWord(token.text);
}

/** Tokens joined by a single space or hyphen, so "ana sofia" is one name but "ana, sofia" is not. */
function adjacent(text: string, a: Token, b: Token): boolean {
  return /^[ -]$/.test(text.slice(a.end, b.start));
}

/** Other people's names, as `person` spans. */
export function findOtherPeople(text: string, lang: MessageLanguage): PiiSpan[] {
  const tokens = tokenize(text);
  const spans: PiiSpan[] = [];
  const cue = lang === "vi" ? VI_CUE : lang === "es" ? ES_CUE : EN_CUE;
  // Where a relation or title ends: one pass over the text, not a regex per word.
  const cueEnds = new Set<number>();
  for (const m of text.matchAll(cue)) cueEnds.add(m.index + m[0].length);
  const taken = new Set<number>();
  const take = (i: number, afterCue: boolean): number => {
    const first = tokens[i];
    if (!first || taken.has(i) || !acceptsName(first, lang, afterCue)) return i;
    let last = i;
    const next = tokens[i + 1];
    const allowSecond = lang === "vi" ? !VI_KIN_ORDINALS.has(first.lower) : true;
    if (allowSecond && next && adjacent(text, first, next) && secondPart(next, lang)) last = i + 1;
    for (let k = i; k <= last; k++) taken.add(k);
    spans.push({ kind: "person", start: first.start, end: tokens[last]?.end ?? first.end });
    return last + 1;
  };
  for (let i = 0; i < tokens.length; i++) {
    const token = tokens[i];
    if (!token || taken.has(i)) continue;
    if (!cueEnds.has(token.start)) continue;
    const before = text.slice(Math.max(0, token.start - 40), token.start);
    let j = i;
    // "bà ngoại t bà sáu", "my uncle mr. lee": skip a title between the relation and the name.
    while (lang === "vi" && tokens[j] && VI_TITLES.has(tokens[j]?.lower ?? "") && tokens[j + 1] && !VI_STOP.has(tokens[j + 1]?.lower ?? "x")) j++;
    while (lang === "es" && tokens[j] && ES_TITLES.has(tokens[j]?.lower ?? "") && tokens[j + 1]) j++;
    const previous = tokens[j - 1];
    if (lang === "vi" && previous && VI_COMPOUNDS.has(`${previous.lower} ${tokens[j]?.lower ?? ""}`)) continue;
    if (PUBLIC_QUESTION.test(text) && !POSSESSIVE.test(before)) continue;
    let after = take(j, true);
    if (after === j || !PLURAL_CUE.test(before)) continue;
    // "my friends harper, zoe and mia", "mis primas yesenia y lorena".
    while (after < tokens.length && LIST_JOINERS.has(tokens[after]?.lower ?? "")) {
      let k = after + 1;
      if (tokens[after]?.lower === "," && LIST_JOINERS.has(tokens[k]?.lower ?? "")) k++;
      const next = take(k, true);
      if (next === k) break;
      after = next;
    }
  }
  if (lang !== "en") return spans;
  // Asked only once a bare name is found (and before it is kept): most messages have none.
  let publicContext: boolean | undefined;
  for (let i = 0; i < tokens.length; i++) {
    const token = tokens[i];
    if (!token || taken.has(i) || EN_STOP.has(token.lower) || !/^\p{L}{3,}$/u.test(token.text)) continue;
    if (!isFirstName(token.text)) {
      // A word the lexicon does not know, right before "said" / "and i": a name it lacks.
      if (!isKnownWord(token.text) && !isLastName(token.text) && EN_NAME_AFTER.test(text.slice(token.end, token.end + 20))) {
        publicContext ??= PUBLIC_PERSON_CONTEXT.test(text);
        if (publicContext) break;
        spans.push({ kind: "person", start: token.start, end: token.end });
      }
      continue;
    }
    // "we say grace", "will you": without a relation word these need a capital letter.
    if (ENGLISH_WORD_NAMES.has(token.lower) && !/^\p{Lu}/u.test(token.text)) continue;
    const prev = tokens[i - 1];
    const next = tokens[i + 1];
    // "got into howard", "in jackson": after these, a name is more often a place.
    if (prev && /^(?:into|in|at)$/.test(prev.lower)) continue;
    const withSurname =
      (next &&
        adjacent(text, token, next) &&
        WORD.test(next.text) &&
        (isLastName(next.text) || isFirstName(next.text) || isNounOnly(next.text) || !isKnownWord(next.text) || next.possessive) &&
        !EN_STOP.has(next.lower)) ||
      (prev && adjacent(text, prev, token) && isFirstName(prev.text) && !EN_STOP.has(prev.lower));
    if (withSurname) continue;
    publicContext ??= PUBLIC_PERSON_CONTEXT.test(text);
    if (publicContext) break;
    spans.push({ kind: "person", start: token.start, end: token.end });
  }
  return spans;
}
