import type { PiiSpan } from "./types.ts";
import { EN_FUNCTION_WORDS } from "./function-words-en.ts";

// English street lines: a house number, one to three name words and a street type after them
// ("23 gardenia way", "88 harbor view rd N, apt 4"). The other street forms, the city/state/zip
// tail and postcodes are in address-intl.ts and address-tail.ts; address.ts puts them together.

// Street types that are rarely anything else after "<number> <name>".
const CLEAR_SUFFIXES = new Set([
  "street",
  "st",
  "avenue",
  "ave",
  "av",
  "road",
  "rd",
  "lane",
  "ln",
  "boulevard",
  "blvd",
  "parkway",
  "pkwy",
  "highway",
  "hwy",
  "terrace",
  "crescent",
  "cres",
  "mews",
]);
// Street types that are also everyday nouns ("9 supreme court justices"): these need a capital
// letter ("Gardenia Way") or an address cue before the number ("we live at 23 gardenia way").
const AMBIGUOUS_SUFFIXES = new Set([
  "court",
  "ct",
  "way",
  "place",
  "pl",
  "close",
  "circle",
  "cir",
  "square",
  "sq",
  "row",
  "hill",
  "grove",
  "trail",
  "gardens",
  "park",
  "walk",
  "green",
  "rise",
  "view",
  "wharf",
  "alley",
  "drive",
  "dr",
]);
const DIRECTIONS = new Set(["n", "s", "e", "w", "ne", "nw", "se", "sw", "n.", "s.", "e.", "w."]);
// Words that cannot be part of a street name, so "3 miles down the road" is not an address.
const NOT_NAME_WORDS = new Set([
  ...EN_FUNCTION_WORDS,
  "down",
  "up",
  "along",
  "across",
  "over",
  "under",
  "into",
  "onto",
  "these",
  "those",
  "its",
  "times",
  "plus",
  "minus",
  "more",
  "less",
  "than",
  "miles",
  "mile",
  "km",
  "kms",
  "kilometres",
  "kilometers",
  "metres",
  "meters",
  "m",
  "blocks",
  "block",
  "minutes",
  "mins",
  "hours",
  "hrs",
  "days",
  "weeks",
  "years",
  "steps",
  "feet",
  "ft",
  "yards",
  "houses",
  "people",
  "cars",
  "lanes",
  "roads",
  "streets",
  "other",
  "same",
  "next",
  "last",
  "then",
  "which",
  "very",
  "tb",
  "gb",
  "mb",
]);
const ADDRESS_CUE = /\b(?:live|lives|living|lived|address|house|home|moved|move|staying|stay|flat|apartment|apt|come over|come to|deliver|postcode|zip)\b/i;
const WORD = /[^\s,;:!?()"]+/g;
export const HOUSE_NUMBER = /^\d{1,5}[a-z]?$/i;
const NAME_WORD = /^(?:[\p{L}][\p{L}'’.-]*|\d{1,3}(?:st|nd|rd|th))$/u;
const UNIT_AFTER = /^(?:,?\s*(?:apt\.?|apartment|unit|flat|suite|ste\.?|#)\s*[\w-]{1,5})/i;

/** A word of the message with its place; trailing sentence full stops are not part of it. */
export interface Token {
  text: string;
  start: number;
  end: number;
}

export function tokenize(text: string): Token[] {
  const tokens: Token[] = [];
  for (const m of text.matchAll(WORD)) {
    // Trailing full stops are sentence punctuation, except on one-letter abbreviations ("N.").
    let word = m[0];
    if (word.length > 2 && word.endsWith(".")) word = word.replace(/\.+$/, "");
    tokens.push({ text: word, start: m.index, end: m.index + word.length });
  }
  return tokens;
}

/** A word that can be part of a street's name ("willow", "5th"), not a function word or a unit ("miles"). */
export function isStreetNameWord(token: Token): boolean {
  return NAME_WORD.test(token.text) && !NOT_NAME_WORDS.has(token.text.toLowerCase());
}

function suffixKind(token: Token | undefined): "clear" | "ambiguous" | undefined {
  const suffix = token?.text.toLowerCase().replace(/\.$/, "") ?? "";
  if (CLEAR_SUFFIXES.has(suffix)) return "clear";
  return AMBIGUOUS_SUFFIXES.has(suffix) ? "ambiguous" : undefined;
}

/** The street line starting at house number `tokens[i]`, if the words after it make one. */
export function streetAt(text: string, tokens: Token[], i: number): PiiSpan | undefined {
  // A clear street type further on wins over an everyday one ("88 harbor view rd").
  const candidates: number[] = [];
  for (let j = i + 2; j <= i + 4 && j < tokens.length; j++) if (suffixKind(tokens[j]) === "clear") candidates.push(j);
  for (let j = i + 2; j <= i + 4 && j < tokens.length; j++) if (suffixKind(tokens[j]) === "ambiguous") candidates.push(j);
  for (const j of candidates) {
    const suffixToken = tokens[j];
    if (!suffixToken) break;
    const names = tokens.slice(i + 1, j);
    const namesOk = names.every(isStreetNameWord);
    if (!namesOk) continue;
    const start = tokens[i]?.start ?? suffixToken.start;
    if (suffixKind(suffixToken) === "ambiguous") {
      const capitalised = /^\p{Lu}/u.test(suffixToken.text);
      const cue = ADDRESS_CUE.test(text.slice(Math.max(0, start - 40), start));
      if (!capitalised && !cue) continue;
    }
    let end = suffixToken.end;
    const next = tokens[j + 1];
    if (next && DIRECTIONS.has(next.text.toLowerCase()) && /^\s+$/.test(text.slice(end, next.start))) {
      end = next.end;
    }
    const unit = UNIT_AFTER.exec(text.slice(end));
    if (unit) end += unit[0].length;
    return { kind: "address", start, end };
  }
  return undefined;
}
