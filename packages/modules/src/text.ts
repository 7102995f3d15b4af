/**
 * Lower-cases and strips diacritics one UTF-16 unit at a time, so every offset in the result is
 * an offset in the input. Lets "Siobhan" match "Siobhán" while spans still point into the
 * original text.
 */
export function foldForMatch(text: string): string {
  // Plain ASCII (most messages) needs no per-character work.
  if (/^[\x00-\x7f]*$/.test(text)) return text.toLowerCase();
  let out = "";
  for (const ch of text) {
    if (ch.length !== 1) {
      out += ch; // astral characters (emoji) keep their two units
      continue;
    }
    const lower = ch.toLowerCase();
    if (lower.length !== 1) {
      out += ch;
      continue;
    }
    const base = lower.normalize("NFD")[0] ?? lower;
    out += base.length === 1 ? base : lower;
  }
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
