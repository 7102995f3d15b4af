import { LRUCache } from "lru-cache";
import { foldForMatch } from "../text.ts";
import type { StudentInfo } from "../types.ts";
import { ENGLISH_WORD_NAMES, isFirstName, isLastName, isOrdinaryWord, type MessageLanguage } from "./lexicon.ts";
import { nameWords, sameApostrophe, scanNameWords, scanNickname } from "./name-scan.ts";
import type { PiiSpan } from "./types.ts";

/**
 * Spanish given and family names that are everyday words: "la luna tiene fases", "la palabra
 * paz", "abril es mi mes favorito", "el primer mercedes benz".
 */
const SPANISH_WORD_NAMES = new Set([
  "luz",
  "paz",
  "rosa",
  "luna",
  "sol",
  "abril",
  "esperanza",
  "mercedes",
  "dolores",
  "soledad",
  "consuelo",
  "pilar",
  "rocio",
  "rocío",
  "alegria",
  "alegría",
  "victoria",
  "gloria",
  "cielo",
  "estrella",
  "perla",
  "azucena",
  "flor",
  "blanca",
  "clara",
  "fe",
  "amparo",
  "socorro",
  "angeles",
  "ángeles",
  "milagros",
  "reyes",
  "cruz",
  "leon",
  "león",
  "santos",
  "flores",
  "rios",
  "ríos",
  "vega",
  "torres",
  "campos",
  "prado",
  "serrano",
  "bravo",
  "moreno",
  "rubio",
  "blanco",
  "delgado",
  "salas",
  "rojas",
  "castillo",
  "montes",
  "cano",
  "leal",
  "bueno",
  "real",
  "nieves",
  "marina",
  "aurora",
  "primavera",
  "paloma",
  "celeste",
  "alba",
  "ella",
  "mar",
]);

// Words that introduce the writer's own name, in English, Spanish and Vietnamese.
const NAMING_CUE =
  /(?:(?<![\p{L}])(?:my name(?:'s| is)|i'm|im|i am|this is|it's|its|call me|named|called|from|mr\.?|mrs\.?|ms\.?|miss|dr\.?|hi|hey|hello|me llamo|mi nombre es|soy|tên là|tên|là|mình là|em là|tôi là|t là)|[-—~]|(?<![\p{L}])(?:thanks?|regards|love|cheers|saludos|gracias|besos)\s*,)\s*,?\s*$/iu;
const GREETING_AFTER = /^\s*(?:here\b|is my name\b|speaking\b|again\b|aqu[ií]\b|aca\b|acá\b|[,:—-])/iu;
// Questions about public or fictional people ("why does atticus…", "q hizo benito juarez"):
// a name that is also the student's refers to them, not the student, unless a naming cue says so.
const PUBLIC_PERSON_CONTEXT =
  /(?<![\p{L}])(?:who\s+(?:was|is|were|wrote|painted|invented|discovered)|why\s+(?:did|does)|what\s+did|mockingbird|novel|character|president|quien\s+(?:fue|era|es|invento|inventó|escribio|escribió|pinto|pintó)|q\s+hizo|qu[eé]\s+hizo|là ai|do ai)(?![\p{L}])/iu;

interface NamePart {
  name: string;
  given: boolean;
  /** `name` folded by foldForMatch. */
  folded: string;
  /** Its words as the scan looks for them. */
  words: string[];
}

/** A student's names as the scan uses them: worked out once per set of names, not per message. */
interface StudentNames {
  full: Array<{ name: string; words: string[] }>;
  parts: NamePart[];
  /** Every part, folded. */
  own: Set<string>;
}

function nameParts(student: StudentInfo): StudentNames {
  const given = student.givenName?.trim() ?? "";
  const family = student.familyName?.trim() ?? "";
  const display = student.displayName?.trim() ?? "";
  const full = [given && family ? `${given} ${family}` : "", display.includes(" ") ? display : ""].filter((n) => n.length > 0);
  const parts = new Map<string, NamePart>();
  for (const [source, isGiven] of [
    [given, true],
    [family, false],
    [display, true],
  ] as const) {
    for (const part of source.split(/\s+/)) {
      const clean = part.replace(/^[^\p{L}]+|[^\p{L}]+$/gu, "");
      const folded = foldForMatch(clean);
      // One-letter initials ("Maya O.") would redact every "o" and "a".
      if ([...clean].length >= 2 && !parts.has(folded)) parts.set(folded, { name: clean, given: isGiven, folded, words: nameWords(folded) });
    }
  }
  return { full: full.map((name) => ({ name, words: nameWords(foldForMatch(name)) })), parts: [...parts.values()], own: new Set(parts.keys()) };
}

// A student sends many messages: their names are read once (bounded, least recently used dropped first).
const studentNames = new LRUCache<string, StudentNames>({ max: 1000 });

function namesOf(student: StudentInfo): StudentNames {
  const key = `${student.givenName ?? ""}\u0000${student.familyName ?? ""}\u0000${student.displayName ?? ""}`;
  let names = studentNames.get(key);
  if (names === undefined) {
    names = nameParts(student);
    studentNames.set(key, names);
  }
  return names;
}

/**
 * Accent-insensitive only one way: "siobhan" matches "Siobhán" (accents left out), but "hùng"
 * does not match "Hưng" and "đó" does not match "Đỗ" — in Vietnamese the marks are the word.
 */
function accentsCompatible(written: string, name: string): boolean {
  const w = written.toLowerCase();
  const n = name.toLowerCase().normalize("NFC");
  if (w.normalize("NFC") === n) return true;
  if (w.length !== written.length) return true;
  const wn = [...w.normalize("NFC")];
  const nn = [...n];
  if (wn.length !== nn.length) return true; // spacing/apostrophe variants: the folded match decides
  return wn.every((c, i) => {
    const target = nn[i] ?? "";
    if (c === target) return true;
    const base = target === "đ" ? "d" : (target.normalize("NFD")[0] ?? target);
    return c === base;
  });
}

function atSentenceStart(text: string, index: number): boolean {
  const before = text.slice(0, index);
  const lastStop = Math.max(before.lastIndexOf("."), before.lastIndexOf("!"), before.lastIndexOf("?"), before.lastIndexOf("\n"));
  return /^["'(\s]*$/.test(before.slice(lastStop + 1));
}

interface PartMatch {
  start: number;
  end: number;
  part: NamePart;
  nickname: boolean;
}

function nextTo(text: string, match: PartMatch, others: PartMatch[]): boolean {
  return others.some(
    (s) => (s.end <= match.start && /^[\s,]+$/.test(text.slice(s.end, match.start))) || (s.start >= match.end && /^[\s,]+$/.test(text.slice(match.end, s.start))),
  );
}

function namingCueBefore(text: string, start: number): boolean {
  return NAMING_CUE.test(text.slice(Math.max(0, start - 20), start));
}

function looksLikeName(text: string, match: PartMatch, others: PartMatch[]): boolean {
  if (namingCueBefore(text, match.start)) return true;
  // Next to another part of the student's name: "will carter", "Carter, Will".
  if (nextTo(text, match, others)) return true;
  const capitalised = /^\p{Lu}/u.test(text.slice(match.start, match.end));
  if (!atSentenceStart(text, match.start)) return capitalised;
  return GREETING_AFTER.test(text.slice(match.end, match.end + 20));
}

/** "george washington" for a student named Washington: the part belongs to someone else's full name. */
function partOfAnotherName(text: string, match: PartMatch, own: Set<string>): boolean {
  const before = /([\p{L}]+)[ ]$/u.exec(text.slice(Math.max(0, match.start - 30), match.start))?.[1];
  const after = /^[ ]([\p{L}]+)/u.exec(text.slice(match.end, match.end + 30))?.[1];
  if (before && !own.has(foldForMatch(before)) && isFirstName(before)) return true;
  return Boolean(after && !own.has(foldForMatch(after)) && isLastName(after) && !isFirstName(after));
}

function isWordName(part: NamePart, lang: MessageLanguage): boolean {
  const folded = part.folded;
  return ENGLISH_WORD_NAMES.has(folded) || SPANISH_WORD_NAMES.has(folded) || isOrdinaryWord(part.name) || lang === "vi";
}

/**
 * The student's own given, family, display and full names: case-insensitive, accent-insensitive
 * where the student left accents out, on word boundaries ("Maya's" matches, "Mayan" does not).
 * Also a family and given name with up to two words between ("Nguyễn Thị Lan", "Fernanda Sofía
 * Ríos") and a nickname that starts the given name ("sofi" for Sofía) after a naming cue.
 * Parts that are everyday words in the message's language — every syllable of a Vietnamese
 * name — count only when written as a name (see `looksLikeName`).
 */
export function findStudentName(text: string, student: StudentInfo, lang: MessageLanguage = "en"): PiiSpan[] {
  const { full, parts, own } = namesOf(student);
  const spans: PiiSpan[] = [];
  if (parts.length === 0 && full.length === 0) return spans;
  const folded = foldForMatch(text);
  const hay = sameApostrophe(folded);
  for (const { name, words } of full) {
    for (const m of scanNameWords(folded, hay, words)) {
      if (accentsCompatible(text.slice(m.index, m.index + m.text.length), name) || m.text.includes(" ")) {
        spans.push({ kind: "name", start: m.index, end: m.index + m.text.length });
      }
    }
  }
  const matches: PartMatch[] = [];
  for (const part of parts) {
    const foldedName = part.folded;
    for (const m of scanNameWords(folded, hay, part.words)) {
      const written = text.slice(m.index, m.index + m.text.length);
      if (accentsCompatible(written, part.name)) matches.push({ start: m.index, end: m.index + m.text.length, part, nickname: false });
    }
    // Nicknames: "sofi" for Sofía, "caro" for Carolina — three letters or more, given names only.
    if (!part.given || foldedName.length < 5) continue;
    for (const m of scanNickname(folded, foldedName)) {
      if (foldedName.startsWith(m.text) && m.text !== foldedName) matches.push({ start: m.index, end: m.index + m.text.length, part, nickname: true });
    }
  }
  if (matches.length === 0) return spans;
  const publicContext = PUBLIC_PERSON_CONTEXT.test(text);
  for (const match of matches) {
    const others = matches.filter((o) => o !== match);
    const adjacent = nextTo(
      text,
      match,
      others.filter((o) => !o.nickname),
    );
    if (match.nickname) {
      if (namingCueBefore(text, match.start) || adjacent) spans.push({ kind: "name", start: match.start, end: match.end });
      continue;
    }
    if (!adjacent && (partOfAnotherName(text, match, own) || (publicContext && !namingCueBefore(text, match.start)))) continue;
    // A Vietnamese family name alone is not how anyone refers to themselves (and "Mai", "Hà",
    // "La" are everyday words); it counts next to the given name.
    if (lang === "vi" && !match.part.given && !adjacent) continue;
    if (!isWordName(match.part, lang) || looksLikeName(text, match, others)) {
      spans.push({ kind: "name", start: match.start, end: match.end });
    }
  }
  // Family and given name with a middle name between ("Nguyễn Thị Lan"): one span over all three.
  for (const a of matches) {
    for (const b of matches) {
      if (a.part === b.part || b.start <= a.end) continue;
      const between = text.slice(a.end, b.start);
      if (/^\s+\p{L}+(?:\s+\p{L}+)?\s+$/u.test(between) && between.length <= 20 && (!a.part.given || !b.part.given)) {
        spans.push({ kind: "name", start: a.start, end: b.end });
      }
    }
  }
  return spans;
}
