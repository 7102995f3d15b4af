/**
 * Rules every piece of client input obeys before it reaches a service (docs/api.md, "Errors and
 * input limits"). They exist because Postgres refuses what JSON and zod accept: `text` and
 * `jsonb` reject the NUL character, `jsonb` rejects lone UTF-16 surrogates, and deeply nested
 * JSON overflows recursive serialisers. One place decides, so REST bodies, query strings, path
 * segments, cursors and WebSocket frames all answer the same way.
 */
export const INPUT_LIMITS = {
  /** Arrays and objects inside one another, counting the outermost. */
  maxJsonDepth: 32,
  /** Array elements plus object members in one JSON document. */
  maxJsonValues: 10_000,
} as const;

/** Earliest and latest instant a client may send (dates, timestamps, cursors): years 1970–2999 UTC. */
export const INSTANT_RANGE = { min: Date.UTC(1970, 0, 1), max: Date.UTC(3000, 0, 1) - 1 } as const;

// Without the `u` flag a regex walks UTF-16 code units, so an unpaired surrogate is visible to it.
const BAD_TEXT = /\u0000|[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/;

/** Why a string cannot be stored, or null when it can. */
export function textProblem(text: string): string | null {
  const m = BAD_TEXT.exec(text);
  if (!m) return null;
  return m[0] === "\u0000" ? "NUL characters are not allowed" : "Unpaired UTF-16 surrogates are not allowed";
}

/** One refused piece of input, in the shape of the validation `details` the API returns. */
export interface InputIssue {
  path: string;
  code: "invalid_text";
  message: string;
}

/**
 * The first string (value or object key) anywhere in `value` that cannot be stored. Walks with an
 * explicit stack, never by recursion, so no nesting can overflow it; callers bound the size first.
 */
export function findTextIssue(value: unknown, rootPath = ""): InputIssue | null {
  const stack: [unknown, string][] = [[value, rootPath]];
  const join = (base: string, key: string | number) => (base === "" ? String(key) : `${base}.${key}`);
  for (let item = stack.pop(); item !== undefined; item = stack.pop()) {
    const [v, path] = item;
    if (typeof v === "string") {
      const message = textProblem(v);
      if (message) return { path, code: "invalid_text", message };
    } else if (Array.isArray(v)) {
      for (let i = v.length - 1; i >= 0; i -= 1) stack.push([v[i], join(path, i)]);
    } else if (v !== null && typeof v === "object") {
      for (const [k, child] of Object.entries(v)) {
        const message = textProblem(k);
        // A bad key cannot be shown as part of a path; the path names its parent.
        if (message) return { path, code: "invalid_text", message: `Object key: ${message}` };
        stack.push([child, join(path, k)]);
      }
    }
  }
  return null;
}

/**
 * Measures a JSON text's nesting and size in one pass over its characters, before it is parsed,
 * so a document of 50,000 brackets costs a loop, not a stack. Returns why it is too complex, or
 * null. Malformed text is left for JSON.parse to refuse.
 */
export function jsonComplexityProblem(text: string, limits = INPUT_LIMITS): string | null {
  let depth = 0;
  let values = 0;
  let inString = false;
  for (let i = 0; i < text.length; i += 1) {
    const ch = text.charCodeAt(i);
    if (inString) {
      if (ch === 0x5c)
        i += 1; // backslash: the next character is escaped
      else if (ch === 0x22) inString = false;
      continue;
    }
    if (ch === 0x22) inString = true;
    else if (ch === 0x5b || ch === 0x7b) {
      depth += 1;
      values += 1;
      if (depth > limits.maxJsonDepth) return `JSON nests deeper than ${limits.maxJsonDepth} levels`;
    } else if (ch === 0x5d || ch === 0x7d) depth -= 1;
    else if (ch === 0x2c) values += 1;
    if (values > limits.maxJsonValues) return `JSON holds more than ${limits.maxJsonValues} values`;
  }
  return null;
}

/** The outcome of reading client JSON: the value, or why it was refused (each edge picks its code). */
export type ClientJson =
  | { ok: true; value: unknown }
  | { ok: false; reason: "too_complex"; message: string }
  | { ok: false; reason: "malformed"; message: string }
  | { ok: false; reason: "invalid_text"; message: string; issue: InputIssue; value: unknown };

/** Bounds, parses and checks the text of one client JSON document (a REST body, a WebSocket frame). */
export function readClientJson(text: string): ClientJson {
  const complex = jsonComplexityProblem(text);
  if (complex) return { ok: false, reason: "too_complex", message: complex };
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return { ok: false, reason: "malformed", message: "Malformed JSON" };
  }
  const issue = findTextIssue(value);
  if (issue) return { ok: false, reason: "invalid_text", message: issue.message, issue, value };
  return { ok: true, value };
}

const DAYS_IN_MONTH = [31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];

/** True when the parts name a real calendar instant (no 13th month, 30 February or 25th hour). */
export function isCalendarInstant(year: number, month: number, day: number, hour = 0, minute = 0, second = 0): boolean {
  const leap = (year % 4 === 0 && year % 100 !== 0) || year % 400 === 0;
  const days = month === 2 && leap ? 29 : DAYS_IN_MONTH[month - 1];
  return days !== undefined && day >= 1 && day <= days && hour <= 23 && minute <= 59 && second <= 59;
}

/** True when an instant (ms since the epoch) lies in the range clients may send. */
export function inInstantRange(ms: number): boolean {
  return Number.isFinite(ms) && ms >= INSTANT_RANGE.min && ms <= INSTANT_RANGE.max;
}
