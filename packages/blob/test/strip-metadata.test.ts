import { describe, expect, test } from "bun:test";
import { imageSize } from "image-size";
import { deflateSync } from "node:zlib";
import { inspectImage } from "../src/index.ts";
import type { ImageFormat } from "../src/index.ts";
import { imageParts } from "../src/images/structure.ts";
import { ascii, concatBytes, exifWithGps, gifExtension, gifWith, jpegSegment, jpegWith, png, pngChunk, webpWithMetadata } from "./fixtures.ts";

const LIMITS = { maxWidth: 4096, maxHeight: 4096 };
const PAYLOADS = ["<svg onload=alert(1)>", "<img src=x onerror=alert(1)>", '<meta http-equiv="refresh" content="0;url=https://evil.example">'];

function contains(bytes: Uint8Array, text: string): boolean {
  return Buffer.from(bytes).includes(Buffer.from(text));
}

/** What a decoder needs still holds: the structure walks to its end marker and the size reads. */
function expectDecodable(format: ImageFormat, bytes: Uint8Array, width: number, height: number) {
  const parts = imageParts(format, bytes);
  expect(parts.at(-1)?.end).toBe(bytes.byteLength);
  expect(imageSize(bytes)).toMatchObject({ width, height });
  return parts.map((p) => p.name);
}

function part(format: ImageFormat, bytes: Uint8Array, name: string): Uint8Array {
  const found = imageParts(format, bytes).find((p) => p.name === name);
  if (!found) throw new Error(`no ${name}`);
  return bytes.subarray(found.start, found.end);
}

describe("stored images keep their pixels and lose their metadata", () => {
  test("PNG: text chunks with <svg onload>, <img onerror>, <meta refresh> are accepted and not stored", async () => {
    const original = png(3, 2, [
      pngChunk("sRGB", new Uint8Array([0])),
      pngChunk("tEXt", ascii(`Comment\0${PAYLOADS[0]}`)),
      pngChunk("iTXt", ascii(`Description\0\0\0en\0\0${PAYLOADS[1]}`)),
      pngChunk("tEXt", ascii(`Title\0${PAYLOADS[2]}`)),
      pngChunk("zTXt", concatBytes(ascii("Author\0\0"), new Uint8Array(deflateSync(ascii("<script>x</script>"))))),
      pngChunk("eXIf", exifWithGps().subarray(6)),
      pngChunk("tIME", new Uint8Array([7, 234, 1, 2, 3, 4, 5])),
      pngChunk("prVt", ascii("<html><body>private</body></html>")),
      pngChunk("pHYs", new Uint8Array([0, 0, 11, 19, 0, 0, 11, 19, 1])),
    ]);
    const out = await inspectImage(original, { fileName: "logo.png", ...LIMITS });
    for (const payload of PAYLOADS) {
      expect(contains(original, payload)).toBe(true);
      expect(contains(out.bytes, payload)).toBe(false);
    }
    expect(expectDecodable("png", out.bytes, 3, 2)).toEqual(["signature", "IHDR", "sRGB", "pHYs", "IDAT", "IEND"]);
    expect(part("png", out.bytes, "IDAT")).toEqual(part("png", original, "IDAT"));
    expect(out.sha256).toBe(new Bun.CryptoHasher("sha256").update(out.bytes).digest("hex"));
  });

  test("PNG: an ICC profile is kept with its free-text name replaced", async () => {
    const profile = new Uint8Array(deflateSync(new Uint8Array(128).fill(7)));
    const iccp = pngChunk("iCCP", concatBytes(ascii(`${PAYLOADS[0]}\0\0`), profile));
    const out = await inspectImage(png(1, 1, [iccp]), { fileName: "a.png", ...LIMITS });
    const kept = part("png", out.bytes, "iCCP");
    expect(contains(kept, "ICC profile\0\0")).toBe(true);
    expect(contains(out.bytes, "onload")).toBe(false);
    expect(kept.subarray(kept.length - 4 - profile.length, kept.length - 4)).toEqual(profile);
    expectDecodable("png", out.bytes, 1, 1);
  });

  test("JPEG: EXIF with a GPS location, XMP and comments are removed; JFIF, ICC and Adobe stay", async () => {
    const jfif = jpegSegment(0xe0, concatBytes(ascii("JFIF\0"), new Uint8Array([1, 1, 0, 0, 1, 0, 1, 0, 0])));
    const exif = jpegSegment(0xe1, exifWithGps());
    const xmp = jpegSegment(0xe1, ascii(`http://ns.adobe.com/xap/1.0/\0<x:xmpmeta>${PAYLOADS[0]}</x:xmpmeta>`));
    const icc = jpegSegment(0xe2, concatBytes(ascii("ICC_PROFILE\0"), new Uint8Array([1, 1, 9, 9, 9])));
    const iptc = jpegSegment(0xed, ascii("Photoshop 3.0\0 caption: Jo Bloggs at home"));
    const adobe = jpegSegment(0xee, concatBytes(ascii("Adobe"), new Uint8Array([0, 100, 0, 0, 0, 0, 1])));
    const comment = jpegSegment(0xfe, ascii(PAYLOADS[2] ?? ""));
    const original = jpegWith([jfif, exif, xmp, icc, iptc, adobe, comment], 16, 8);
    expect(contains(original, "Exif\0\0")).toBe(true);

    const out = await inspectImage(original, { fileName: "photo.jpg", ...LIMITS });
    for (const gone of ["Exif\0\0", "xmpmeta", "Photoshop", "Jo Bloggs", "refresh", ...PAYLOADS]) expect(contains(out.bytes, gone)).toBe(false);
    const names = expectDecodable("jpeg", out.bytes, 16, 8);
    expect(names).toEqual(["ffd8", "ffe0", "ffe2", "ffee", "ffdb", "ffc0", "ffc4", "ffc4", "ffda", "ffd9"]);
    expect(part("jpeg", out.bytes, "ffda")).toEqual(part("jpeg", original, "ffda"));
  });

  test("GIF: comments and XMP are removed; the looping extension and graphic control stay", async () => {
    const loop = concatBytes(new Uint8Array([0x21, 0xff, 0x0b]), ascii("NETSCAPE2.0"), new Uint8Array([3, 1, 0, 0, 0]));
    const xmp = concatBytes(new Uint8Array([0x21, 0xff, 0x0b]), ascii("XMP DataXMP"), new Uint8Array([9]), ascii("<x:xmpm>x"), new Uint8Array([0]));
    const original = gifWith([loop, xmp, gifExtension(0xfe, ascii(PAYLOADS[1] ?? "")), gifExtension(0x01, ascii(`${"\0".repeat(12)}${PAYLOADS[0]}`))]);
    const out = await inspectImage(original, { fileName: "a.gif", ...LIMITS });
    for (const gone of ["XMP Data", ...PAYLOADS]) expect(contains(out.bytes, gone)).toBe(false);
    expect(contains(out.bytes, "NETSCAPE2.0")).toBe(true);
    expect(expectDecodable("gif", out.bytes, 1, 1)).toEqual(["header", "ext:ff", "ext:f9", "image", "trailer"]);
  });

  test("WebP: EXIF and XMP chunks are removed and VP8X no longer announces them", async () => {
    const original = webpWithMetadata(exifWithGps().subarray(6), ascii(`<x:xmpmeta>${PAYLOADS[0]}</x:xmpmeta>`));
    const out = await inspectImage(original, { fileName: "a.webp", ...LIMITS });
    expect(contains(out.bytes, "xmpmeta")).toBe(false);
    expect(expectDecodable("webp", out.bytes, 1, 1)).toEqual(["RIFF", "VP8X", "VP8L"]);
    expect((part("webp", out.bytes, "VP8X")[8] ?? 0) & 0x0c).toBe(0);
    expect(part("webp", out.bytes, "VP8L")).toEqual(part("webp", original, "VP8L"));
  });

  test("an image without metadata is stored byte for byte", async () => {
    const original = png(4, 4);
    expect((await inspectImage(original, { fileName: "a.png", ...LIMITS })).bytes).toEqual(original);
  });
});
