/** The raster formats accepted for uploaded assets. */
export type ImageFormat = "png" | "jpeg" | "gif" | "webp";

/** Canonical Content-Type and file extension of each accepted format. */
export const IMAGE_FORMATS: Record<ImageFormat, { contentType: string; extension: string }> = {
  png: { contentType: "image/png", extension: "png" },
  jpeg: { contentType: "image/jpeg", extension: "jpg" },
  gif: { contentType: "image/gif", extension: "gif" },
  webp: { contentType: "image/webp", extension: "webp" },
};

/** File-name extensions (lowercase) and the format each one promises. */
export const EXTENSION_FORMAT: Readonly<Record<string, ImageFormat>> = {
  png: "png",
  jpg: "jpeg",
  jpeg: "jpeg",
  jpe: "jpeg",
  gif: "gif",
  webp: "webp",
};

/**
 * Declared Content-Types and the format each one promises. `image/jpg` and `image/pjpeg` are
 * not registered types but real browsers and tools send them; APNG is a PNG to every reader.
 */
export const CONTENT_TYPE_FORMAT: Readonly<Record<string, ImageFormat>> = {
  "image/png": "png",
  "image/apng": "png",
  "image/jpeg": "jpeg",
  "image/jpg": "jpeg",
  "image/pjpeg": "jpeg",
  "image/gif": "gif",
  "image/webp": "webp",
};

/** What file-type reports (by mime) for each accepted format. */
export const DETECTED_MIME_FORMAT: Readonly<Record<string, ImageFormat>> = {
  "image/png": "png",
  "image/apng": "png",
  "image/jpeg": "jpeg",
  "image/gif": "gif",
  "image/webp": "webp",
};

export const SVG_EXTENSIONS: ReadonlySet<string> = new Set(["svg", "svgz"]);
export const SVG_CONTENT_TYPE = "image/svg+xml";

/** Looks a key up in a record without inheriting `__proto__`, `toString`... from Object. */
export function lookup<T>(table: Readonly<Record<string, T>>, key: string): T | undefined {
  return Object.hasOwn(table, key) ? table[key] : undefined;
}
