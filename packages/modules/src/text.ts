const ASCII = /^[\x00-\x7f]*$/;

/** Whether every character of `text` is ASCII (most messages): the modules' fast paths start here. */
export function isAscii(text: string): boolean {
  return ASCII.test(text);
}

/** The fold of one UTF-16 unit outside a surrogate pair, as `foldForMatch` defines it. */
function foldUnit(ch: string): string {
  const lower = ch.toLowerCase();
  if (lower.length !== 1) return ch;
  const base = lower.normalize("NFD")[0] ?? lower;
  return base.length === 1 ? base : lower;
}

// Each unit's fold, worked out the first time the unit is met (0 = not yet): the fold depends on
// the unit alone, and lower-casing and NFD per character were most of a non-ASCII message's cost.
const FOLDED = new Uint16Array(0x10000);
const CHUNK = 4096;
const units = new Uint16Array(CHUNK);

/**
 * Lower-cases and strips diacritics one UTF-16 unit at a time, so every offset in the result is
 * an offset in the input. Lets "Siobhan" match "Siobhán" while spans still point into the
 * original text. Astral characters (emoji) keep their two units.
 */
export function foldForMatch(text: string): string {
  // Plain ASCII (most messages) needs no per-character work.
  if (isAscii(text)) return text.toLowerCase();
  let out = "";
  let n = 0;
  for (let i = 0; i < text.length; i++) {
    // Room for a surrogate pair's two units.
    if (n >= CHUNK - 1) {
      out += String.fromCharCode(...units.subarray(0, n));
      n = 0;
    }
    const c = text.charCodeAt(i);
    let f: number;
    if (c >= 0xd800 && c <= 0xdbff && i + 1 < text.length && (text.charCodeAt(i + 1) & 0xfc00) === 0xdc00) {
      units[n++] = c;
      f = text.charCodeAt(++i);
    } else {
      f = FOLDED[c] ?? 0;
      if (f === 0) {
        f = foldUnit(String.fromCharCode(c)).charCodeAt(0);
        FOLDED[c] = f;
      }
    }
    units[n++] = f;
  }
  return out + String.fromCharCode(...units.subarray(0, n));
}

/** {@link foldForMatch} as first written, character by character: its definition, kept for tests. */
export function foldForMatchByCharacter(text: string): string {
  if (isAscii(text)) return text.toLowerCase();
  let out = "";
  for (const ch of text) out += ch.length === 1 ? foldUnit(ch) : ch;
  return out;
}

/** Escapes a string for use inside a RegExp. */
export function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
}

/** A half-open character range in the original text. */
export interface Span {
  start: number;
  end: number;
}

/** True when two spans share at least one character. */
export function overlaps(a: Span, b: Span): boolean {
  return a.start < b.end && b.start < a.end;
}

function isBoundary(text: string, i: number): boolean {
  const ch = text[i];
  if (ch === "\n") return true;
  if (ch !== "." && ch !== "!" && ch !== "?") return false;
  const next = text[i + 1];
  return next === undefined || /\s/.test(next);
}

/**
 * The sentence around `index`: from just after the previous `.`, `!` or `?` that is followed by
 * whitespace (or a newline) to the next one. Scans outwards from `index` so calling it for every
 * match in a long text stays linear in the sentence length, not the text length.
 */
export function sentenceBounds(text: string, index: number): Span {
  let start = index;
  while (start > 0 && !isBoundary(text, start - 1)) start--;
  let end = index;
  while (end < text.length && !isBoundary(text, end)) end++;
  return { start, end };
}
