import { createHash } from "node:crypto";
import { AppError } from "@raptscallions/core";
import { fileTypeFromBuffer } from "file-type";
import { imageSize } from "image-size";
import { fileNameExtension } from "./file-name.ts";
import { CONTENT_TYPE_FORMAT, DETECTED_MIME_FORMAT, EXTENSION_FORMAT, IMAGE_FORMATS, lookup, SVG_CONTENT_TYPE, SVG_EXTENSIONS } from "./formats.ts";
import type { ImageFormat } from "./formats.ts";
import { containsZip, findMarkup, looksLikeSvg } from "./polyglot.ts";
import { stripMetadata } from "./strip-metadata.ts";
import { imageEndOffset, StructureError } from "./structure.ts";

/** What the uploader told us; none of it is trusted, all of it must agree with the bytes. */
export interface InspectImageOptions {
  /** The uploaded file's name; its extension must match the bytes. */
  fileName: string;
  /** The declared Content-Type, if any; parameters are ignored. */
  declaredType?: string;
  maxWidth: number;
  maxHeight: number;
}

/** An image that passed every check, ready to be stored under {@link contentAddressedKey}. */
export interface InspectedImage {
  /** Canonical type decided from the bytes: image/png, image/jpeg, image/gif or image/webp. */
  contentType: string;
  /** Canonical extension: png, jpg, gif or webp. */
  extension: string;
  width: number;
  height: number;
  /** Lowercase hex SHA-256 of `bytes`. */
  sha256: string;
  /** What to store: the upload with its metadata removed ({@link stripMetadata}). */
  bytes: Uint8Array;
}

/**
 * Decides whether uploaded bytes are an acceptable raster image, from the bytes themselves.
 *
 * Errors (AppError; `details.reason` says which check failed):
 * - 415 UNSUPPORTED_MEDIA_TYPE — anything about *what kind of file* this is: not PNG/JPEG/GIF/
 *   WebP by its bytes, SVG, or bytes that disagree with the file name's extension or the
 *   declared Content-Type.
 * - 422 VALIDATION_FAILED — the right kind of file that we still refuse: bad file name, empty,
 *   truncated or malformed, trailing data (polyglots), a ZIP or markup left in the image data
 *   once metadata is stripped, unreadable or oversized dimensions.
 *
 * Metadata (text chunks, comments, EXIF with its GPS location, XMP, unknown chunks) is removed,
 * not judged: the returned `bytes` are what gets stored.
 */
export async function inspectImage(bytes: Uint8Array, options: InspectImageOptions): Promise<InspectedImage> {
  const extension = fileNameExtension(options.fileName);
  if (SVG_EXTENSIONS.has(extension)) throw svgRefused();
  const formatByName = lookup(EXTENSION_FORMAT, extension);
  if (!formatByName) {
    throw unsupported(`Files ending in .${extension} are not accepted; upload ${ACCEPTED}`, "extension_not_allowed");
  }
  const declared = normaliseContentType(options.declaredType);
  let formatByDeclaration: ImageFormat | undefined;
  if (declared !== undefined) {
    if (declared === SVG_CONTENT_TYPE) throw svgRefused();
    formatByDeclaration = lookup(CONTENT_TYPE_FORMAT, declared);
    if (!formatByDeclaration) {
      throw unsupported(`Content-Type ${declared} is not accepted; upload ${ACCEPTED}`, "content_type_not_allowed");
    }
  }
  if (bytes.byteLength === 0) throw invalid("The file is empty", "empty");

  const detected = await fileTypeFromBuffer(bytes);
  const format = detected ? lookup(DETECTED_MIME_FORMAT, detected.mime) : undefined;
  if (!format) {
    if (looksLikeSvg(bytes)) throw svgRefused();
    throw unsupported(`The file is not ${ACCEPTED}`, "not_an_allowed_image", {
      detected: detected?.mime,
    });
  }
  if (format !== formatByName) {
    throw unsupported(`The file is a ${format.toUpperCase()} image but its name ends in .${extension}`, "extension_mismatch", {
      detected: IMAGE_FORMATS[format].contentType,
    });
  }
  if (formatByDeclaration !== undefined && format !== formatByDeclaration) {
    throw unsupported(`The file is a ${format.toUpperCase()} image but was sent as ${declared}`, "content_type_mismatch", {
      detected: IMAGE_FORMATS[format].contentType,
    });
  }

  assertWellFormed(format, bytes);
  const stored = stripMetadata(format, bytes);
  assertNoHiddenPayload(stored);
  const { width, height } = readDimensions(stored, options);
  return {
    contentType: IMAGE_FORMATS[format].contentType,
    extension: IMAGE_FORMATS[format].extension,
    width,
    height,
    sha256: createHash("sha256").update(stored).digest("hex"),
    bytes: stored,
  };
}

const ACCEPTED = "a PNG, JPEG, GIF or WebP image";

function assertWellFormed(format: ImageFormat, bytes: Uint8Array): void {
  let end: number;
  try {
    end = imageEndOffset(format, bytes);
  } catch (err) {
    if (err instanceof StructureError) {
      throw invalid(`The ${format.toUpperCase()} file is ${err.problem}: ${err.message}`, err.problem);
    }
    throw err;
  }
  if (end < bytes.byteLength) {
    const trailing = bytes.subarray(end);
    if (containsZip(trailing, { wholeFile: true })) {
      throw invalid("The image has a ZIP archive appended to it", "embedded_zip");
    }
    throw invalid(`The image has ${trailing.byteLength} bytes of data after its end marker`, "trailing_data");
  }
}

/**
 * Runs on the stripped image, so only image data is left to search: markup or a ZIP there (e.g.
 * in an uncompressed deflate block) was put there on purpose and is refused.
 */
function assertNoHiddenPayload(bytes: Uint8Array): void {
  const markup = findMarkup(bytes);
  if (markup !== undefined) {
    throw invalid(`The image data contains embedded markup (${markup})`, "embedded_markup");
  }
  if (containsZip(bytes, { wholeFile: false })) {
    throw invalid("The image contains a ZIP archive", "embedded_zip");
  }
}

function readDimensions(bytes: Uint8Array, { maxWidth, maxHeight }: InspectImageOptions): { width: number; height: number } {
  let width: number | undefined;
  let height: number | undefined;
  try {
    ({ width, height } = imageSize(bytes));
  } catch (cause) {
    throw invalid("The image's dimensions cannot be read", "unreadable_dimensions", undefined, cause);
  }
  if (!Number.isSafeInteger(width) || !Number.isSafeInteger(height) || !width || !height || width < 1 || height < 1) {
    throw invalid("The image's dimensions cannot be read", "unreadable_dimensions");
  }
  if (width > maxWidth || height > maxHeight) {
    throw invalid(`The image is ${width}x${height}; the limit is ${maxWidth}x${maxHeight}`, "dimensions_too_large", { width, height, maxWidth, maxHeight });
  }
  return { width, height };
}

/**
 * `image/PNG; charset=x` → `image/png`. Absent, blank and `application/octet-stream` (what
 * browsers send when they do not know) count as "not declared": the bytes decide anyway.
 */
function normaliseContentType(value: string | undefined): string | undefined {
  const type = value?.split(";")[0]?.trim().toLowerCase();
  if (!type || type === "application/octet-stream") return undefined;
  return type;
}

function svgRefused(): AppError {
  return unsupported("SVG images are not accepted because they can carry scripts; upload a PNG, JPEG, GIF or WebP instead", "svg_not_accepted");
}

function unsupported(message: string, reason: string, extra?: Record<string, unknown>): AppError {
  return new AppError("UNSUPPORTED_MEDIA_TYPE", message, { details: { reason, ...extra } });
}

function invalid(message: string, reason: string, extra?: Record<string, unknown>, cause?: unknown): AppError {
  return new AppError("VALIDATION_FAILED", message, { details: { reason, ...extra }, cause });
}
