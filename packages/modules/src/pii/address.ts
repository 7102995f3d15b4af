import type { PiiSpan } from "./types.ts";

// Street types that are rarely anything else after "<number> <name>".
const CLEAR_SUFFIXES = new Set([
  "street", "st", "avenue", "ave", "av", "road", "rd", "lane", "ln", "boulevard", "blvd",
  "parkway", "pkwy", "highway", "hwy", "terrace", "crescent", "cres", "mews",
]);
// Street types that are also everyday nouns ("9 supreme court justices"): these need a capital
// letter ("Gardenia Way") or an address cue before the number ("we live at 23 gardenia way").
const AMBIGUOUS_SUFFIXES = new Set([
  "court", "ct", "way", "place", "pl", "close", "circle", "cir", "square", "sq", "row", "hill",
  "grove", "trail", "gardens", "park", "walk", "green", "rise", "view", "wharf", "alley", "drive",
  "dr",
]);
const DIRECTIONS = new Set(["n", "s", "e", "w", "ne", "nw", "se", "sw", "n.", "s.", "e.", "w."]);
// Words that cannot be part of a street name, so "3 miles down the road" is not an address.
const NOT_NAME_WORDS = new Set([
  "a", "an", "the", "of", "and", "or", "to", "in", "on", "at", "by", "for", "with", "from", "down",
  "up", "along", "across", "over", "under", "into", "onto", "is", "are", "was", "were", "be", "been",
  "my", "your", "his", "her", "our", "their", "this", "that", "these", "those", "it", "its", "i",
  "you", "he", "she", "we", "they", "me", "times", "plus", "minus", "more", "less", "than",
  "miles", "mile", "km", "kms", "kilometres", "kilometers", "metres", "meters", "m", "blocks",
  "block", "minutes", "mins", "hours", "hrs", "days", "weeks", "years", "steps", "feet", "ft",
  "yards", "houses", "people", "cars", "lanes", "roads", "streets", "other", "same", "next", "last",
  "then", "when", "where", "what", "which", "who", "how", "very", "tb", "gb", "mb",
]);
const ADDRESS_CUE = /\b(?:live|lives|living|lived|address|house|home|moved|move|staying|stay|flat|apartment|apt|come over|come to|deliver|postcode|zip)\b/i;
const WORD = /[^\s,;:!?()"]+/g;
const HOUSE_NUMBER = /^\d{1,5}[a-z]?$/i;
const NAME_WORD = /^[\p{L}][\p{L}'’.-]*$/u;
const UNIT_AFTER = /^(?:,?\s*(?:apt\.?|apartment|unit|flat|suite|ste\.?|#)\s*[\w-]{1,5})/i;

interface Token {
  text: string;
  start: number;
  end: number;
}

function tokenize(text: string): Token[] {
  const tokens: Token[] = [];
  for (const m of text.matchAll(WORD)) {
    // Trailing full stops are sentence punctuation, except on one-letter abbreviations ("N.").
    let word = m[0];
    if (word.length > 2 && word.endsWith(".")) word = word.replace(/\.+$/, "");
    tokens.push({ text: word, start: m.index, end: m.index + word.length });
  }
  return tokens;
}

function streetAt(text: string, tokens: Token[], i: number): PiiSpan | undefined {
  for (let j = i + 2; j <= i + 4 && j < tokens.length; j++) {
    const suffixToken = tokens[j];
    if (!suffixToken) break;
    const suffix = suffixToken.text.toLowerCase().replace(/\.$/, "");
    const clear = CLEAR_SUFFIXES.has(suffix);
    if (!clear && !AMBIGUOUS_SUFFIXES.has(suffix)) continue;
    const names = tokens.slice(i + 1, j);
    const namesOk = names.every((t) => NAME_WORD.test(t.text) && !NOT_NAME_WORDS.has(t.text.toLowerCase()));
    if (!namesOk) return undefined;
    const start = tokens[i]?.start ?? suffixToken.start;
    if (!clear) {
      const capitalised = /^\p{Lu}/u.test(suffixToken.text);
      const cue = ADDRESS_CUE.test(text.slice(Math.max(0, start - 40), start));
      if (!capitalised && !cue) return undefined;
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

// UK postcodes (upper case, as written on letters) and US "STATE 12345" endings.
const UK_POSTCODE = /\b(?:[A-Z]{1,2}\d[A-Z\d]?|GIR) ?\d[A-Z]{2}\b/g;
const US_STATES =
  "AL|AK|AZ|AR|CA|CO|CT|DE|FL|GA|HI|ID|IL|IN|IA|KS|KY|LA|ME|MD|MA|MI|MN|MS|MO|MT|NE|NV|NH|NJ|NM|NY|NC|ND|OH|OK|OR|PA|RI|SC|SD|TN|TX|UT|VT|VA|WA|WV|WI|WY|DC";
const US_STATE_ZIP = new RegExp(String.raw`\b(?:${US_STATES}) \d{5}(?:-\d{4})?\b`, "g");

/** Street addresses (house number + name + street type, with unit) and postcodes. */
export function findAddresses(text: string): PiiSpan[] {
  const spans: PiiSpan[] = [];
  const tokens = tokenize(text);
  tokens.forEach((token, i) => {
    if (!HOUSE_NUMBER.test(token.text)) return;
    const street = streetAt(text, tokens, i);
    if (street) spans.push(street);
  });
  for (const re of [UK_POSTCODE, US_STATE_ZIP]) {
    for (const m of text.matchAll(re)) {
      spans.push({ kind: "address", start: m.index, end: m.index + m[0].length });
    }
  }
  return spans;
}
