import { escapeRegExp, foldForMatch } from "../text.ts";
import type { StudentInfo } from "../types.ts";
import type { PiiSpan } from "./types.ts";

/**
 * Given and family names that are also everyday English words. Redacting every "will", "grace"
 * or "brown" would mangle the student's questions ("I will finish", "the brown fox"), so these
 * count as the name only when written like one: capitalised mid-sentence, after a naming cue
 * ("my name is will", "it's will"), next to another part of the student's name, or as a greeting
 * at the start ("Grace here", "Will is my name").
 */
const COMMON_WORD_NAMES = new Set([
  "will", "may", "grace", "hope", "faith", "joy", "rose", "summer", "autumn", "april", "june",
  "august", "mark", "bill", "art", "pat", "sue", "rob", "jack", "dawn", "amber", "iris", "ivy",
  "lily", "daisy", "holly", "ruby", "pearl", "sky", "river", "brook", "rain", "storm", "star",
  "sunny", "honey", "angel", "destiny", "hunter", "chase", "drew", "max", "miles", "bob", "carol",
  "frank", "gene", "guy", "jay", "jean", "ray", "reed", "rich", "rusty", "sandy", "young", "white",
  "brown", "green", "black", "gray", "grey", "king", "hill", "wood", "woods", "baker", "cook",
  "long", "short", "little", "small", "sharp", "bell", "ball", "hall", "stone", "field", "moss",
  "price", "page", "rice", "bush", "marsh", "fox", "wolf", "bird", "swift", "hunt", "love", "best",
  "bond", "gold", "silver", "law", "park", "lane", "north", "south", "west", "east", "mason",
  "carpenter", "potter", "fisher", "miller", "glass", "snow", "frost", "winter", "spring", "day",
  "knight", "rivers", "banks", "wells", "case", "cash", "major", "noble", "sterling",
]);

const NAMING_CUE =
  /(?:\bmy name(?:'s| is)|\bi'm|\bim|\bi am|\bthis is|\bit's|\bits|\bcall me|\bnamed|\bcalled|\bfrom|\bmr\.?|\bmrs\.?|\bms\.?|\bmiss|\bdr\.?|\bhi|\bhey|\bhello|[-—~]|\bthanks?|\bregards|\blove)\s*,?\s*$/i;
const GREETING_AFTER = /^\s*(?:here\b|is my name\b|speaking\b|again\b|[,:—-])/i;

function nameParts(student: StudentInfo): { full: string[]; parts: string[] } {
  const given = student.givenName?.trim() ?? "";
  const family = student.familyName?.trim() ?? "";
  const display = student.displayName?.trim() ?? "";
  const full = [given && family ? `${given} ${family}` : "", display.includes(" ") ? display : ""].filter(
    (n) => n.length > 0,
  );
  const parts = new Set<string>();
  for (const source of [given, family, display]) {
    for (const part of source.split(/\s+/)) {
      const clean = part.replace(/^[^\p{L}]+|[^\p{L}]+$/gu, "");
      // One-letter initials ("Maya O.") would redact every "o" and "a".
      if ([...clean].length >= 2) parts.add(clean);
    }
  }
  return { full, parts: [...parts] };
}

function namePattern(name: string): RegExp {
  const folded = foldForMatch(name);
  const body = folded
    .split(/\s+/)
    .map((w) => escapeRegExp(w).replace(/['’]/g, "['’]"))
    .join(String.raw`[\s._-]+`);
  return new RegExp(String.raw`(?<![\p{L}\p{N}])${body}(?![\p{L}\p{N}])`, "gu");
}

function atSentenceStart(text: string, index: number): boolean {
  const before = text.slice(0, index);
  const lastStop = Math.max(before.lastIndexOf("."), before.lastIndexOf("!"), before.lastIndexOf("?"), before.lastIndexOf("\n"));
  return /^["'(\s]*$/.test(before.slice(lastStop + 1));
}

function looksLikeName(text: string, start: number, end: number, allSpans: Array<{ start: number; end: number }>): boolean {
  const before = text.slice(Math.max(0, start - 20), start);
  if (NAMING_CUE.test(before)) return true;
  // Next to another part of the student's name: "will carter", "Carter, Will".
  if (allSpans.some((s) => (s.end <= start && /^[\s,]+$/.test(text.slice(s.end, start))) || (s.start >= end && /^[\s,]+$/.test(text.slice(end, s.start))))) {
    return true;
  }
  const capitalised = /^\p{Lu}/u.test(text.slice(start, end));
  if (!capitalised) return false;
  if (!atSentenceStart(text, start)) return true;
  return GREETING_AFTER.test(text.slice(end, end + 20));
}

/**
 * The student's own given, family, display and full names: case-insensitive, accent-insensitive,
 * on word boundaries ("Maya's" matches, "Mayan" does not).
 */
export function findStudentName(text: string, student: StudentInfo): PiiSpan[] {
  const { full, parts } = nameParts(student);
  const folded = foldForMatch(text);
  const spans: PiiSpan[] = [];
  for (const name of full) {
    for (const m of folded.matchAll(namePattern(name))) {
      spans.push({ kind: "name", start: m.index, end: m.index + m[0].length });
    }
  }
  const partMatches: Array<{ start: number; end: number; common: boolean }> = [];
  for (const part of parts) {
    const common = COMMON_WORD_NAMES.has(foldForMatch(part));
    for (const m of folded.matchAll(namePattern(part))) {
      partMatches.push({ start: m.index, end: m.index + m[0].length, common });
    }
  }
  for (const match of partMatches) {
    const others = partMatches.filter((o) => o !== match);
    if (!match.common || looksLikeName(text, match.start, match.end, others)) {
      spans.push({ kind: "name", start: match.start, end: match.end });
    }
  }
  return spans;
}
