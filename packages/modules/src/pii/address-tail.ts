import { HOUSE_NUMBER, isStreetNameWord, type Token } from "./address-street.ts";
import type { PiiSpan } from "./types.ts";

// What follows or stands alone after a street: the city, state, ZIP and unit segments an address
// runs on into, and the postcodes and US "STATE 12345" endings that are personal on their own.

// UK postcodes (upper case, as written on letters) and US "STATE 12345" endings.
export const UK_POSTCODE = /\b(?:[A-Z]{1,2}\d[A-Z\d]?|GIR) ?\d[A-Z]{2}\b/g;
const US_STATES =
  "AL|AK|AZ|AR|CA|CO|CT|DE|FL|GA|HI|ID|IL|IN|IA|KS|KY|LA|ME|MD|MA|MI|MN|MS|MO|MT|NE|NV|NH|NJ|NM|NY|NC|ND|OH|OK|OR|PA|RI|SC|SD|TN|TX|UT|VT|VA|WA|WV|WI|WY|DC";
export const US_STATE_ZIP = new RegExp(String.raw`\b(?:${US_STATES}) \d{5}(?:-\d{4})?\b`, "g");
const STATE_CODES = new Set(US_STATES.toLowerCase().split("|"));
export const US_STATE_ZIP_ANY_CASE = new RegExp(String.raw`\b(?:${US_STATES}) \d{5}(?:-\d{4})?\b`, "i");
export const US_STATE_ZIP_GLOBAL = new RegExp(US_STATE_ZIP_ANY_CASE.source, "gi");

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
export function extendTail(text: string, end: number): number {
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

/**
 * A house number and name words whose tail has a US state + ZIP ("27 willow bend, apt 2, boise id
 * 83702"), where no street type says it is a street. `known` are the street lines found so far.
 */
export function findZipTailStreets(text: string, tokens: Token[], known: readonly PiiSpan[]): PiiSpan[] {
  const cores: PiiSpan[] = [];
  // Only house numbers shortly before a state + ZIP can start such an address.
  const zips = [...text.matchAll(US_STATE_ZIP_GLOBAL)].map((m) => m.index);
  if (zips.length === 0) return cores;
  tokens.forEach((token, i) => {
    if (!zips.some((z) => z > token.start && z - token.start < 120)) return;
    if (!HOUSE_NUMBER.test(token.text) || known.some((c) => c.start === token.start) || cores.some((c) => c.start === token.start)) return;
    const names = tokens.slice(i + 1, i + 4);
    for (let n = names.length; n >= 1; n--) {
      const last = names[n - 1];
      if (!last || !names.slice(0, n).every(isStreetNameWord)) continue;
      const tailEnd = extendTail(text, last.end);
      if (US_STATE_ZIP_ANY_CASE.test(text.slice(last.end, tailEnd))) {
        cores.push({ kind: "address", start: token.start, end: last.end });
        break;
      }
    }
  });
  return cores;
}
