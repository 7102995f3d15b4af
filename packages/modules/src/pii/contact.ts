import type { PiiSpan } from "./types.ts";

const LABEL = String.raw`[\p{L}\p{N}](?:[\p{L}\p{N}-]{0,61}[\p{L}\p{N}])?`;
const EMAIL = new RegExp(
  String.raw`(?<![\p{L}\p{N}._%+-])[\p{L}\p{N}._%+-]{1,64}@${LABEL}(?:\.${LABEL}){0,5}\.\p{L}{2,24}(?![\p{L}\p{N}])`,
  "gu",
);
// "name at gmail dot com", "jdoe[at]school[dot]edu": spelled-out separators need a known
// top-level domain at the end, or ordinary sentences ("meet me at lunch dot") would match.
const SPELLED_AT = String.raw`(?:\s*[[({]\s*at\s*[\])}]\s*|\s+at\s+)`;
const SPELLED_DOT = String.raw`(?:\s*[[({]\s*dot\s*[\])}]\s*|\s+dot\s+|\.)`;
const TLD = "(?:com|org|net|edu|gov|io|me|co|uk|us|ca|au|de|fr|ie|nz|in|info|biz|app|dev|ac|sch)";
const SPELLED_EMAIL = new RegExp(
  String.raw`(?<![\p{L}\p{N}._-])[\p{L}\p{N}._-]{2,64}${SPELLED_AT}[\p{L}\p{N}-]{2,63}(?:${SPELLED_DOT}[\p{L}\p{N}-]{2,63}){0,2}${SPELLED_DOT}${TLD}(?![\p{L}\p{N}])`,
  "giu",
);

/** E-mail addresses, including "name at gmail dot com" spellings. */
export function findEmails(text: string): PiiSpan[] {
  const spans: PiiSpan[] = [];
  for (const re of [EMAIL, SPELLED_EMAIL]) {
    for (const m of text.matchAll(re)) {
      spans.push({ kind: "email", start: m.index, end: m.index + m[0].length });
    }
  }
  return spans;
}

// A run of digits and phone punctuation that starts and ends on a digit (or "+"/"(" before one).
// Commas, slashes and colons are excluded so "331,000,000", dates and times never form one run.
const PHONE_CANDIDATE = /(?<![\w+.,/:])(?:\+|\(\s?)?\d[\d \t().-]{5,24}\d(?![\w/]|[.,]\d)/g;
const LOCAL_CANDIDATE = /(?<![\w+.,/:-])\d{3}[ .-]\d{4}(?![\w/-]|[.,]\d)/g;
const PHONE_CONTEXT = /\b(?:phone|number|no\.?|call|text|ring|cell|mobile|tel|whatsapp|landline|reach me)\b[^.!?\n]{0,25}$/i;

function digitGroups(candidate: string): string[] {
  return candidate.split(/[^\d]+/).filter((g) => g.length > 0);
}

// Separators between digit groups must look like phone punctuation: one space, dot or hyphen,
// optionally around a parenthesis. Long gaps mean separate numbers ("in 1914 1918 1939").
function separatorsLookLikePhone(candidate: string): boolean {
  const seps = candidate.replace(/^[+(\s]+/, "").split(/\d+/).slice(1, -1);
  return seps.every((s) => /^(?:[ .\t-]|\)\s?|\s?\(|\)[-.])$/.test(s));
}

function isPhone(candidate: string): boolean {
  if (!separatorsLookLikePhone(candidate)) return false;
  const groups = digitGroups(candidate);
  const digits = groups.join("");
  const shape = groups.map((g) => g.length).join("-");
  if (candidate.startsWith("+")) return digits.length >= 8 && digits.length <= 15;
  // UK and other trunk-prefixed national numbers: 0 + 9–10 digits in at most four groups.
  if (digits.startsWith("0")) {
    const first = groups[0] ?? "";
    return (digits.length === 10 || digits.length === 11) && groups.length <= 4 && first.length >= 2 && first.length <= 5;
  }
  // North American numbers: area codes never start with 0 or 1.
  const nanp = digits.length === 11 && digits.startsWith("1") ? digits.slice(1) : digits;
  if (nanp.length !== 10 || !/^[2-9]/.test(nanp)) return false;
  return shape === "10" || shape === "3-3-4" || shape === "1-3-3-4" || shape === "11";
}

/** Phone numbers in US, UK and "+country" international formats; bare 7-digit numbers only after a phone word. */
export function findPhones(text: string): PiiSpan[] {
  const spans: PiiSpan[] = [];
  for (const m of text.matchAll(PHONE_CANDIDATE)) {
    let candidate = m[0];
    // The candidate may have swallowed a trailing group that belongs to the next number; retry shorter.
    while (candidate.length >= 7) {
      if (isPhone(candidate)) {
        spans.push({ kind: "phone", start: m.index, end: m.index + candidate.length });
        break;
      }
      const cut = candidate.search(/[ \t().-]+\d+$/);
      if (cut <= 0) break;
      candidate = candidate.slice(0, cut);
    }
  }
  for (const m of text.matchAll(LOCAL_CANDIDATE)) {
    if (PHONE_CONTEXT.test(text.slice(Math.max(0, m.index - 40), m.index))) {
      spans.push({ kind: "phone", start: m.index, end: m.index + m[0].length });
    }
  }
  return spans;
}

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
