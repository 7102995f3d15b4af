import { lookup, CONTENT_TYPE_FORMAT, IMAGE_FORMATS } from "./images/formats.ts";

/** Options for {@link serveBlobHeaders}. */
export interface ServeBlobHeadersOptions {
  /**
   * Base name offered in Content-Disposition; reduced to `[A-Za-z0-9._-]` and given the
   * format's extension. Default `asset`.
   */
  fileName?: string;
  /**
   * Who may embed the asset. `same-site` (default) lets the school's web app on a sibling
   * subdomain show it; use `cross-origin` if the app is on another site entirely.
   */
  crossOriginResourcePolicy?: "same-origin" | "same-site" | "cross-origin";
}

/**
 * Response headers for serving a stored asset from the API origin.
 *
 * Only the four accepted raster types are served inline as themselves; anything else (an object
 * written by some other path, or SVG) goes out as an `application/octet-stream` attachment, so
 * a browser never renders it as a document. `nosniff` stops type guessing, and the CSP with
 * `sandbox` means that even if something were rendered as a document it could run no script and
 * reach nothing. Caching is immutable because keys are content-addressed.
 */
export function serveBlobHeaders(contentType: string, options: ServeBlobHeadersOptions = {}): Record<string, string> {
  const type = contentType.split(";")[0]?.trim().toLowerCase() ?? "";
  const format = lookup(CONTENT_TYPE_FORMAT, type);
  const safeType = format ? IMAGE_FORMATS[format].contentType : "application/octet-stream";
  const extension = format ? IMAGE_FORMATS[format].extension : "bin";
  const disposition = format ? "inline" : "attachment";
  return {
    "Content-Type": safeType,
    "Cache-Control": "public, max-age=31536000, immutable",
    "X-Content-Type-Options": "nosniff",
    "Content-Security-Policy": "default-src 'none'; img-src 'self' data:; style-src 'unsafe-inline'; sandbox",
    "Content-Disposition": `${disposition}; filename="${safeBaseName(options.fileName)}.${extension}"`,
    "Cross-Origin-Resource-Policy": options.crossOriginResourcePolicy ?? "same-site",
    "Referrer-Policy": "no-referrer",
  };
}

// The name goes inside a quoted header parameter: quotes, backslashes, CR/LF or non-ASCII would
// let it break out of the parameter or need RFC 5987 encoding, so it is reduced to a safe set.
function safeBaseName(fileName: string | undefined): string {
  const withoutExtension = (fileName ?? "").replace(/\.[^.]*$/, "");
  const cleaned = withoutExtension
    .replace(/[^A-Za-z0-9._-]+/g, "_")
    .replace(/^[._-]+/, "")
    .slice(0, 100);
  return cleaned.length > 0 ? cleaned : "asset";
}
