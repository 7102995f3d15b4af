import { AppError } from "@raptscallions/core";

/** An opaque keyset cursor: base64url of `{ k: sort key, id: tie-breaker }`. */
export function encodeCursor(c: { k: string; id: string }): string {
  return Buffer.from(JSON.stringify(c)).toString("base64url");
}

export class BadCursor extends AppError {
  constructor() {
    super("BAD_REQUEST", "Malformed cursor");
  }
}

export function decodeCursor(raw: string): { k: string; id: string } {
  try {
    const parsed = JSON.parse(Buffer.from(raw, "base64url").toString("utf8")) as unknown;
    if (
      typeof parsed === "object" &&
      parsed !== null &&
      typeof (parsed as { k?: unknown }).k === "string" &&
      typeof (parsed as { id?: unknown }).id === "string" &&
      /^[0-9a-f-]{36}$/i.test((parsed as { id: string }).id)
    ) {
      return parsed as { k: string; id: string };
    }
  } catch {
    // fall through
  }
  throw new BadCursor();
}
