import type { PiiSpan } from "./types.ts";

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
  "a",
  "an",
  "the",
  "of",
  "and",
  "or",
  "to",
  "in",
  "on",
  "at",
  "by",
  "for",
  "with",
  "from",
  "down",
  "up",
  "along",
  "across",
  "over",
  "under",
  "into",
  "onto",
  "is",
  "are",
  "was",
  "were",
  "be",
  "been",
  "my",
  "your",
  "his",
  "her",
  "our",
  "their",
  "this",
  "that",
  "these",
  "those",
  "it",
  "its",
  "i",
  "you",
  "he",
  "she",
  "we",
  "they",
  "me",
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
  "when",
  "where",
  "what",
  "which",
  "who",
  "how",
  "very",
  "tb",
  "gb",
  "mb",
]);
const ADDRESS_CUE = /\b(?:live|lives|living|lived|address|house|home|moved|move|staying|stay|flat|apartment|apt|come over|come to|deliver|postcode|zip)\b/i;
const WORD = /[^\s,;:!?()"]+/g;
const HOUSE_NUMBER = /^\d{1,5}[a-z]?$/i;
const NAME_WORD = /^(?:[\p{L}][\p{L}'’.-]*|\d{1,3}(?:st|nd|rd|th))$/u;
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

function suffixKind(token: Token | undefined): "clear" | "ambiguous" | undefined {
  const suffix = token?.text.toLowerCase().replace(/\.$/, "") ?? "";
  if (CLEAR_SUFFIXES.has(suffix)) return "clear";
  return AMBIGUOUS_SUFFIXES.has(suffix) ? "ambiguous" : undefined;
}

function streetAt(text: string, tokens: Token[], i: number): PiiSpan | undefined {
  // A clear street type further on wins over an everyday one ("88 harbor view rd").
  const candidates: number[] = [];
  for (let j = i + 2; j <= i + 4 && j < tokens.length; j++) if (suffixKind(tokens[j]) === "clear") candidates.push(j);
  for (let j = i + 2; j <= i + 4 && j < tokens.length; j++) if (suffixKind(tokens[j]) === "ambiguous") candidates.push(j);
  for (const j of candidates) {
    const suffixToken = tokens[j];
    if (!suffixToken) break;
    const names = tokens.slice(i + 1, j);
    const namesOk = names.every((t) => NAME_WORD.test(t.text) && !NOT_NAME_WORDS.has(t.text.toLowerCase()));
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

// UK postcodes (upper case, as written on letters) and US "STATE 12345" endings.
const UK_POSTCODE = /\b(?:[A-Z]{1,2}\d[A-Z\d]?|GIR) ?\d[A-Z]{2}\b/g;
const US_STATES =
  "AL|AK|AZ|AR|CA|CO|CT|DE|FL|GA|HI|ID|IL|IN|IA|KS|KY|LA|ME|MD|MA|MI|MN|MS|MO|MT|NE|NV|NH|NJ|NM|NY|NC|ND|OH|OK|OR|PA|RI|SC|SD|TN|TX|UT|VT|VA|WA|WV|WI|WY|DC";
const US_STATE_ZIP = new RegExp(String.raw`\b(?:${US_STATES}) \d{5}(?:-\d{4})?\b`, "g");
const STATE_CODES = new Set(US_STATES.toLowerCase().split("|"));
const US_STATE_ZIP_ANY_CASE = new RegExp(String.raw`\b(?:${US_STATES}) \d{5}(?:-\d{4})?\b`, "i");
const US_STATE_ZIP_GLOBAL = new RegExp(US_STATE_ZIP_ANY_CASE.source, "gi");

// Street types written before the name: French/Spanish/Italian ("301 rue st-denis") after a
// number, and the Spanish forms that put the number last ("calle 5 de febrero 88", "av. juárez 455").
const PREFIX_TYPE =
  "(?:rue|via|avenida|avda\\.?|av\\.?|calle|c/|boulevard|blvd\\.?|bulevar|calzada|carrera|cra\\.?|paseo|camino|privada|cerrada|diagonal|transversal|callej[oó]n|andador|prolongaci[oó]n|chemin)";
const NUMBER_PREFIX_STREET = new RegExp(String.raw`(?<![\p{L}\p{N}])\d{1,5}[a-z]?\s+${PREFIX_TYPE}\s+[\p{L}][\p{L}'’.-]*(?:\s+[\p{L}][\p{L}'’.-]*){0,2}`, "giu");
const SPANISH_STREET = new RegExp(
  String.raw`(?<![\p{L}\p{N}])${PREFIX_TYPE}\s+(?:[\p{L}\p{N}][\p{L}\p{N}'’.]*\s+){1,4}?(?:#\s?\d{1,5}(?:-\d{1,4})?|n[oº°]\.?\s?\d{1,5}|\d{1,5}[a-z]?(?:-\d{1,4})?|s/n)(?![\p{L}\p{N}])`,
  "giu",
);
const SPANISH_CUE = /(?<![\p{L}])(?:vivo|vive|viven|vivimos|direcci[oó]n|domicilio|casa|queda|mandar|manden|enviar|env[ií]en|col\.|colonia|c\.?p\.?)(?![\p{L}])/iu;
// Vietnamese: "số 45 ngõ 12 phố Huế", "27/4 lê văn sỹ", "thôn 3", followed by a ward, district
// or city ("phường 13, quận 3", "tp. cần thơ").
const VI_STREET = new RegExp(
  String.raw`(?<![\p{L}\p{N}/])(?:(?:số|so|hẻm|ngõ|kiệt|hem|ngo)\s+)?\d{1,5}[a-z]?(?:/\d{1,4}[a-z]?)*(?:\s+(?:ngõ|ngách|hẻm|kiệt|ngo|hem)\s+\d{1,5}(?:/\d{1,4})*)*(?:\s+(?:đường|phố|duong|pho))?(?:\s+[\p{L}][\p{L}\p{M}]*){1,4}|(?<![\p{L}])(?:thôn|ấp|xóm|khu phố|tổ|thon|ap|xom)\s+\d{1,3}`,
  "giu",
);
const VI_ADMIN = /^\s*,\s*(?:phường|quận|huyện|xã|thị xã|thị trấn|tp\.?|thành phố|tỉnh|p\.|q\.|phuong|quan|huyen|xa|thanh pho|tinh)(?![\p{L}])/iu;
const PO_BOX = /(?<![\p{L}])p\.?\s?o\.?\s+box\s+\d{1,6}(?![\p{N}])/giu;
// A colonia or neighbourhood written before the street ("colonia las palmas, calle 8 #312").
const NEIGHBOURHOOD_BEFORE = /(?<![\p{L}])(?:colonia|col\.|fraccionamiento|fracc\.|barrio|urbanizaci[oó]n|urb\.)\s+[^,\n]{1,30},\s*$/iu;

// Words that end an address's trailing city/state/zip: function words, and the labels of the
// next thing a student lists ("…, tx 75023, phone 972…").
const TAIL_STOP = new Set([
  "and",
  "or",
  "but",
  "so",
  "how",
  "what",
  "is",
  "are",
  "was",
  "for",
  "the",
  "to",
  "i",
  "im",
  "i'm",
  "my",
  "me",
  "we",
  "it",
  "it's",
  "its",
  "that",
  "this",
  "if",
  "in",
  "on",
  "at",
  "with",
  "can",
  "do",
  "does",
  "next",
  "near",
  "by",
  "which",
  "where",
  "when",
  "who",
  "from",
  "lol",
  "pls",
  "please",
  "thanks",
  "phone",
  "email",
  "cell",
  "number",
  "dob",
  "birthday",
  "bday",
  "snap",
  "id",
  "name",
  "zip",
  "ok",
  "okay",
  "right",
  "pls",
  "plz",
  "call",
  "text",
  "txt",
  "ring",
  "mobile",
  "whatsapp",
  "insta",
  "ig",
  "tiktok",
  "discord",
  "born",
  "student",
  "lunch",
  "movil",
  "móvil",
  "celular",
  "teléfono",
  "telefono",
  "sđt",
  "sdt",
  "đt",
  "zalo",
  "email",
  "mail",
  "y",
  "o",
  "pa",
  "para",
  "por",
  "que",
  "q",
  "se",
  "es",
  "mi",
  "me",
  "le",
  "lo",
  "en",
  "con",
  "cerca",
  "mi",
  "cel",
  "correo",
  "tel",
  "t",
  "tôi",
  "mình",
  "em",
  "cô",
  "thầy",
  "muốn",
  "gửi",
  "từ",
  "đến",
  "đây",
  "là",
  "của",
  "ở",
  "và",
  "với",
  "bảo",
  "ghi",
  "cho",
  "nhé",
  "nha",
  "phải",
  "ko",
  "không",
]);
const TAIL_TOKEN = /[^\s,;!?()"]+/gu;

/**
 * Extends an address over the city, state, zip and unit that follow it, one comma-separated
 * segment of up to four words at a time ("…, apt 2, boise id 83702", "…, phường 13, quận 3").
 * A segment stops at a function word or at the next thing's label.
 */
function extendTail(text: string, end: number): number {
  let cursor = end;
  for (let segment = 0; segment < 5; segment++) {
    const rest = text.slice(cursor, cursor + 80);
    const sep = /^(?:\s*,\s*|\s+)/.exec(rest);
    if (!sep || (segment > 0 && !sep[0].includes(",") && !/^\s+\d/.test(rest))) break;
    let taken = 0;
    let segEnd = cursor;
    const body = rest.slice(sep[0].length);
    for (const m of body.matchAll(TAIL_TOKEN)) {
      const abbreviation = /^(?:tp|st|ave|col|p|q|mt|ft)\.$/i.test(m[0]);
      const kept = abbreviation ? m[0] : m[0].replace(/[.]+$/, "");
      const word = kept.toLowerCase();
      // "me", "mi", "id" are also states when a ZIP follows ("portland me 04101").
      const state = STATE_CODES.has(word) && /^\s+\d{5}(?!\d)/.test(body.slice(m.index + kept.length));
      if (taken >= 4 || (TAIL_STOP.has(word) && !state) || /^[^\p{L}\p{N}#]/u.test(word)) break;
      // Words separated by more than a space belong to different segments.
      if (taken > 0 && !/^\s$/.test(body.slice(segEnd - cursor - sep[0].length, m.index))) break;
      taken++;
      segEnd = cursor + sep[0].length + m.index + kept.length;
      if (kept.endsWith(".") && !abbreviation) break;
      if (kept !== m[0]) break;
      // A ZIP after the city ends the address line ("boise id 83702"); one before it does not
      // ("28013 madrid").
      if (taken > 1 && /^\d{5}(?:-\d{4})?$/.test(word)) return segEnd;
    }
    if (taken === 0) break;
    // A segment without a comma in front must look like a zip/state/city line, not the sentence.
    if (!sep[0].includes(",") && segment === 0 && !/\d/.test(text.slice(cursor, segEnd))) break;
    cursor = segEnd;
  }
  return cursor;
}

// Public landmarks used in homework ("1600 pennsylvania avenue", "221b baker street"): not
// personal unless the student says it is their address.
const LANDMARKS =
  /^(?:1600\s+pennsylvania|221b\s+baker|10\s+downing|350\s+fifth|1\s+infinite\s+loop|1600\s+amphitheatre|4059\s+mt\.?\s+lee|11\s+wall\s+street|20\s+w\.?\s+34th)/i;
const OWN_ADDRESS_CUE =
  /(?<![\p{L}])(?:my address|our address|i live|we live|i'm at|im at|live at|lives at|come over|pick me up|send it to|deliver|mi direcci[oó]n|vivo|vivimos|vive|mi casa|nhà t|nhà tôi|nhà mình|nhà em|địa chỉ)(?![\p{L}])/iu;

/** Street addresses (house number + name + street type, with unit, city and zip) and postcodes, in English, Spanish and Vietnamese. */
export function findAddresses(text: string): PiiSpan[] {
  const cores: PiiSpan[] = [];
  const tokens = tokenize(text);
  tokens.forEach((token, i) => {
    if (!HOUSE_NUMBER.test(token.text)) return;
    const street = streetAt(text, tokens, i);
    if (street) cores.push(street);
  });
  for (const m of text.matchAll(NUMBER_PREFIX_STREET)) cores.push({ kind: "address", start: m.index, end: m.index + m[0].length });
  for (const m of text.matchAll(PO_BOX)) cores.push({ kind: "address", start: m.index, end: m.index + m[0].length });
  for (const m of text.matchAll(SPANISH_STREET)) {
    if (m[0].includes("#") || SPANISH_CUE.test(text.slice(Math.max(0, m.index - 40), m.index + m[0].length))) {
      const unit = /^(?:,?\s*(?:int\.?|interior|depto\.?|dpto\.?|departamento|piso|apt\.?|local)\s*[\w-]{1,5}|,\s*\d{1,2}\s*[ºª°]\s*[a-z]?(?![\p{L}]))/iu.exec(
        text.slice(m.index + m[0].length),
      );
      cores.push({ kind: "address", start: m.index, end: m.index + m[0].length + (unit?.[0].length ?? 0) });
    }
  }
  // The Vietnamese and ZIP-tail forms start at any number, so they run only when the text has
  // what they need to end in: cheap checks that keep long messages fast.
  const viAddressWords =
    /(?<![\p{L}])(?:phường|quận|huyện|xã|tp\.?|thành phố|tỉnh|p\.|q\.|phuong|quan|huyen|thanh pho|tinh|ngõ|ngách|hẻm|kiệt|đường|phố)(?![\p{L}])/iu.test(text);
  for (const m of viAddressWords ? text.matchAll(VI_STREET) : []) {
    const end = m.index + m[0].length;
    // Trim the name words back until an administrative segment follows.
    const words = [...m[0].matchAll(/\s+[\p{L}][\p{L}\p{M}]*/gu)];
    // "ngõ 12 phố Huế", "đường Lê Lợi": a street word makes it an address on its own.
    if (/(?<![\p{L}])(?:ngõ|ngách|hẻm|kiệt|đường|phố)(?![\p{L}])/iu.test(m[0])) {
      cores.push({ kind: "address", start: m.index, end });
      continue;
    }
    for (let cut = m[0].length, w = words.length; w >= 0; w--) {
      if (VI_ADMIN.test(text.slice(m.index + cut))) {
        cores.push({ kind: "address", start: m.index, end: m.index + cut });
        break;
      }
      const prev = words[w - 1];
      if (!prev) break;
      cut = prev.index;
      if (cut <= 0) break;
    }
  }
  // A house number and name words whose tail has a US state + ZIP ("27 willow bend, apt 2, boise id 83702").
  // Only house numbers shortly before a state + ZIP can start such an address.
  const zips = [...text.matchAll(US_STATE_ZIP_GLOBAL)].map((m) => m.index);
  tokens.forEach((token, i) => {
    if (!zips.some((z) => z > token.start && z - token.start < 120)) return;
    if (!HOUSE_NUMBER.test(token.text) || cores.some((c) => c.start === token.start)) return;
    const names = tokens.slice(i + 1, i + 4);
    for (let n = names.length; n >= 1; n--) {
      const last = names[n - 1];
      if (!last || !names.slice(0, n).every((t) => NAME_WORD.test(t.text) && !NOT_NAME_WORDS.has(t.text.toLowerCase()))) continue;
      const tailEnd = extendTail(text, last.end);
      if (US_STATE_ZIP_ANY_CASE.test(text.slice(last.end, tailEnd))) {
        cores.push({ kind: "address", start: token.start, end: last.end });
        break;
      }
    }
  });
  const spans: PiiSpan[] = [];
  for (const core of cores) {
    const written = text.slice(core.start, core.end);
    if (LANDMARKS.test(written) && !OWN_ADDRESS_CUE.test(text.slice(Math.max(0, core.start - 40), core.start))) continue;
    const before = NEIGHBOURHOOD_BEFORE.exec(text.slice(Math.max(0, core.start - 45), core.start));
    const start = before ? core.start - before[0].length : core.start;
    spans.push({ kind: "address", start, end: extendTail(text, core.end) });
  }
  for (const re of [UK_POSTCODE, US_STATE_ZIP]) {
    for (const m of text.matchAll(re)) {
      spans.push({ kind: "address", start: m.index, end: m.index + m[0].length });
    }
  }
  return spans;
}
