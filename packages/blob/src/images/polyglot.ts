// Tags that make a browser treat bytes as HTML, or PHP treat them as code, when an image is
// served or included somewhere careless. Matched case-insensitively and only when followed by
// what ends a tag name (whitespace, `>` or `/`), which is how HTML and PHP parse them. The whole
// file is scanned, compressed image data included, because payloads are hidden there too; a
// random match is possible but rare (about 2^-39 per byte position, so about 1 in 250,000 for a
// 2 MiB image) and such an upload is refused with a clear reason rather than silently stored.
const MARKUP_MARKERS = ["<script", "<html", "<body", "<iframe", "<object", "<embed", "<?php"];
const TAG_END = new Set([0x20, 0x09, 0x0a, 0x0c, 0x0d, 0x3e, 0x2f]);

const ZIP_LOCAL_HEADER = [0x50, 0x4b, 0x03, 0x04];
const ZIP_CENTRAL_HEADER = [0x50, 0x4b, 0x01, 0x02];
const ZIP_END_OF_DIRECTORY = [0x50, 0x4b, 0x05, 0x06];
// Zip readers look for the end-of-directory record in the last 64 KiB + 22 bytes of a file, so
// an archive hidden inside an image chunk must put it there to be found.
const ZIP_EOCD_WINDOW = 0xffff + 22;

/** The first markup marker found in `bytes`, lowercased, or undefined. */
export function findMarkup(bytes: Uint8Array): string | undefined {
  const encoded = MARKUP_MARKERS.map((m) => new TextEncoder().encode(m));
  let at = bytes.indexOf(0x3c);
  while (at >= 0) {
    for (let m = 0; m < encoded.length; m++) {
      const marker = encoded[m];
      if (marker && matchesAsciiCaseless(bytes, at, marker)) {
        const after = bytes[at + marker.length];
        // A marker at the very end of the file counts: there is nothing to disprove it.
        if (after === undefined || TAG_END.has(after)) return MARKUP_MARKERS[m];
      }
    }
    at = bytes.indexOf(0x3c, at + 1);
  }
  return undefined;
}

/** True when `bytes` holds a ZIP signature a zip reader would act on. */
export function containsZip(bytes: Uint8Array, { wholeFile }: { wholeFile: boolean }): boolean {
  if (wholeFile) {
    return indexOfSequence(bytes, ZIP_LOCAL_HEADER, 0) >= 0 || indexOfSequence(bytes, ZIP_CENTRAL_HEADER, 0) >= 0 || indexOfSequence(bytes, ZIP_END_OF_DIRECTORY, 0) >= 0;
  }
  const from = Math.max(0, bytes.length - ZIP_EOCD_WINDOW);
  return indexOfSequence(bytes, ZIP_END_OF_DIRECTORY, from) >= 0;
}

/** True when the start of `bytes` looks like SVG/XML (after an optional BOM and whitespace). */
export function looksLikeSvg(bytes: Uint8Array): boolean {
  const head = new TextDecoder("utf-8", { fatal: false })
    .decode(bytes.subarray(0, 1024))
    .replace(/^\uFEFF/, "")
    .trimStart()
    .toLowerCase();
  return head.startsWith("<?xml") || head.startsWith("<svg") || head.startsWith("<!doctype svg") || head.includes("<svg");
}

function matchesAsciiCaseless(bytes: Uint8Array, at: number, lowerMarker: Uint8Array): boolean {
  if (at + lowerMarker.length > bytes.length) return false;
  for (let i = 0; i < lowerMarker.length; i++) {
    const byte = bytes[at + i] ?? 0;
    const lowered = byte >= 0x41 && byte <= 0x5a ? byte | 0x20 : byte;
    if (lowered !== lowerMarker[i]) return false;
  }
  return true;
}

function indexOfSequence(bytes: Uint8Array, seq: readonly number[], from: number): number {
  const firstByte = seq[0] ?? 0;
  let at = bytes.indexOf(firstByte, from);
  while (at >= 0 && at + seq.length <= bytes.length) {
    if (seq.every((v, i) => bytes[at + i] === v)) return at;
    at = bytes.indexOf(firstByte, at + 1);
  }
  return -1;
}
