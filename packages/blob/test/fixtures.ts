// Minimal, genuinely decodable images built in code, so tests need no binary fixture files.
// (Each builder's output was checked once with libjpeg-turbo's djpeg / libwebp's dwebp.)
import { deflateSync } from "node:zlib";
import { crc32 } from "../src/images/crc32.ts";

const ascii = (s: string): Uint8Array => new TextEncoder().encode(s);

export function concatBytes(...parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.byteLength, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.byteLength;
  }
  return out;
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
    0x01, 0x00, 0x01, 0x00, // logical screen 1x1
    0x80, 0x00, 0x00, // global colour table of 2 entries
    0x00, 0x00, 0x00, 0xff, 0xff, 0xff,
    0x21, 0xf9, 0x04, 0x01, 0x00, 0x00, 0x00, 0x00, // graphic control extension
    0x2c, 0x00, 0x00, 0x00, 0x00, 0x01, 0x00, 0x01, 0x00, 0x00, // image descriptor
    0x02, 0x02, 0x44, 0x01, 0x00, // LZW: min code size 2, one 2-byte block, terminator
    0x3b, // trailer
  ]);
}

/**
 * A mid-grey baseline greyscale JPEG. Every 8x8 block has DC difference 0 and no AC
 * coefficients, so with one-symbol Huffman tables each block is the two bits "00".
 */
export function jpeg(width = 8, height = 8): Uint8Array {
  const segment = (marker: number, data: number[]): number[] => [
    0xff, marker, ((data.length + 2) >> 8) & 0xff, (data.length + 2) & 0xff, ...data,
  ];
  const counts = (lengthOneCount: number): number[] => [lengthOneCount, ...new Array<number>(15).fill(0)];
  const blocks = Math.ceil(width / 8) * Math.ceil(height / 8);
  const bits = blocks * 2;
  const scan = new Array<number>(Math.ceil(bits / 8)).fill(0);
  // Pad the final byte with 1 bits, as the standard requires; data bits are all 0, so no 0xFF.
  const padBits = scan.length * 8 - bits;
  if (padBits > 0) scan[scan.length - 1] = (1 << padBits) - 1;
  return Uint8Array.from([
    0xff, 0xd8,
    ...segment(0xdb, [0x00, ...new Array<number>(64).fill(1)]), // DQT: table 0, all ones
    ...segment(0xc0, [8, height >> 8, height & 0xff, width >> 8, width & 0xff, 1, 1, 0x11, 0]), // SOF0
    ...segment(0xc4, [0x00, ...counts(1), 0x00]), // DHT DC0: symbol 0 (category 0) = "0"
    ...segment(0xc4, [0x10, ...counts(1), 0x00]), // DHT AC0: symbol 0 (EOB) = "0"
    ...segment(0xda, [1, 1, 0x00, 0, 63, 0]), // SOS
    ...scan,
    0xff, 0xd9,
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
  const local = [0x50, 0x4b, 0x03, 0x04, ...le16(10), ...le16(0), ...le16(0), ...le16(0), ...le16(0),
    ...le32(crc), ...le32(data.length), ...le32(data.length), ...le16(name.length), ...le16(0), ...name, ...data];
  const central = [0x50, 0x4b, 0x01, 0x02, ...le16(20), ...le16(10), ...le16(0), ...le16(0), ...le16(0), ...le16(0),
    ...le32(crc), ...le32(data.length), ...le32(data.length), ...le16(name.length), ...le16(0), ...le16(0),
    ...le16(0), ...le16(0), ...le32(0), ...le32(0), ...name];
  const end = [0x50, 0x4b, 0x05, 0x06, ...le16(0), ...le16(0), ...le16(1), ...le16(1),
    ...le32(central.length), ...le32(local.length), ...le16(0)];
  return Uint8Array.from([...local, ...central, ...end]);
}

export { ascii };
