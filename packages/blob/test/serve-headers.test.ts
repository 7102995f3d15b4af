import { describe, expect, test } from "bun:test";
import { serveBlobHeaders } from "../src/index.ts";

describe("serveBlobHeaders", () => {
  test("an accepted image is served inline, immutable, nosniff, sandboxed", () => {
    expect(serveBlobHeaders("image/png")).toEqual({
      "Content-Type": "image/png",
      "Cache-Control": "public, max-age=31536000, immutable",
      "X-Content-Type-Options": "nosniff",
      "Content-Security-Policy": "default-src 'none'; img-src 'self' data:; style-src 'unsafe-inline'; sandbox",
      "Content-Disposition": 'inline; filename="asset.png"',
      "Cross-Origin-Resource-Policy": "same-site",
      "Referrer-Policy": "no-referrer",
    });
  });

  test("the stored type is normalised to its canonical form", () => {
    const headers = serveBlobHeaders("IMAGE/JPEG; foo=bar", { fileName: "Team Photo.jpeg" });
    expect(headers["Content-Type"]).toBe("image/jpeg");
    expect(headers["Content-Disposition"]).toBe('inline; filename="Team_Photo.jpg"');
  });

  for (const type of ["image/svg+xml", "text/html", "application/javascript", "", "image/png\r\nX-Evil: 1"]) {
    test(`anything else is an octet-stream attachment: ${JSON.stringify(type)}`, () => {
      const headers = serveBlobHeaders(type);
      expect(headers["Content-Type"]).toBe("application/octet-stream");
      expect(headers["Content-Disposition"]).toBe('attachment; filename="asset.bin"');
      expect(headers["X-Content-Type-Options"]).toBe("nosniff");
    });
  }

  test("a hostile file name cannot break out of the header parameter", () => {
    const headers = serveBlobHeaders("image/gif", {
      fileName: "x\"; filename*=UTF-8''evil.html\r\nSet-Cookie: a=b; ../../é.gif",
    });
    const disposition = headers["Content-Disposition"] ?? "";
    expect(disposition).toMatch(/^inline; filename="[A-Za-z0-9._-]+\.gif"$/);
    // Every value must be a legal header value (Headers throws on CR/LF and friends).
    expect(() => new Headers(headers)).not.toThrow();
  });

  test("the embedding policy can be widened for an app on another site", () => {
    expect(serveBlobHeaders("image/webp", { crossOriginResourcePolicy: "cross-origin" })["Cross-Origin-Resource-Policy"]).toBe("cross-origin");
  });
});
