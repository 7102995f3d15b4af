// Minimal, genuinely decodable images built in code, so tests need no binary fixture files.
// (Each builder's output was checked once with libjpeg-turbo's djpeg / libwebp's dwebp.)
import { deflateSync } from "node:zlib";
import { crc32 } from "../src/images/crc32.ts";
import { concat } from "../src/images/read-limited.ts";

const ascii = (s: string): Uint8Array => new TextEncoder().encode(s);

export function concatBytes(...parts: Uint8Array[]): Uint8Array {
  return concat(parts);
}

function u32be(n: number): Uint8Array {
  const b = new Uint8Array(4);
  new DataView(b.buffer).setUint32(0, n);
  return b;
}

/** One PNG chunk with a correct CRC. */
export function pngChunk(type: string, data: Uint8Array): Uint8Array {
  const typeAndData = concatBytes(ascii(type), data);
  return concatBytes(u32be(data.byteLength), typeAndData, u32be(crc32(typeAndData)));
}

/** A grey 8-bit greyscale PNG of the given size; `extraChunks` go between IHDR and IDAT. */
export function png(width = 1, height = 1, extraChunks: Uint8Array[] = []): Uint8Array {
  const ihdr = concatBytes(u32be(width), u32be(height), new Uint8Array([8, 0, 0, 0, 0]));
  // Each scanline: filter byte 0, then one grey byte per pixel.
  const raw = new Uint8Array(height * (width + 1));
  for (let y = 0; y < height; y++) raw.fill(0x80, y * (width + 1) + 1, (y + 1) * (width + 1));
  return concatBytes(
    new Uint8Array([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    pngChunk("IHDR", ihdr),
    ...extraChunks,
    pngChunk("IDAT", new Uint8Array(deflateSync(raw))),
    pngChunk("IEND", new Uint8Array()),
  );
}

/** A 1x1 GIF89a (two-colour palette, one pixel of colour 0). */
export function gif(): Uint8Array {
  return Uint8Array.from([
    ...ascii("GIF89a"),
    0x01,
    0x00,
    0x01,
    0x00, // logical screen 1x1
    0x80,
    0x00,
    0x00, // global colour table of 2 entries
    0x00,
    0x00,
    0x00,
    0xff,
    0xff,
    0xff,
    0x21,
    0xf9,
    0x04,
    0x01,
    0x00,
    0x00,
    0x00,
    0x00, // graphic control extension
    0x2c,
    0x00,
    0x00,
    0x00,
    0x00,
    0x01,
    0x00,
    0x01,
    0x00,
    0x00, // image descriptor
    0x02,
    0x02,
    0x44,
    0x01,
    0x00, // LZW: min code size 2, one 2-byte block, terminator
    0x3b, // trailer
  ]);
}

/**
 * A mid-grey baseline greyscale JPEG. Every 8x8 block has DC difference 0 and no AC
 * coefficients, so with one-symbol Huffman tables each block is the two bits "00".
 */
export function jpeg(width = 8, height = 8): Uint8Array {
  const segment = (marker: number, data: number[]): number[] => [0xff, marker, ((data.length + 2) >> 8) & 0xff, (data.length + 2) & 0xff, ...data];
  const counts = (lengthOneCount: number): number[] => [lengthOneCount, ...new Array<number>(15).fill(0)];
  const blocks = Math.ceil(width / 8) * Math.ceil(height / 8);
  const bits = blocks * 2;
  const scan = new Array<number>(Math.ceil(bits / 8)).fill(0);
  // Pad the final byte with 1 bits, as the standard requires; data bits are all 0, so no 0xFF.
  const padBits = scan.length * 8 - bits;
  if (padBits > 0) scan[scan.length - 1] = (1 << padBits) - 1;
  return Uint8Array.from([
    0xff,
    0xd8,
    ...segment(0xdb, [0x00, ...new Array<number>(64).fill(1)]), // DQT: table 0, all ones
    ...segment(0xc0, [8, height >> 8, height & 0xff, width >> 8, width & 0xff, 1, 1, 0x11, 0]), // SOF0
    ...segment(0xc4, [0x00, ...counts(1), 0x00]), // DHT DC0: symbol 0 (category 0) = "0"
    ...segment(0xc4, [0x10, ...counts(1), 0x00]), // DHT AC0: symbol 0 (EOB) = "0"
    ...segment(0xda, [1, 1, 0x00, 0, 63, 0]), // SOS
    ...scan,
    0xff,
    0xd9,
  ]);
}

/** A 1x1 lossless WebP (VP8L). */
export function webp(): Uint8Array {
  return Uint8Array.from(Buffer.from("UklGRhoAAABXRUJQVlA4TA0AAAAvAAAAEAcQERGIiP4HAA==", "base64"));
}

/** A ZIP archive holding one stored file, built to spec (local header, central directory, end). */
export function zip(): Uint8Array {
  const name = ascii("a.txt");
  const data = ascii("hello");
  const crc = crc32(data);
  const le16 = (n: number) => [n & 0xff, (n >> 8) & 0xff];
  const le32 = (n: number) => [n & 0xff, (n >> 8) & 0xff, (n >> 16) & 0xff, (n >>> 24) & 0xff];
  // What the local header and the central directory record both say of the file: flags, method
  // (stored), time, date, CRC, compressed and uncompressed size, name length.
  const file = [...le16(0), ...le16(0), ...le16(0), ...le16(0), ...le32(crc), ...le32(data.length), ...le32(data.length), ...le16(name.length)];
  // Signature, version needed, the file, extra length.
  const local = [0x50, 0x4b, 0x03, 0x04, ...le16(10), ...file, ...le16(0), ...name, ...data];
  // Signature, version made by and needed, the file, extra and comment lengths, disk, attributes, offset.
  const central = [0x50, 0x4b, 0x01, 0x02, ...le16(20), ...le16(10), ...file, ...le16(0), ...le16(0), ...le16(0), ...le16(0), ...le32(0), ...le32(0), ...name];
  const end = [0x50, 0x4b, 0x05, 0x06, ...le16(0), ...le16(0), ...le16(1), ...le16(1), ...le32(central.length), ...le32(local.length), ...le16(0)];
  return Uint8Array.from([...local, ...central, ...end]);
}

export { ascii };

/** One JPEG marker segment (`ff <marker> <length> <payload>`). */
export function jpegSegment(marker: number, payload: Uint8Array): Uint8Array {
  const length = payload.byteLength + 2;
  return concatBytes(new Uint8Array([0xff, marker, length >> 8, length & 0xff]), payload);
}

/** A JPEG with `segments` inserted right after SOI, where cameras put APPn and COM. */
export function jpegWith(segments: Uint8Array[], width = 8, height = 8): Uint8Array {
  const base = jpeg(width, height);
  return concatBytes(base.subarray(0, 2), ...segments, base.subarray(2));
}

/**
 * An EXIF APP1 payload (big-endian TIFF) whose IFD0 points to a GPS IFD holding a latitude of
 * 51° 30' 26" N — what a phone writes into every photo taken with location on.
 */
export function exifWithGps(): Uint8Array {
  const b: number[] = [...ascii("Exif\0\0"), ...ascii("MM"), 0x00, 0x2a, 0, 0, 0, 8];
  const u16 = (n: number) => [n >> 8, n & 0xff];
  const u32 = (n: number) => [n >>> 24, (n >> 16) & 0xff, (n >> 8) & 0xff, n & 0xff];
  // IFD0 at 8: one entry, GPSInfo (0x8825, LONG) → GPS IFD at 26.
  b.push(...u16(1), ...u16(0x8825), ...u16(4), ...u32(1), ...u32(26), ...u32(0));
  // GPS IFD at 26: GPSLatitudeRef "N", GPSLatitude three RATIONALs at 56.
  b.push(...u16(2), ...u16(1), ...u16(2), ...u32(2), ...ascii("N\0"), 0, 0);
  b.push(...u16(2), ...u16(5), ...u32(3), ...u32(56), ...u32(0));
  b.push(...u32(51), ...u32(1), ...u32(30), ...u32(1), ...u32(26), ...u32(1));
  return Uint8Array.from(b);
}

/** WebP chunk `fourcc` with `data`, padded to an even length. */
export function webpChunk(fourcc: string, data: Uint8Array): Uint8Array {
  const header = new Uint8Array(8);
  header.set(ascii(fourcc), 0);
  new DataView(header.buffer).setUint32(4, data.byteLength, true);
  return concatBytes(header, data, new Uint8Array(data.byteLength & 1));
}

/** An extended 1x1 WebP (VP8X announcing EXIF and XMP) with those chunks after the image. */
export function webpWithMetadata(exif: Uint8Array, xmp: Uint8Array): Uint8Array {
  const image = webp().subarray(12); // the VP8L chunk
  const vp8x = webpChunk("VP8X", new Uint8Array([0x08 | 0x04, 0, 0, 0, 0, 0, 0, 0, 0, 0]));
  const body = concatBytes(ascii("WEBP"), vp8x, image, webpChunk("EXIF", exif), webpChunk("XMP ", xmp));
  const size = new Uint8Array(4);
  new DataView(size.buffer).setUint32(0, body.byteLength, true);
  return concatBytes(ascii("RIFF"), size, body);
}

/** The GIF fixture with `blocks` (extensions) inserted after its header, where encoders put them. */
export function gifWith(blocks: Uint8Array[]): Uint8Array {
  const base = gif();
  const headerEnd = 13 + 6; // screen descriptor + the two-entry global colour table
  return concatBytes(base.subarray(0, headerEnd), ...blocks, base.subarray(headerEnd));
}

/** A GIF extension block: introducer, label, then `data` as sub-blocks of at most 255 bytes. */
export function gifExtension(label: number, data: Uint8Array): Uint8Array {
  const blocks: Uint8Array[] = [new Uint8Array([0x21, label])];
  for (let at = 0; at < data.length; at += 255) {
    const piece = data.subarray(at, at + 255);
    blocks.push(new Uint8Array([piece.length]), piece);
  }
  blocks.push(new Uint8Array([0]));
  return concatBytes(...blocks);
}
