import { hasDigit } from "./text-shape.ts";
import type { PiiSpan } from "./types.ts";

const LABEL = String.raw`[\p{L}\p{N}](?:[\p{L}\p{N}-]{0,61}[\p{L}\p{N}])?`;
const EMAIL = new RegExp(String.raw`(?<![\p{L}\p{N}._%+-])[\p{L}\p{N}._%+-]{1,64}@${LABEL}(?:\.${LABEL}){0,5}\.\p{L}{2,24}(?![\p{L}\p{N}])`, "gu");
// "name at gmail dot com", "jdoe[at]school[dot]edu": spelled-out separators need a known
// top-level domain at the end, or ordinary sentences ("meet me at lunch dot") would match.
const SPELLED_AT = String.raw`(?:\s*[[({]\s*at\s*[\])}]\s*|\s+at\s+)`;
const SPELLED_DOT = String.raw`(?:\s*[[({]\s*dot\s*[\])}]\s*|\s+dot\s+|\.)`;
const TLD = "(?:com|org|net|edu|gov|io|me|co|uk|us|ca|au|de|fr|ie|nz|in|info|biz|app|dev|ac|sch)";
const SPELLED_EMAIL = new RegExp(
  String.raw`(?<![\p{L}\p{N}._-])[\p{L}\p{N}._-]{2,64}${SPELLED_AT}[\p{L}\p{N}-]{2,63}(?:${SPELLED_DOT}[\p{L}\p{N}-]{2,63}){0,2}${SPELLED_DOT}${TLD}(?![\p{L}\p{N}])`,
  "giu",
);

const SPELLED_AT_ANYWHERE = /\sat\s|[[({]\s*at\s*[\])}]/iu;

/** E-mail addresses, including "name at gmail dot com" spellings. */
export function findEmails(text: string): PiiSpan[] {
  const spans: PiiSpan[] = [];
  // An address needs its "@"; only the spelled-out form can do without one.
  const forms = text.includes("@") ? [EMAIL] : [];
  // The spelled form's "at" stands between spaces or brackets.
  if (SPELLED_AT_ANYWHERE.test(text)) forms.push(SPELLED_EMAIL);
  for (const re of forms) {
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
const PHONE_CONTEXT =
  /(?<![\p{L}])(?:phone|number|no\.?|call|text|ring|cell|mobile|tel|whatsapp|landline|reach me|m[oó]vil|cel|celular|tel[eé]fono|n[uú]mero|wsp|wasap|llama(?:me)?|sđt|sdt|số đt|so dt|đt|điện thoại|dien thoai|zalo|gọi|goi)(?![\p{L}])[^.!?\n]{0,25}$/iu;

function digitGroups(candidate: string): string[] {
  return candidate.split(/[^\d]+/).filter((g) => g.length > 0);
}

// Separators between digit groups must look like phone punctuation: one space, dot or hyphen,
// optionally around a parenthesis. Long gaps mean separate numbers ("in 1914 1918 1939").
function separatorsLookLikePhone(candidate: string): boolean {
  const seps = candidate
    .replace(/^[+(\s]+/, "")
    .split(/\d+/)
    .slice(1, -1);
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
  // North American numbers: area codes never start with 0 or 1. Toll-free numbers (1-800…) are
  // hotlines and businesses, not anyone's personal number.
  const nanp = digits.length === 11 && digits.startsWith("1") ? digits.slice(1) : digits;
  if (nanp.length !== 10 || !/^[2-9]/.test(nanp) || TOLL_FREE.test(nanp)) return false;
  return shape === "10" || shape === "3-3-4" || shape === "1-3-3-4" || shape === "11";
}

const TOLL_FREE = /^8(?:00|33|44|55|66|77|88)/;

/** After a phone word ("mi cel", "số đt"), any 8–12 digits in phone-like groups is a number. */
function isNumberAfterPhoneWord(candidate: string): boolean {
  const digits = digitGroups(candidate).join("");
  return separatorsLookLikePhone(candidate) && digits.length >= 8 && digits.length <= 12;
}

/** Phone numbers in US, UK and "+country" international formats; bare 7-digit numbers only after a phone word. */
export function findPhones(text: string): PiiSpan[] {
  const spans: PiiSpan[] = [];
  // Both candidates start on a digit.
  if (!hasDigit(text)) return spans;
  for (const m of text.matchAll(PHONE_CANDIDATE)) {
    let candidate = m[0];
    // The candidate may have swallowed a trailing group that belongs to the next number; retry shorter.
    const cued = PHONE_CONTEXT.test(text.slice(Math.max(0, m.index - 40), m.index));
    while (candidate.length >= 7) {
      if (isPhone(candidate) || (cued && isNumberAfterPhoneWord(candidate))) {
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
