import { crc32 } from "./crc32.ts";
import { concat } from "./read-limited.ts";
import type { ImageFormat } from "./formats.ts";
import { ascii, type ImagePart, imageParts } from "./structure.ts";

/**
 * Returns the image with everything but what decoders need to draw it removed: text, comments,
 * EXIF (camera, time, GPS location), XMP, IPTC, thumbnails and unknown chunks. Text chunks are
 * where HTML, SVG and script payloads hide in otherwise valid images, and no list of dangerous
 * strings can be complete, so they are dropped whole rather than searched. Pixels are never
 * re-encoded: the kept parts are copied byte for byte.
 *
 * Kept: PNG IHDR PLTE tRNS IDAT IEND, colour (gAMA cHRM sRGB sBIT cICP, iCCP with its free-text
 * name replaced), bKGD pHYs and APNG's acTL fcTL fdAT; JPEG all coding segments plus APP0 JFIF,
 * APP2 ICC profile and APP14 Adobe; GIF images, graphic control and the looping (NETSCAPE2.0 /
 * ANIMEXTS1.0) extension; WebP image, alpha, animation and ICC chunks.
 *
 * `bytes` must have passed {@link imageParts} for `format` (it is walked again here).
 */
export function stripMetadata(format: ImageFormat, bytes: Uint8Array): Uint8Array {
  const parts = imageParts(format, bytes);
  switch (format) {
    case "png":
      return concat(parts.flatMap((p) => keepPngChunk(bytes, p)));
    case "jpeg":
      return concat(parts.filter((p) => keepJpegSegment(bytes, p)).map((p) => bytes.subarray(p.start, p.end)));
    case "gif":
      return concat(parts.filter((p) => keepGifBlock(bytes, p)).map((p) => bytes.subarray(p.start, p.end)));
    case "webp":
      return rebuildWebp(bytes, parts);
  }
}

const PNG_KEEP = new Set(["signature", "IHDR", "PLTE", "tRNS", "IDAT", "IEND", "gAMA", "cHRM", "sRGB", "sBIT", "cICP", "bKGD", "pHYs", "acTL", "fcTL", "fdAT"]);
const ICC_NAME = new TextEncoder().encode("ICC profile");

function keepPngChunk(b: Uint8Array, part: ImagePart): Uint8Array[] {
  if (PNG_KEEP.has(part.name)) return [b.subarray(part.start, part.end)];
  if (part.name !== "iCCP") return [];
  // iCCP: a 1–79 byte free-text profile name, NUL, then the compressed profile. The name is the
  // one place in it that can carry text, so it is replaced.
  const data = b.subarray(part.start + 8, part.end - 4);
  const nul = data.indexOf(0);
  if (nul < 1 || nul > 79) return [];
  return [pngChunk("iCCP", concat([ICC_NAME, data.subarray(nul)]))];
}

function pngChunk(type: string, data: Uint8Array): Uint8Array {
  const out = new Uint8Array(12 + data.byteLength);
  const view = new DataView(out.buffer);
  view.setUint32(0, data.byteLength);
  out.set(new TextEncoder().encode(type), 4);
  out.set(data, 8);
  view.setUint32(8 + data.byteLength, crc32(out, 4, 8 + data.byteLength));
  return out;
}

function keepJpegSegment(b: Uint8Array, part: ImagePart): boolean {
  if (part.name === "fffe") return false; // COM
  if (!/^ffe[0-9a-f]$/.test(part.name)) return true; // not APPn: coding data
  const payload = ascii(b, part.start + 4, Math.min(12, part.end - part.start - 4));
  if (part.name === "ffe0") return payload.startsWith("JFIF\0"); // not JFXX (a thumbnail)
  if (part.name === "ffe2") return payload.startsWith("ICC_PROFILE\0");
  if (part.name === "ffee") return payload.startsWith("Adobe"); // colour transform flag
  return false; // APP1 EXIF/XMP, APP13 IPTC and the rest
}

function keepGifBlock(b: Uint8Array, part: ImagePart): boolean {
  if (!part.name.startsWith("ext:")) return true; // header, images, trailer
  if (part.name === "ext:f9") return true; // graphic control: delays and transparency
  if (part.name !== "ext:ff") return false; // comments, plain text
  // Application extension: a block of 11 bytes (identifier + authentication code).
  const app = ascii(b, part.start + 3, 11);
  return app === "NETSCAPE2.0" || app === "ANIMEXTS1.0";
}

const WEBP_KEEP = new Set(["VP8 ", "VP8L", "VP8X", "ALPH", "ANIM", "ANMF", "ICCP"]);
// VP8X flags announcing EXIF (bit 3) and XMP (bit 2) chunks, cleared with the chunks.
const VP8X_METADATA_FLAGS = 0x08 | 0x04;

function rebuildWebp(b: Uint8Array, parts: ImagePart[]): Uint8Array {
  const kept = parts
    .slice(1)
    .filter((p) => WEBP_KEEP.has(p.name))
    .map((p) => b.slice(p.start, p.end));
  for (const chunk of kept) {
    if (ascii(chunk, 0, 4) === "VP8X" && chunk.length > 8) chunk[8] = (chunk[8] ?? 0) & ~VP8X_METADATA_FLAGS;
  }
  const body = concat(kept);
  const header = b.slice(0, 12);
  new DataView(header.buffer).setUint32(4, 4 + body.byteLength, true);
  return concat([header, body]);
}
