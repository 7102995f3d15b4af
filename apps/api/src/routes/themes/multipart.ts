import { AppError, textProblem } from "@raptscallions/core";
import {
  getMultipartBoundary,
  MaxFileSizeExceededError,
  MaxTotalSizeExceededError,
  MultipartParseError,
  MultipartParser,
  type MultipartPart,
} from "@remix-run/multipart-parser";
import type { UploadedFile } from "../../services/themes/upload-asset.ts";

/**
 * Room for the multipart framing around the one file part (boundaries, part headers, a long
 * file name): the whole body may be this much larger than the file itself.
 */
export const MULTIPART_OVERHEAD_BYTES = 16 * 1024;

/** The field an upload's file must arrive in. */
export const UPLOAD_FIELD = "file";

/** 415 unless the request says `multipart/form-data`, 400 when it names no boundary. */
export function assertMultipart(contentType: string | undefined): void {
  const type = contentType?.split(";")[0]?.trim().toLowerCase();
  if (type !== "multipart/form-data") {
    throw new AppError("UNSUPPORTED_MEDIA_TYPE", "Expected Content-Type: multipart/form-data with a `file` field", {
      details: { reason: "not_multipart" },
    });
  }
  if (!getMultipartBoundary(contentType ?? "")) {
    throw new AppError("BAD_REQUEST", "multipart/form-data needs a boundary parameter", {
      details: { reason: "no_boundary" },
    });
  }
}

/** 413 before reading anything when the declared length already exceeds what can be accepted. */
export function assertDeclaredLength(contentLength: string | undefined, fileLimitBytes: number): void {
  if (contentLength === undefined) return;
  const declared = Number(contentLength);
  if (Number.isFinite(declared) && declared > fileLimitBytes + MULTIPART_OVERHEAD_BYTES) throw tooLarge(fileLimitBytes);
}

/**
 * Reads the one uploaded file from a multipart request as it streams.
 *
 * Bytes are counted as they arrive and the body is cut off (stream cancelled, 413) as soon as
 * it passes the file limit plus framing overhead — with or without a Content-Length — and the
 * streaming parser separately refuses a part over the file limit. Nothing is buffered beyond
 * that bound. The parser (@remix-run/multipart-parser) keeps each part's own headers; Bun's
 * built-in `formData()` replaces a part's Content-Type with a guess from the file name, which
 * would hide a declared type that disagrees with the bytes.
 */
export async function readUploadedFile(request: Request, fileLimitBytes: number): Promise<UploadedFile> {
  const boundary = getMultipartBoundary(request.headers.get("content-type") ?? "");
  if (!boundary)
    throw new AppError("BAD_REQUEST", "multipart/form-data needs a boundary parameter", {
      details: { reason: "no_boundary" },
    });
  if (!request.body) throw malformed("The request has no body");
  const maxBodyBytes = fileLimitBytes + MULTIPART_OVERHEAD_BYTES;
  const parser = new MultipartParser(boundary, {
    maxHeaderSize: 8 * 1024,
    maxFileSize: fileLimitBytes,
    maxParts: 16,
    maxTotalSize: maxBodyBytes,
  });

  const files: MultipartPart[] = [];
  const fields = new Set<string>();
  const reader = request.body.getReader();
  let received = 0;
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      if (!(value instanceof Uint8Array)) throw malformed("The request body is not binary");
      received += value.byteLength;
      if (received > maxBodyBytes) throw tooLarge(fileLimitBytes);
      if (value.byteLength === 0) continue;
      for (const part of parser.write(value)) {
        fields.add(part.name ?? "");
        if (part.name === UPLOAD_FIELD) files.push(part);
      }
    }
    parser.finish();
  } catch (err) {
    // Stop the client's upload instead of draining it; our error is the one that matters.
    await reader.cancel().catch(() => undefined);
    throw asClientError(err, fileLimitBytes);
  } finally {
    reader.releaseLock();
  }

  const [part] = files;
  if (!part) {
    throw new AppError("VALIDATION_FAILED", `Send the image in a form field named "${UPLOAD_FIELD}"`, {
      details: { reason: "missing_file_field", fields: [...fields].slice(0, 20) },
    });
  }
  if (files.length > 1 || part.filename === undefined) {
    throw new AppError("VALIDATION_FAILED", `The "${UPLOAD_FIELD}" field must hold exactly one file`, {
      details: { reason: files.length > 1 ? "multiple_files" : "not_a_file" },
    });
  }
  const nameProblem = textProblem(part.filename);
  if (nameProblem) {
    throw new AppError("VALIDATION_FAILED", `The file name cannot be stored: ${nameProblem}`, {
      details: [{ path: "file.filename", code: "invalid_text", message: nameProblem }],
    });
  }
  return { bytes: part.bytes, fileName: part.filename, declaredType: part.mediaType };
}

function asClientError(err: unknown, fileLimitBytes: number): unknown {
  if (err instanceof AppError) return err;
  if (err instanceof MaxFileSizeExceededError || err instanceof MaxTotalSizeExceededError) return tooLarge(fileLimitBytes);
  if (err instanceof MultipartParseError) return malformed(`The multipart body is malformed: ${err.message}`);
  // Anything else while reading is the client's stream failing (aborted upload, bad framing).
  return malformed("The request body could not be read");
}

function malformed(message: string): AppError {
  return new AppError("BAD_REQUEST", message, { details: { reason: "malformed_multipart" } });
}

function tooLarge(limit: number): AppError {
  return new AppError("PAYLOAD_TOO_LARGE", `The file must be at most ${limit} bytes`, { details: { maxBytes: limit } });
}
