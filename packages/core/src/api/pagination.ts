import { z } from "zod";
import { AppError } from "../errors.ts";
import { findTextIssue, inInstantRange, isCalendarInstant } from "../input.ts";

/** One component of a cursor: the sort key(s) then the id that breaks ties. */
export type CursorValue = string | number;

/** A page of a cursor-paginated list: `nextCursor` is null on the last page. */
export interface Page<T> {
  items: T[];
  nextCursor: string | null;
}

function toBase64Url(bytes: Uint8Array): string {
  let bin = "";
  for (const b of bytes) bin += String.fromCharCode(b);
  return btoa(bin).replaceAll("+", "-").replaceAll("/", "_").replaceAll("=", "");
}

function fromBase64Url(text: string): Uint8Array {
  if (!/^[A-Za-z0-9_-]*$/.test(text)) throw new Error("not base64url");
  const bin = atob(text.replaceAll("-", "+").replaceAll("_", "/"));
  return Uint8Array.from(bin, (ch) => ch.charCodeAt(0));
}

/**
 * Encodes the sort key and id of the last row of a page. Clients must treat the result as
 * opaque: its layout is free to change between releases.
 */
export function encodeCursor(values: readonly CursorValue[]): string {
  return toBase64Url(new TextEncoder().encode(JSON.stringify(values)));
}

/**
 * Decodes a cursor against the tuple schema of the list it belongs to. Anything that is not a
 * cursor this list produced (bad base64, bad JSON, wrong arity or types, text the database
 * cannot hold, values outside their column's range) is the client's mistake: a 400, never a
 * database error.
 */
export function decodeCursor<T extends z.ZodTuple>(cursor: string, shape: T): z.infer<T> {
  let raw: unknown;
  try {
    raw = JSON.parse(new TextDecoder("utf-8", { fatal: true }).decode(fromBase64Url(cursor)));
  } catch {
    throw new AppError("BAD_REQUEST", "Malformed cursor", { details: [{ path: "cursor", message: "Malformed cursor" }] });
  }
  const parsed = shape.safeParse(raw);
  if (!parsed.success || findTextIssue(raw) !== null) {
    throw new AppError("BAD_REQUEST", "Malformed cursor", { details: [{ path: "cursor", message: "Cursor does not belong to this list" }] });
  }
  return parsed.data;
}

/**
 * Turns `limit + 1` rows fetched in sort order into a page: the extra row only proves that a
 * next page exists, so it is dropped and the cursor points at the last row kept.
 */
export function toPage<T>(rows: T[], limit: number, keyOf: (row: T) => CursorValue[]): Page<T> {
  const items = rows.slice(0, limit);
  const last = items[items.length - 1];
  return { items, nextCursor: rows.length > limit && last !== undefined ? encodeCursor(keyOf(last)) : null };
}

const INT4 = 2 ** 31;
const TIMESTAMP = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})\.\d{6}Z$/;
// Group paths are dot-joined labels, one per level: a group id with `_` for `-` (packages/db paths.ts).
const LTREE_PATH = /^[0-9a-f]{8}_[0-9a-f]{4}_[0-9a-f]{4}_[0-9a-f]{4}_[0-9a-f]{12}(?:\.[0-9a-f]{8}_[0-9a-f]{4}_[0-9a-f]{4}_[0-9a-f]{4}_[0-9a-f]{12})*$/;

/** A fixed-format cursor timestamp that is a real instant in the accepted range. */
function isCursorTimestamp(text: string): boolean {
  const m = TIMESTAMP.exec(text);
  if (!m) return false;
  const [y, mo, d, h, mi, s] = m.slice(1).map(Number) as [number, number, number, number, number, number];
  return isCalendarInstant(y, mo, d, h, mi, s) && inInstantRange(Date.UTC(y, mo - 1, d, h, mi, s));
}

/**
 * Cursor tuple parts shared by the lists. Each accepts only what its column can hold, so a
 * forged cursor is a 400 before any query runs. Timestamps travel as fixed-format UTC
 * microseconds.
 */
export const cursorParts = {
  text: z.string().max(400),
  uuid: z.uuid(),
  /** A Postgres `integer` column. */
  int4: z
    .number()
    .int()
    .min(-INT4)
    .max(INT4 - 1),
  /** A `bigint` column read as a JS number (exact up to 2^53). */
  int8: z
    .number()
    .int()
    .min(-(2 ** 53))
    .max(2 ** 53),
  /** Milliseconds since the epoch, within the accepted instant range. */
  epochMs: z.number().int().refine(inInstantRange, "Instant out of range"),
  timestamp: z.string().refine(isCursorTimestamp, "Not a timestamp"),
  /** A group's ltree path (deep trees give long paths). */
  ltreePath: z
    .string()
    .max(37 * 256)
    .regex(LTREE_PATH),
};

/** `?flag=true|false` in a query string (z.coerce.boolean would read "false" as true). */
export const queryBoolean = z.enum(["true", "false"]).transform((v) => v === "true");
