import { AppError } from "@raptscallions/core";

const BUNDLE_UPLOAD_PATH = /^\/api\/roster-connections\/[^/]+\/bundles\/?$/;

/** The bundle upload has its own limit (ROSTER_UPLOAD_LIMIT_BYTES), counted while it streams, instead of the JSON body limit. */
export function isRosterBundleUpload(method: string, path: string): boolean {
  return method === "POST" && BUNDLE_UPLOAD_PATH.test(path);
}

const ACCEPTED_TYPES = new Set(["application/zip", "application/x-zip-compressed", "application/octet-stream"]);

function tooLarge(limit: number) {
  return new AppError("PAYLOAD_TOO_LARGE", `A roster bundle may be at most ${limit} bytes`, { details: { limitBytes: limit } });
}

/**
 * The raw zip of a bundle upload: 415 unless the body is declared a zip (or octet-stream), 413
 * as soon as it passes `limit` (declared or counted), 400 when empty or unreadable.
 */
export async function readBundleBody(request: Request, limit: number): Promise<Uint8Array> {
  const type = request.headers.get("content-type")?.split(";")[0]?.trim().toLowerCase();
  if (!type || !ACCEPTED_TYPES.has(type)) {
    throw new AppError("UNSUPPORTED_MEDIA_TYPE", "Send the bundle as the request body with Content-Type: application/zip", { details: { reason: "not_zip" } });
  }
  const declared = Number(request.headers.get("content-length") ?? Number.NaN);
  if (Number.isFinite(declared) && declared > limit) throw tooLarge(limit);
  if (!request.body) throw new AppError("BAD_REQUEST", "The request has no body");
  const reader = request.body.getReader();
  const parts: Uint8Array[] = [];
  let received = 0;
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      received += value.byteLength;
      if (received > limit) throw tooLarge(limit);
      parts.push(value);
    }
  } catch (err) {
    await reader.cancel().catch(() => undefined);
    if (err instanceof AppError) throw err;
    throw new AppError("BAD_REQUEST", "The request body could not be read");
  } finally {
    reader.releaseLock();
  }
  if (received === 0) throw new AppError("BAD_REQUEST", "The request has no body");
  const bytes = new Uint8Array(received);
  let offset = 0;
  for (const p of parts) {
    bytes.set(p, offset);
    offset += p.byteLength;
  }
  return bytes;
}
