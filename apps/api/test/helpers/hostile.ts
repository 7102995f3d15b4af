import { encodeCursor } from "@raptscallions/core";

/**
 * Hostile input classes for the edge sweeps (REST and WebSocket): text the database cannot
 * store, nesting that overflows recursive code, and values that pass a format check but name
 * something impossible. Each comes with the label a failure report shows.
 */

/** Strings Postgres refuses: NUL in `text`/`jsonb`, unpaired surrogates in `jsonb`. */
export const BAD_STRINGS: [string, string][] = [
  ["NUL", "hello\u0000world"],
  ["lone high surrogate", "\ud800"],
  ["lone low surrogate", "x\udc00y"],
];

/** Levels of nesting the sweeps send (the 50,000, in well under a megabyte). */
export const DEEP_LEVELS = 50_000;
export const deepArray = (levels = DEEP_LEVELS) => `${"[".repeat(levels)}${"]".repeat(levels)}`;
export const deepObject = (levels = DEEP_LEVELS) => `${'{"a":'.repeat(levels)}1${"}".repeat(levels)}`;

/** Timestamps of the right shape naming no real instant, or one no column holds. */
export const IMPOSSIBLE_INSTANTS = ["2026-13-45T25:61:61Z", "2026-02-30T10:00:00Z", "0000-01-01T00:00:00Z", "9999-12-31T23:59:59-05:00", "275760-09-13T00:00:00Z"];
export const IMPOSSIBLE_DATES = ["0000-01-01", "2026-02-30", "2026-13-45", "9999-12-31", "+275760-09-13"];

/** Integers past what an `integer` column, a safe JS integer or any column holds. */
export const IMPOSSIBLE_INTS = [2 ** 31, -(2 ** 31) - 1, 2 ** 53 + 2, 1e300];

/**
 * Cursors that decode to the right tuple shapes but carry values no list produced: text with NUL
 * (the hanging cursor), impossible timestamps, integers past their columns, uuid-shaped
 * dashes, ltree paths Postgres cannot parse. Every list answers each with 400.
 */
export const IMPOSSIBLE_CURSORS: [string, string][] = [
  ["NUL text + uuid", encodeCursor(["\u0000", "00000000-0000-4000-8000-000000000000"])],
  ["the issue's cursor", "WyJcdTAwMDAiLCIwMDAwMDAwMC0wMDAwLTQwMDAtODAwMC0wMDAwMDAwMDAwMDAiXQ"],
  ["lone surrogate text + uuid", encodeCursor(["\ud800", "00000000-0000-4000-8000-000000000000"])],
  ["month 13 timestamp + uuid", encodeCursor(["2026-13-45T25:61:61.000000Z", "00000000-0000-4000-8000-000000000000"])],
  ["year 0 timestamp + uuid", encodeCursor(["0000-01-01T00:00:00.000000Z", "00000000-0000-4000-8000-000000000000"])],
  ["36 dashes as uuid", encodeCursor(["a", "------------------------------------"])],
  ["int past int4", encodeCursor([2 ** 31])],
  ["int past safe", encodeCursor([2 ** 60])],
  ["huge ms + uuid", encodeCursor([8.64e15 + 1, "00000000-0000-4000-8000-000000000000"])],
  ["bad ltree path", encodeCursor(["not..a-valid$path"])],
  ["NUL ltree path", encodeCursor(["\u0000"])],
  ["deep cursor", Buffer.from(deepArray(100)).toString("base64url")],
];

type Json = null | boolean | number | string | Json[] | { [k: string]: Json };

/** One hostile variant of a valid JSON body: raw text (so lone surrogates survive), and what it is. */
export interface BodyVariant {
  label: string;
  text: string;
  /** The error codes a correct edge answers with. */
  expect: string[];
}

const PLACEHOLDER = "\u2063hostile\u2063";

function replaceAt(root: Json, path: (string | number)[], value: Json): Json {
  if (path.length === 0) return value;
  const copy = structuredClone(root) as Record<string | number, Json>;
  let node = copy;
  for (const key of path.slice(0, -1)) node = node[key] as Record<string | number, Json>;
  node[path[path.length - 1] as string | number] = value;
  return copy;
}

function leaves(root: Json, path: (string | number)[] = []): { path: (string | number)[]; value: Json }[] {
  if (Array.isArray(root)) return root.flatMap((v, i) => leaves(v, [...path, i]));
  if (root !== null && typeof root === "object") {
    return [{ path, value: root }, ...Object.entries(root).flatMap(([k, v]) => leaves(v, [...path, k]))];
  }
  return [{ path, value: root }];
}

/**
 * Every hostile variant of a valid body: each bad string at every leaf, deep nesting at every
 * leaf and as the whole body, bad keys in every object, impossible instants where the body holds
 * one and impossible integers where it holds a number.
 */
export function bodyVariants(valid: Json, opts: { deepLevels?: number; deepObjectLevels?: number; manyValues?: boolean } = {}): BodyVariant[] {
  const levels = opts.deepLevels ?? DEEP_LEVELS;
  const objectLevels = opts.deepObjectLevels ?? levels;
  const out: BodyVariant[] = [];
  const textWith = (path: (string | number)[], raw: string) => JSON.stringify(replaceAt(valid, path, PLACEHOLDER)).replace(JSON.stringify(PLACEHOLDER), raw);
  for (const { path, value } of leaves(valid)) {
    const at = path.join(".") || "(body)";
    if (value !== null && typeof value === "object" && !Array.isArray(value)) {
      for (const [name, bad] of BAD_STRINGS) {
        out.push({ label: `${name} in a key of ${at}`, text: JSON.stringify(replaceAt(valid, path, { ...value, [bad]: "v" })), expect: ["VALIDATION_FAILED"] });
      }
      continue;
    }
    for (const [name, bad] of BAD_STRINGS) {
      out.push({ label: `${name} at ${at}`, text: JSON.stringify(replaceAt(valid, path, bad)), expect: ["VALIDATION_FAILED"] });
    }
    out.push({ label: `${levels}-deep array at ${at}`, text: textWith(path, deepArray(levels)), expect: ["JSON_TOO_COMPLEX"] });
    if (typeof value === "string" && /^\d{4}-\d{2}-\d{2}/.test(value)) {
      for (const instant of IMPOSSIBLE_INSTANTS) {
        out.push({ label: `${instant} at ${at}`, text: JSON.stringify(replaceAt(valid, path, instant)), expect: ["VALIDATION_FAILED"] });
      }
    }
    if (typeof value === "number") {
      for (const n of IMPOSSIBLE_INTS) out.push({ label: `${n} at ${at}`, text: textWith(path, String(n)), expect: ["VALIDATION_FAILED"] });
    }
  }
  out.push({ label: `${levels}-deep array as the body`, text: deepArray(levels), expect: ["JSON_TOO_COMPLEX"] });
  out.push({ label: `${objectLevels}-deep object as the body`, text: deepObject(objectLevels), expect: ["JSON_TOO_COMPLEX"] });
  if (opts.manyValues !== false) out.push({ label: "20,000 values", text: JSON.stringify(new Array(20_000).fill(0)), expect: ["JSON_TOO_COMPLEX"] });
  return out;
}
