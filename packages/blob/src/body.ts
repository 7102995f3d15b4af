import { AppError } from "@raptscallions/core";
import { readLimited } from "./images/read-limited.ts";

/** Longest presigned URL lifetime S3 accepts (SigV4: seven days). */
export const MAX_PRESIGN_TTL_SECONDS = 7 * 24 * 60 * 60;

/**
 * Collects a put body into memory, enforcing the store's size cap and the declared length.
 * Shared by stores so both refuse the same bodies with the same errors.
 */
export async function toBytes(body: Uint8Array | ReadableStream<Uint8Array>, contentLength: number | undefined, maxObjectBytes: number): Promise<Uint8Array> {
  try {
    assertContentLength(contentLength, maxObjectBytes);
  } catch (err) {
    if (!(body instanceof Uint8Array)) await body.cancel(err).catch(() => undefined);
    throw err;
  }
  if (body instanceof Uint8Array) {
    checkLength(body.byteLength, contentLength, maxObjectBytes);
    return body;
  }
  if (contentLength === undefined) return readLimited(body, maxObjectBytes);
  let bytes: Uint8Array;
  try {
    bytes = await readLimited(body, contentLength);
  } catch (err) {
    // With a declared length the limit we read to is that length, so "too large" means the
    // body disagrees with its own declaration.
    if (err instanceof AppError && err.code === "PAYLOAD_TOO_LARGE") {
      throw lengthMismatch(contentLength);
    }
    throw err;
  }
  checkLength(bytes.byteLength, contentLength, maxObjectBytes);
  return bytes;
}

/** Refuses a declared length that is not a size or exceeds the cap, before reading anything. */
export function assertContentLength(contentLength: number | undefined, maxObjectBytes: number): void {
  if (contentLength === undefined) return;
  if (!Number.isSafeInteger(contentLength) || contentLength < 0) {
    throw new AppError("VALIDATION_FAILED", "contentLength must be a non-negative integer", {
      details: { reason: "bad_content_length" },
    });
  }
  if (contentLength > maxObjectBytes) throw tooLarge(maxObjectBytes);
}

/** Refuses a body whose final size breaks the cap or its declared length. */
export function checkLength(actual: number, contentLength: number | undefined, maxObjectBytes: number): void {
  if (actual > maxObjectBytes) throw tooLarge(maxObjectBytes);
  if (contentLength !== undefined && actual !== contentLength) throw lengthMismatch(contentLength);
}

export function tooLarge(maxBytes: number): AppError {
  return new AppError("PAYLOAD_TOO_LARGE", `Body is larger than ${maxBytes} bytes`, {
    details: { maxBytes },
  });
}

function lengthMismatch(contentLength: number): AppError {
  return new AppError("VALIDATION_FAILED", `Body length does not match contentLength ${contentLength}`, {
    details: { reason: "content_length_mismatch" },
  });
}

export function assertTtl(ttlSeconds: number): void {
  if (!Number.isSafeInteger(ttlSeconds) || ttlSeconds < 1 || ttlSeconds > MAX_PRESIGN_TTL_SECONDS) {
    throw new RangeError(`ttlSeconds must be an integer in 1..${MAX_PRESIGN_TTL_SECONDS}`);
  }
}

/** The longest common prefix of some strings. */
export function commonPrefix(values: readonly string[]): string {
  let prefix = values[0] ?? "";
  for (const value of values) {
    while (!value.startsWith(prefix)) prefix = prefix.slice(0, -1);
  }
  return prefix;
}
