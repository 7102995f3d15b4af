import { describe, expect, test } from "bun:test";
import { createHash } from "node:crypto";
import { deflateSync } from "node:zlib";
import { AppError } from "@raptscallions/core";
import { inspectImage } from "../src/index.ts";
import type { InspectImageOptions } from "../src/index.ts";
import { ascii, concatBytes, gif, jpeg, png, pngChunk, webp, zip } from "./fixtures.ts";
import { randomBytes } from "./stream-helpers.ts";

const LIMITS = { maxWidth: 4096, maxHeight: 4096 };

function opts(fileName: string, declaredType?: string): InspectImageOptions {
  return { fileName, declaredType, ...LIMITS };
}

async function refusal(bytes: Uint8Array, options: InspectImageOptions): Promise<{ code: string; status: number; reason: unknown; message: string }> {
  const err = await inspectImage(bytes, options).then(
    () => undefined,
    (e: unknown) => e,
  );
  if (!(err instanceof AppError)) throw new Error(`expected an AppError, got ${String(err)}`);
  const reason = (err.details as { reason?: unknown } | undefined)?.reason;
  return { code: err.code, status: err.status, reason, message: err.message };
}

/**
 * A one-row greyscale PNG whose pixels are `payload` and whose IDAT is an uncompressed (stored)
 * deflate block, so the payload sits verbatim in the image data, where no stripping reaches.
 */
function pngWithStoredData(payload: string | Uint8Array): Uint8Array {
  const pixels = typeof payload === "string" ? ascii(payload) : payload;
  const scanline = concatBytes(new Uint8Array([0]), pixels);
  const ihdr = new Uint8Array(13);
  new DataView(ihdr.buffer).setUint32(0, pixels.length);
  new DataView(ihdr.buffer).setUint32(4, 1);
  ihdr.set([8, 0, 0, 0, 0], 8);
  return concatBytes(
    new Uint8Array([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    pngChunk("IHDR", ihdr),
    pngChunk("IDAT", new Uint8Array(deflateSync(scanline, { level: 0 }))),
    pngChunk("IEND", new Uint8Array()),
  );
}

describe("inspectImage accepts real images and decides the type from the bytes", () => {
  test("PNG", async () => {
    const bytes = png(3, 2);
    const out = await inspectImage(bytes, opts("logo.png", "image/png"));
    expect(out).toEqual({
      contentType: "image/png",
      extension: "png",
      width: 3,
      height: 2,
      sha256: createHash("sha256").update(bytes).digest("hex"),
      bytes,
    });
  });

  test("JPEG, with a .jpeg name and a Content-Type carrying parameters", async () => {
    const out = await inspectImage(jpeg(17, 9), opts("Photo.JPEG", "Image/JPEG; charset=binary"));
    expect(out).toMatchObject({ contentType: "image/jpeg", extension: "jpg", width: 17, height: 9 });
  });

  test("GIF", async () => {
    expect(await inspectImage(gif(), opts("anim.gif", "image/gif"))).toMatchObject({
      contentType: "image/gif",
      extension: "gif",
      width: 1,
      height: 1,
    });
  });

  test("WebP", async () => {
    expect(await inspectImage(webp(), opts("bg.webp", "image/webp"))).toMatchObject({
      contentType: "image/webp",
      extension: "webp",
      width: 1,
      height: 1,
    });
  });

  test("an absent or application/octet-stream Content-Type is no declaration at all", async () => {
    expect((await inspectImage(png(), opts("a.png"))).contentType).toBe("image/png");
    expect((await inspectImage(png(), opts("a.png", "application/octet-stream"))).contentType).toBe("image/png");
  });

  test("an animated PNG (acTL chunk) is stored as image/png", async () => {
    const actl = pngChunk("acTL", new Uint8Array([0, 0, 0, 1, 0, 0, 0, 0]));
    const out = await inspectImage(png(2, 2, [actl]), opts("a.png", "image/apng"));
    expect(out.contentType).toBe("image/png");
  });

  test("text that merely starts like a tag is not taken for markup", async () => {
    const text = pngChunk("tEXt", ascii("Comment\u0000<htmlish> <scripture <bodyguard"));
    expect((await inspectImage(png(1, 1, [text]), opts("a.png"))).width).toBe(1);
  });
});

describe("inspectImage refuses the wrong kind of file with 415 UNSUPPORTED_MEDIA_TYPE", () => {
  const cases: [string, () => Uint8Array, InspectImageOptions, string][] = [
    ["PNG bytes named .jpg", png, opts("logo.jpg"), "extension_mismatch"],
    ["JPEG bytes named .png", jpeg, opts("logo.png"), "extension_mismatch"],
    ["PNG bytes declared image/gif", png, opts("logo.png", "image/gif"), "content_type_mismatch"],
    ["WebP bytes declared image/png", webp, opts("logo.webp", "image/png"), "content_type_mismatch"],
    ["a .svg name", png, opts("logo.svg"), "svg_not_accepted"],
    ["an image/svg+xml declaration", png, opts("logo.png", "image/svg+xml"), "svg_not_accepted"],
    [
      "SVG bytes named .png",
      () => ascii('<?xml version="1.0"?><svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>'),
      opts("logo.png"),
      "svg_not_accepted",
    ],
    ["a .exe name", png, opts("logo.exe"), "extension_not_allowed"],
    ["a text/html declaration", png, opts("logo.png", "text/html"), "content_type_not_allowed"],
    ["HTML bytes named .png", () => ascii("<!doctype html><html><body>hi</body></html>"), opts("a.png"), "not_an_allowed_image"],
    ["random bytes named .png", () => randomBytes(4096), opts("a.png"), "not_an_allowed_image"],
    ["a ZIP named .png", zip, opts("a.png"), "not_an_allowed_image"],
  ];
  for (const [label, make, options, reason] of cases) {
    test(label, async () => {
      const r = await refusal(make(), options);
      expect(r).toMatchObject({ code: "UNSUPPORTED_MEDIA_TYPE", status: 415, reason });
    });
  }

  test("the SVG refusal says so plainly", async () => {
    expect((await refusal(png(), opts("logo.svg"))).message).toMatch(/SVG images are not accepted/);
  });
});

describe("inspectImage refuses bad content with 422 VALIDATION_FAILED", () => {
  const pngThen = (tail: Uint8Array) => () => concatBytes(png(), tail);
  const cases: [string, () => Uint8Array, InspectImageOptions, string][] = [
    ["an empty file", () => new Uint8Array(), opts("a.png", "image/png"), "empty"],
    ["HTML after the PNG IEND", pngThen(ascii("<html><script>alert(1)</script></html>")), opts("a.png"), "trailing_data"],
    ["one stray byte after IEND", pngThen(new Uint8Array([0])), opts("a.png"), "trailing_data"],
    ["a ZIP appended to a PNG", pngThen(zip()), opts("a.png"), "embedded_zip"],
    ["a ZIP appended to a JPEG", () => concatBytes(jpeg(), zip()), opts("a.jpg"), "embedded_zip"],
    ["script after the GIF trailer", () => concatBytes(gif(), ascii("<script>alert(1)</script>")), opts("a.gif"), "trailing_data"],
    ["data after the WebP RIFF end", () => concatBytes(webp(), ascii("<?php echo 1; ?>")), opts("a.webp"), "trailing_data"],
    ["data after the JPEG EOI", () => concatBytes(jpeg(), ascii("hidden")), opts("a.jpg"), "trailing_data"],
    ["a <script> in the PNG image data", () => pngWithStoredData("<script>alert(1)</script>"), opts("a.png"), "embedded_markup"],
    ["mixed-case <ScRiPt> in the PNG image data", () => pngWithStoredData("<ScRiPt src=//x>"), opts("a.png"), "embedded_markup"],
    ["PHP in the PNG image data", () => pngWithStoredData("<?php system($_GET['c']); ?>"), opts("a.png"), "embedded_markup"],
    ["a ZIP in the PNG image data", () => pngWithStoredData(zip()), opts("a.png"), "embedded_zip"],
    ["a PNG cut short", () => png(4, 4).subarray(0, 40), opts("a.png"), "truncated"],
    [
      "a PNG chunk with a wrong CRC",
      () => {
        const bytes = png(2, 2);
        const at = bytes.length - 20; // inside the IDAT data
        bytes[at] = (bytes[at] ?? 0) ^ 0xff;
        return bytes;
      },
      opts("a.png"),
      "malformed",
    ],
    ["a JPEG without EOI", () => jpeg().subarray(0, jpeg().length - 2), opts("a.jpg"), "truncated"],
    ["a GIF without its trailer", () => gif().subarray(0, gif().length - 1), opts("a.gif"), "truncated"],
    ["a PNG wider than allowed", () => png(4097, 1), opts("a.png"), "dimensions_too_large"],
    ["a PNG taller than allowed", () => png(1, 4097), opts("a.png"), "dimensions_too_large"],
    ["a JPEG wider than allowed", () => jpeg(5000, 8), opts("a.jpg"), "dimensions_too_large"],
    ["a PNG that claims zero width", () => png(0, 1), opts("a.png"), "unreadable_dimensions"],
  ];
  for (const [label, make, options, reason] of cases) {
    test(label, async () => {
      const r = await refusal(make(), options);
      expect(r).toMatchObject({ code: "VALIDATION_FAILED", status: 422, reason });
    });
  }

  const badNames = [
    "",
    "../logo.png",
    "..\\logo.png",
    "dir/logo.png",
    "C:logo.png",
    "logo\u0000.png",
    "logo\n.png",
    "logo\u007f.png",
    "logo\u202egnp.exe.png",
    "logo\u200b.png",
    ".png",
    ".hidden.png",
    "logo",
    "logo.",
    " logo.png",
    `${"a".repeat(252)}.png`,
  ];
  for (const name of badNames) {
    test(`a bad file name is refused: ${JSON.stringify(name).slice(0, 40)}`, async () => {
      const r = await refusal(png(), opts(name, "image/png"));
      expect(r).toMatchObject({ code: "VALIDATION_FAILED", status: 422, reason: "bad_file_name" });
    });
  }
});
