import { crc32 } from "./crc32.ts";
import type { ImageFormat } from "./formats.ts";

/** Why a file's container structure was refused. */
export type StructureProblem = "truncated" | "malformed";

/** Thrown by the walkers; `inspectImage` turns it into an AppError. */
export class StructureError extends Error {
  constructor(
    readonly problem: StructureProblem,
    message: string,
  ) {
    super(message);
    this.name = "StructureError";
  }
}

/**
 * One part of an image file, as its container format divides it: `name` is the PNG chunk type,
 * the JPEG marker (`ffe1`…), the GIF block (`header`, `image`, `ext:<label hex>`, `trailer`) or the
 * WebP chunk FourCC (`RIFF` for the 12-byte file header). `start`–`end` are byte offsets; the parts
 * are contiguous, so concatenating all of them gives back the image up to its end marker.
 */
export interface ImagePart {
  name: string;
  start: number;
  end: number;
}

/**
 * Walks the container structure of `bytes` (already identified as `format`), refusing anything
 * a decoder would trip over, and returns its parts in order. The last part ends at the format's
 * end marker (PNG IEND chunk, JPEG EOI, GIF trailer, the RIFF size of WebP).
 */
export function imageParts(format: ImageFormat, bytes: Uint8Array): ImagePart[] {
  switch (format) {
    case "png":
      return pngParts(bytes);
    case "jpeg":
      return jpegParts(bytes);
    case "gif":
      return gifParts(bytes);
    case "webp":
      return webpParts(bytes);
  }
}

/**
 * The offset just past the format's end marker. Anything from there on is data no image decoder
 * reads, i.e. the classic place to hide a ZIP, HTML or script in a polyglot.
 */
export function imageEndOffset(format: ImageFormat, bytes: Uint8Array): number {
  return imageParts(format, bytes).at(-1)?.end ?? 0;
}

const PNG_SIGNATURE = [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a];

function pngParts(b: Uint8Array): ImagePart[] {
  if (!PNG_SIGNATURE.every((v, i) => b[i] === v)) throw malformed("bad PNG signature");
  const parts: ImagePart[] = [{ name: "signature", start: 0, end: 8 }];
  let pos = 8;
  let first = true;
  let sawImageData = false;
  for (;;) {
    if (pos + 12 > b.length) throw truncated("PNG ends before IEND");
    const length = u32be(b, pos);
    if (length > 0x7fffffff) throw malformed("PNG chunk length out of range");
    const type = String.fromCharCode(b[pos + 4] ?? 0, b[pos + 5] ?? 0, b[pos + 6] ?? 0, b[pos + 7] ?? 0);
    if (!/^[A-Za-z]{4}$/.test(type)) throw malformed("PNG chunk type is not four letters");
    const dataEnd = pos + 8 + length;
    if (dataEnd + 4 > b.length) throw truncated(`PNG chunk ${type} runs past the end`);
    // The CRC covers type and data; a wrong one means the bytes were altered or hand-built.
    if (crc32(b, pos + 4, dataEnd) !== u32be(b, dataEnd)) throw malformed(`PNG chunk ${type} CRC mismatch`);
    if (first && type !== "IHDR") throw malformed("PNG does not start with IHDR");
    first = false;
    if (type === "IDAT") sawImageData = true;
    parts.push({ name: type, start: pos, end: dataEnd + 4 });
    if (type === "IEND") {
      if (!sawImageData) throw malformed("PNG has no image data");
      return parts;
    }
    pos = dataEnd + 4;
  }
}

function jpegParts(b: Uint8Array): ImagePart[] {
  if (b[0] !== 0xff || b[1] !== 0xd8) throw malformed("bad JPEG signature");
  const parts: ImagePart[] = [{ name: "ffd8", start: 0, end: 2 }];
  let pos = 2;
  let sawFrame = false;
  for (;;) {
    if (pos + 2 > b.length) throw truncated("JPEG ends before EOI");
    if (b[pos] !== 0xff) throw malformed("JPEG marker expected");
    // Any marker may be preceded by 0xFF fill bytes.
    while (b[pos + 1] === 0xff) {
      pos++;
      if (pos + 2 > b.length) throw truncated("JPEG ends before EOI");
    }
    const start = pos;
    const marker = b[pos + 1] ?? 0;
    const name = `ff${marker.toString(16).padStart(2, "0")}`;
    pos += 2;
    if (marker === 0xd9) {
      if (!sawFrame) throw malformed("JPEG has no frame");
      parts.push({ name, start, end: pos });
      return parts;
    }
    if ((marker >= 0xd0 && marker <= 0xd7) || marker === 0x01) {
      parts.push({ name, start, end: pos }); // no payload
      continue;
    }
    if (marker === 0x00 || marker === 0xd8) throw malformed("unexpected JPEG marker");
    if (pos + 2 > b.length) throw truncated("JPEG segment header runs past the end");
    const segmentLength = u16be(b, pos);
    if (segmentLength < 2) throw malformed("JPEG segment length too small");
    pos += segmentLength;
    if (pos > b.length) throw truncated("JPEG segment runs past the end");
    // SOF0..SOF15 except DHT (C4), JPG (C8) and DAC (CC).
    if (marker >= 0xc0 && marker <= 0xcf && marker !== 0xc4 && marker !== 0xc8 && marker !== 0xcc) {
      sawFrame = true;
    }
    // A scan's part includes its entropy-coded data.
    if (marker === 0xda) pos = skipEntropyCoded(b, pos);
    parts.push({ name, start, end: pos });
  }
}

/** Returns the offset of the first real marker after a scan's entropy-coded data. */
function skipEntropyCoded(b: Uint8Array, start: number): number {
  let pos = start;
  for (;;) {
    const ff = b.indexOf(0xff, pos);
    if (ff < 0 || ff + 1 >= b.length) throw truncated("JPEG scan runs to the end of the file");
    const next = b[ff + 1] ?? 0;
    // FF00 is an escaped data byte, FFD0-FFD7 are restart markers: both belong to the scan.
    if (next === 0x00 || (next >= 0xd0 && next <= 0xd7)) {
      pos = ff + 2;
      continue;
    }
    if (next === 0xff) {
      pos = ff + 1;
      continue;
    }
    return ff;
  }
}

function gifParts(b: Uint8Array): ImagePart[] {
  const header = String.fromCharCode(...b.subarray(0, 6));
  if (header !== "GIF87a" && header !== "GIF89a") throw malformed("bad GIF signature");
  if (b.length < 13) throw truncated("GIF screen descriptor is cut short");
  let pos = 13 + colorTableSize(b[10] ?? 0);
  const parts: ImagePart[] = [{ name: "header", start: 0, end: pos }];
  let images = 0;
  for (;;) {
    if (pos >= b.length) throw truncated("GIF ends before its trailer");
    const start = pos;
    const introducer = b[pos];
    if (introducer === 0x3b) {
      if (images === 0) throw malformed("GIF has no image");
      parts.push({ name: "trailer", start, end: pos + 1 });
      return parts;
    }
    if (introducer === 0x21) {
      const label = (b[pos + 1] ?? 0).toString(16).padStart(2, "0");
      pos = skipSubBlocks(b, pos + 2);
      parts.push({ name: `ext:${label}`, start, end: pos });
    } else if (introducer === 0x2c) {
      if (pos + 10 > b.length) throw truncated("GIF image descriptor is cut short");
      pos += 10 + colorTableSize(b[pos + 9] ?? 0);
      pos = skipSubBlocks(b, pos + 1); // +1: the LZW minimum code size byte
      parts.push({ name: "image", start, end: pos });
      images++;
    } else {
      throw malformed("unexpected GIF block");
    }
  }
}

function colorTableSize(packed: number): number {
  return packed & 0x80 ? 3 * 2 ** ((packed & 0x07) + 1) : 0;
}

function skipSubBlocks(b: Uint8Array, start: number): number {
  let pos = start;
  for (;;) {
    if (pos >= b.length) throw truncated("GIF data block runs past the end");
    const size = b[pos] ?? 0;
    pos += 1 + size;
    if (size === 0) return pos;
  }
}

function webpParts(b: Uint8Array): ImagePart[] {
  if (b.length < 12 || ascii(b, 0, 4) !== "RIFF" || ascii(b, 8, 4) !== "WEBP") {
    throw malformed("bad WebP signature");
  }
  const riffEnd = 8 + u32le(b, 4);
  if (riffEnd > b.length) throw truncated("WebP RIFF size runs past the end");
  const parts: ImagePart[] = [{ name: "RIFF", start: 0, end: 12 }];
  let pos = 12;
  while (pos < riffEnd) {
    if (pos + 8 > riffEnd) throw malformed("WebP chunk header runs past the RIFF size");
    const fourcc = ascii(b, pos, 4);
    if (parts.length === 1 && fourcc !== "VP8 " && fourcc !== "VP8L" && fourcc !== "VP8X") {
      throw malformed("WebP does not start with an image chunk");
    }
    const size = u32le(b, pos + 4);
    const start = pos;
    pos += 8 + size + (size & 1); // chunks are padded to an even length
    if (pos > riffEnd) throw malformed(`WebP chunk ${fourcc} runs past the RIFF size`);
    parts.push({ name: fourcc, start, end: pos });
  }
  if (parts.length === 1) throw malformed("WebP has no chunks");
  return parts;
}

export function u32be(b: Uint8Array, at: number): number {
  return (((b[at] ?? 0) << 24) | ((b[at + 1] ?? 0) << 16) | ((b[at + 2] ?? 0) << 8) | (b[at + 3] ?? 0)) >>> 0;
}

export function u16be(b: Uint8Array, at: number): number {
  return ((b[at] ?? 0) << 8) | (b[at + 1] ?? 0);
}

export function u32le(b: Uint8Array, at: number): number {
  return ((b[at] ?? 0) | ((b[at + 1] ?? 0) << 8) | ((b[at + 2] ?? 0) << 16) | ((b[at + 3] ?? 0) << 24)) >>> 0;
}

export function ascii(b: Uint8Array, at: number, length: number): string {
  return String.fromCharCode(...b.subarray(at, at + length));
}

function truncated(message: string): StructureError {
  return new StructureError("truncated", message);
}

function malformed(message: string): StructureError {
  return new StructureError("malformed", message);
}
