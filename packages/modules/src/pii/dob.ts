import { hasDigit } from "./text-shape.ts";
import type { PiiSpan } from "./types.ts";

const MONTHS: Record<string, number> = {
  january: 1,
  jan: 1,
  february: 2,
  feb: 2,
  march: 3,
  mar: 3,
  april: 4,
  apr: 4,
  may: 5,
  june: 6,
  jun: 6,
  july: 7,
  jul: 7,
  august: 8,
  aug: 8,
  september: 9,
  sept: 9,
  sep: 9,
  october: 10,
  oct: 10,
  november: 11,
  nov: 11,
  december: 12,
  dec: 12,
};
const MONTH = Object.keys(MONTHS)
  .sort((a, b) => b.length - a.length)
  .join("|");
const SPANISH_MONTH = "enero|febrero|marzo|abril|mayo|junio|julio|agosto|septiembre|setiembre|octubre|noviembre|diciembre";
const ORD = "(?:st|nd|rd|th)?";

interface DateCandidate {
  start: number;
  end: number;
  year: number | undefined;
  /** Day, month and year all present. */
  full: boolean;
}

const PATTERNS: Array<{ re: RegExp; parse: (m: RegExpMatchArray) => Omit<DateCandidate, "start" | "end"> }> = [
  {
    // 2013-07-19, 2011/02/28
    re: /(?<![\d/.-])(\d{4})([/.-])(\d{1,2})\2(\d{1,2})(?![\d/.-]*\d)/g,
    parse: (m) => ({ year: Number(m[1]), full: true }),
  },
  {
    // 05/11/2011, 12.04.2010, 4/9/13 (day/month order does not matter for a birth date)
    re: /(?<![\d/.:-])(\d{1,2})([/.-])(\d{1,2})\2(\d{4}|\d{2})(?![\d/.-]*\d)/g,
    parse: (m) => ({ year: expandYear(m[4] ?? ""), full: true }),
  },
  {
    // 3/22, 9/11 — only ever counts next to a birthday word
    re: /(?<![\d/.:-])(\d{1,2})\/(\d{1,2})(?![\d/]|\.\d)/g,
    parse: () => ({ year: undefined, full: false }),
  },
  {
    // 5 de mayo del 2011, el 23 de agosto de 2012
    re: new RegExp(String.raw`(?<![\p{L}\p{N}])(?:el\s+)?(\d{1,2})\s+de\s+(?:${SPANISH_MONTH})(?![\p{L}])(?:\s+(?:de|del)\s+(\d{4}))?(?![\p{N}])`, "giu"),
    parse: (m) => ({ year: m[2] ? Number(m[2]) : undefined, full: Boolean(m[2]) }),
  },
  {
    // ngày 5 tháng 9 năm 2010, 5 tháng 9
    re: /(?<![\p{L}\p{N}])(?:ngày\s+|ngay\s+)?(\d{1,2})\s+(?:tháng|thang)\s+(\d{1,2})(?:\s+(?:năm|nam)\s+(\d{4}))?(?![\p{N}])/giu,
    parse: (m) => ({ year: m[3] ? Number(m[3]) : undefined, full: Boolean(m[3]) }),
  },
  {
    // 14 March 2012, 21st September 2011, the 2nd of October, 9 Jan
    re: new RegExp(String.raw`\b(?:the\s+)?(\d{1,2})${ORD}(?:\s+of)?\s+(${MONTH})\.?\b(?:,?\s+(\d{4})\b)?`, "gi"),
    parse: (m) => ({ year: m[3] ? Number(m[3]) : undefined, full: Boolean(m[3]) }),
  },
  {
    // June 5th, March 5, 2011
    re: new RegExp(String.raw`\b(${MONTH})\.?\s+(\d{1,2})${ORD}\b(?:,?\s+(\d{4})\b)?`, "gi"),
    parse: (m) => ({ year: m[3] ? Number(m[3]) : undefined, full: Boolean(m[3]) }),
  },
];

function expandYear(text: string): number {
  const n = Number(text);
  return text.length === 4 ? n : n + 2000;
}

const KEYWORD =
  /(?<![\p{L}])(?:born|birthday|birthdays|birthday's|bday|b-day|dob|d\.o\.b|date of birth|birth ?date|turn(?:ing|s)? \d{1,2} on|nac[ií]|naci[oó]|nacimiento|cumple|cumpleaños|cumpleanos|sinh|sinh nhật|ngày sinh|sn|ngay sinh|sinh nhat)(?![\p{L}])/giu;
const FIRST_PERSON = /(?<![\p{L}])(?:i|i'm|im|i've|me|my|mine|we|our|yo|mi|mis|t|tôi|mình|em|tao|tớ)(?![\p{L}])/iu;
const BORN_YEAR = /(?<![\p{L}])(?:born(?:\s+in)?|nac[ií](?:\s+en)?|sinh\s+năm|sinh\s+nam)(?![\p{L}]),?\s+((?:19|20)\d{2})(?![\p{N}])/giu;

/** Windows, in characters, within which a birthday word makes a date a date of birth. */
const KEYWORD_BEFORE = 40;
const KEYWORD_AFTER = 25;

export interface DobPolicy {
  /** The current year (from the turn's `now`), for age arithmetic. */
  currentYear: number;
  /** Ages treated as "the writer is a child" for bare full dates (inclusive). */
  childAgeMin: number;
  childAgeMax: number;
  /** Years further back than this are history, even next to "born" (Shakespeare, Einstein). */
  maxAgeYears: number;
}

function nearKeyword(keywords: readonly RegExpExecArray[], start: number, end: number): boolean {
  for (const k of keywords) {
    const kEnd = k.index + k[0].length;
    if (kEnd <= start && start - kEnd <= KEYWORD_BEFORE) return true;
    if (k.index >= end && k.index - end <= KEYWORD_AFTER) return true;
  }
  return false;
}

/**
 * Dates of birth. A date counts when (a) a birthday word ("born", "birthday", "bday", "DOB",
 * "date of birth", "turn 13 on") is close by and the date has no year or a year within a
 * lifetime, or (b) it is a full day-month-year date whose year would make the writer a child
 * (aged childAgeMin..childAgeMax) in a sentence written in the first person. Historical dates
 * ("6 June 1944", "Einstein was born on 14 March 1879") are left alone.
 */
export function findDatesOfBirth(text: string, policy: DobPolicy): PiiSpan[] {
  const spans: PiiSpan[] = [];
  // Every date form and "born in <year>" has a digit.
  if (!hasDigit(text)) return spans;
  const oldest = policy.currentYear - policy.maxAgeYears;
  const childFrom = policy.currentYear - policy.childAgeMax;
  const childTo = policy.currentYear - policy.childAgeMin;
  // Keyword positions once per text: scanning for them per candidate date is quadratic.
  const keywords = [...text.matchAll(KEYWORD)];
  for (const { re, parse } of PATTERNS) {
    for (const m of text.matchAll(re)) {
      const start = m.index;
      const end = start + m[0].length;
      const { year, full } = parse(m);
      const plausibleYear = year === undefined || (year >= oldest && year <= policy.currentYear);
      if (nearKeyword(keywords, start, end)) {
        if (plausibleYear) spans.push({ kind: "dob", start, end });
        continue;
      }
      if (full && year !== undefined && year >= childFrom && year <= childTo) {
        const window = text.slice(Math.max(0, start - 60), Math.min(text.length, end + 60));
        if (FIRST_PERSON.test(window)) spans.push({ kind: "dob", start, end });
      }
    }
  }
  for (const m of text.matchAll(BORN_YEAR)) {
    const year = Number(m[1]);
    if (year < oldest || year > policy.currentYear) continue;
    const yearText = m[1] ?? "";
    const start = m.index + m[0].length - yearText.length;
    spans.push({ kind: "dob", start, end: start + yearText.length });
  }
  return spans;
}
