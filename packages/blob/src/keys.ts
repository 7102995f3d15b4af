import { AppError } from "@raptscallions/core";
import { IMAGE_FORMATS } from "./images/formats.ts";

/** Longest key accepted, in characters (S3 allows 1024 bytes; the charset below is ASCII). */
export const MAX_KEY_LENGTH = 1024;

// One conservative charset for every backend: it is safe as an S3 key, in a URL path without
// escaping, and on any filesystem. Anything richer (spaces, unicode, `%`) buys nothing for
// content-addressed assets and opens doors (percent-decoding, normalisation, traversal).
const SEGMENT = /^[A-Za-z0-9][A-Za-z0-9._-]*$/;

/**
 * Throws an AppError (VALIDATION_FAILED) unless `key` is a safe blob key: `/`-separated segments
 * of `[A-Za-z0-9._-]` that each start with a letter or digit (so no `.`/`..` segments and no
 * hidden names), no leading, trailing or doubled `/`, at most {@link MAX_KEY_LENGTH} characters.
 */
export function assertValidKey(key: unknown): asserts key is string {
  if (typeof key !== "string" || key.length === 0) {
    throw badKey("Blob key must be a non-empty string", key);
  }
  if (key.length > MAX_KEY_LENGTH) {
    throw badKey(`Blob key is longer than ${MAX_KEY_LENGTH} characters`, key);
  }
  for (const segment of key.split("/")) {
    if (!SEGMENT.test(segment) || segment.includes("..")) {
      throw badKey("Blob key contains an unsafe segment", key);
    }
  }
}

/** True when {@link assertValidKey} would accept `key`. */
export function isValidKey(key: unknown): key is string {
  try {
    assertValidKey(key);
    return true;
  } catch {
    return false;
  }
}

const GROUP_ID = /^[A-Za-z0-9][A-Za-z0-9_-]{0,127}$/;
const SHA256_HEX = /^[0-9a-f]{64}$/;
const ASSET_EXTENSIONS: ReadonlySet<string> = new Set(Object.values(IMAGE_FORMATS).map((f) => f.extension));

/**
 * The storage key of a group's theme asset, named by the hash of its bytes:
 * `groups/<groupId>/assets/<sha256>.<ext>`. Identical uploads share one object, and an object
 * never changes once written, which is what makes immutable caching of it correct.
 */
export function contentAddressedKey(groupId: string, sha256: string, extension: string): string {
  if (!GROUP_ID.test(groupId)) {
    throw new AppError("VALIDATION_FAILED", "Group id is not usable in a blob key", {
      details: { reason: "bad_group_id" },
    });
  }
  if (!SHA256_HEX.test(sha256)) {
    throw new AppError("VALIDATION_FAILED", "sha256 must be 64 lowercase hex characters", {
      details: { reason: "bad_sha256" },
    });
  }
  if (!ASSET_EXTENSIONS.has(extension)) {
    throw new AppError("VALIDATION_FAILED", `Unsupported asset extension "${extension}"`, {
      details: { reason: "bad_extension" },
    });
  }
  const key = `groups/${groupId}/assets/${sha256}.${extension}`;
  assertValidKey(key);
  return key;
}

function badKey(message: string, key: unknown): AppError {
  // The key itself goes into details only when it is a short string: it is caller input.
  const shown = typeof key === "string" && key.length <= 200 ? key : undefined;
  return new AppError("VALIDATION_FAILED", message, { details: { reason: "bad_key", key: shown } });
}
