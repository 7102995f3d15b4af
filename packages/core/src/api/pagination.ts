import { z } from "zod";
import { AppError } from "../errors.ts";

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
 * cursor this list produced (bad base64, bad JSON, wrong arity or types) is the client's
 * mistake: a 400, never a database error.
 */
export function decodeCursor<T extends z.ZodTuple>(cursor: string, shape: T): z.infer<T> {
  let raw: unknown;
  try {
    raw = JSON.parse(new TextDecoder("utf-8", { fatal: true }).decode(fromBase64Url(cursor)));
  } catch {
    throw new AppError("BAD_REQUEST", "Malformed cursor", { details: [{ path: "cursor", message: "Malformed cursor" }] });
  }
  const parsed = shape.safeParse(raw);
  if (!parsed.success) {
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

/** Cursor tuple parts shared by the lists. Timestamps travel as fixed-format UTC microseconds. */
export const cursorParts = {
  text: z.string().max(400),
  uuid: z.uuid(),
  int: z.number().int().min(-(2 ** 53)).max(2 ** 53),
  timestamp: z.string().regex(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{6}Z$/),
};

/** `?flag=true|false` in a query string (z.coerce.boolean would read "false" as true). */
export const queryBoolean = z.enum(["true", "false"]).transform((v) => v === "true");
