import { describe, expect, test } from "bun:test";
import { createDirectoryBlobStore } from "@raptscallions/blob";
import type { ResolvedTheme, ThemeAsset, ThemeAssetUploadResponse } from "@raptscallions/core";
import { auditLog, groups, themeAssets } from "@raptscallions/db";
import { and, eq } from "drizzle-orm";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ascii, exifWithGps, jpegSegment, jpegWith, png as pngWith, pngChunk } from "@raptscallions/blob/testing";
import { authHeader } from "./helpers/auth.ts";
import { type TestApp, useHarness } from "./helpers/harness.ts";
import { concatBytes, fileForm, gif, makeFourLevelTree, png, pngZipPolyglot, rawMultipart, storedObjectFiles, SVG_WITH_SCRIPT } from "./themes-fixtures.ts";

const h = useHarness();

const UPLOAD_LIMIT = 64 * 1024;

/** An app on a fresh blob directory (so "nothing stored" can be checked by listing it). */
async function setup(uploadLimitBytes = UPLOAD_LIMIT) {
  const root = mkdtempSync(join(tmpdir(), "rapt-theme-blobs-"));
  const { app, deps } = await h.withApp({
    deps: (base) => ({ blob: createDirectoryBlobStore({ root }), config: { ...base.config, uploadLimitBytes } }),
  });
  const tree = await makeFourLevelTree(h.db.db);
  return { app, root, deps, tree };
}

type User = { clerkUserId: string | null };

/** POSTs `body` to the group's theme assets as `user`; a streamed body is sent as it is pulled (`duplex`). */
async function upload(app: TestApp, user: User | null, groupId: string, body: BodyInit, contentType?: string, moreHeaders: Record<string, string> = {}) {
  const headers: Record<string, string> = { ...(user ? await authHeader(user) : {}), ...moreHeaders };
  if (contentType) headers["content-type"] = contentType;
  return await app.request(`/api/groups/${groupId}/theme/assets`, { method: "POST", headers, body, duplex: "half" } as RequestInit);
}

async function expectError(res: Response, status: number, code: string, reason?: string) {
  expect(res.status).toBe(status);
  const body = (await res.json()) as { error: { code: string; details?: unknown } };
  expect(body.error.code).toBe(code);
  if (reason) expect((body.error.details as { reason?: string } | undefined)?.reason).toBe(reason);
  return body.error;
}

/** Chunk types of a PNG, in order. */
function inspectedPngChunks(bytes: Uint8Array): string[] {
  const types: string[] = [];
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  for (let at = 8; at + 8 <= bytes.byteLength; at += 12 + view.getUint32(at)) {
    types.push(Buffer.from(bytes.subarray(at + 4, at + 8)).toString("latin1"));
  }
  return types;
}

async function rowsFor(groupId: string) {
  return await h.db.db.select().from(themeAssets).where(eq(themeAssets.groupId, groupId));
}

describe("POST /api/groups/:id/theme/assets", () => {
  test("stores a PNG: 201, a row, one content-addressed object; the same bytes again are 200 and stored once", async () => {
    const { app, root, tree } = await setup();
    const bytes = png(16, 8, { seed: 1 });
    const res = await upload(app, tree.schoolAdmin, tree.school.id, fileForm(bytes, "logo.png", "image/png"));
    expect(res.status).toBe(201);
    const body = (await res.json()) as ThemeAssetUploadResponse;
    expect(body.created).toBe(true);
    expect(body.asset).toMatchObject({
      groupId: tree.school.id,
      contentType: "image/png",
      width: 16,
      height: 8,
      sizeBytes: bytes.byteLength,
      originalName: "logo.png",
    });
    expect(body.asset.sha256).toBe(new Bun.CryptoHasher("sha256").update(bytes).digest("hex"));
    expect(body.asset.url).toBe(`/api/theme-assets/${body.asset.id}`);
    expect(storedObjectFiles(root)).toHaveLength(1);

    const again = await upload(app, tree.schoolAdmin, tree.school.id, fileForm(bytes, "same-logo-renamed.png"));
    expect(again.status).toBe(200);
    const second = (await again.json()) as ThemeAssetUploadResponse;
    expect(second.created).toBe(false);
    expect(second.asset.id).toBe(body.asset.id);
    expect(storedObjectFiles(root)).toHaveLength(1);
    expect(await rowsFor(tree.school.id)).toHaveLength(1);

    const audits = await h.db.db
      .select()
      .from(auditLog)
      .where(and(eq(auditLog.targetId, body.asset.id), eq(auditLog.action, "theme.asset.upload")));
    expect(audits).toHaveLength(1);
  });

  test("an upload larger than the JSON body limit but within the upload limit is accepted", async () => {
    const { app, deps, tree } = await setup(UPLOAD_LIMIT);
    const bytes = png(200, 200, { noise: true, seed: 3 });
    expect(bytes.byteLength).toBeGreaterThan(deps.config.bodyLimitBytes / 2);
    // Make the JSON limit smaller than this file to prove the upload route is exempt from it.
    deps.config.bodyLimitBytes = 1024;
    const { app: app2 } = await h.withApp({ deps });
    const res = await upload(app2, tree.schoolAdmin, tree.school.id, fileForm(bytes, "big.png"));
    expect(res.status).toBe(201);
    // …while every other route keeps the JSON limit.
    const json = await app2.request(`/api/groups/${tree.school.id}/theme`, {
      method: "PATCH",
      headers: { ...(await authHeader(tree.schoolAdmin)), "content-type": "application/json" },
      body: JSON.stringify({ font: "lato", pad: "x".repeat(4096) }),
    });
    await expectError(json, 413, "PAYLOAD_TOO_LARGE");
    expect(app).toBeDefined();
  });

  describe("bad input: a clear 4xx and nothing stored (no object, no row)", () => {
    const cases: {
      name: string;
      status: number;
      code: string;
      reason?: string;
      body: () => { body: BodyInit; contentType?: string };
    }[] = [
      {
        name: "PNG bytes named .jpg",
        status: 415,
        code: "UNSUPPORTED_MEDIA_TYPE",
        reason: "extension_mismatch",
        body: () => ({ body: fileForm(png(), "logo.jpg") }),
      },
      {
        name: "GIF bytes declared image/png",
        status: 415,
        code: "UNSUPPORTED_MEDIA_TYPE",
        reason: "content_type_mismatch",
        body: () => ({ body: fileForm(gif(), "logo.gif", "image/png") }),
      },
      {
        name: "HTML named .png",
        status: 415,
        code: "UNSUPPORTED_MEDIA_TYPE",
        reason: "not_an_allowed_image",
        body: () => ({ body: fileForm(new TextEncoder().encode("<html><script>x</script></html>"), "logo.png") }),
      },
      {
        name: "a PNG+ZIP polyglot",
        status: 422,
        code: "VALIDATION_FAILED",
        reason: "embedded_zip",
        body: () => ({ body: fileForm(pngZipPolyglot(), "logo.png", "image/png") }),
      },
      {
        name: "a PNG with trailing script",
        status: 422,
        code: "VALIDATION_FAILED",
        reason: "trailing_data",
        body: () => ({
          body: fileForm(concatBytes(png(), new TextEncoder().encode("<script>alert(1)</script>")), "logo.png"),
        }),
      },
      {
        name: "an SVG with script",
        status: 415,
        code: "UNSUPPORTED_MEDIA_TYPE",
        reason: "svg_not_accepted",
        body: () => ({ body: fileForm(SVG_WITH_SCRIPT, "logo.svg", "image/svg+xml") }),
      },
      {
        name: "an SVG disguised as .png",
        status: 415,
        code: "UNSUPPORTED_MEDIA_TYPE",
        reason: "svg_not_accepted",
        body: () => ({ body: fileForm(SVG_WITH_SCRIPT, "logo.png") }),
      },
      {
        name: "an empty file",
        status: 422,
        code: "VALIDATION_FAILED",
        reason: "empty",
        body: () => ({ body: fileForm(new Uint8Array(), "logo.png") }),
      },
      {
        name: "a wrong field name",
        status: 422,
        code: "VALIDATION_FAILED",
        reason: "missing_file_field",
        body: () => ({ body: fileForm(png(), "logo.png", "image/png", "image") }),
      },
      {
        name: "a text field instead of a file",
        status: 422,
        code: "VALIDATION_FAILED",
        reason: "not_a_file",
        body: () => {
          const form = new FormData();
          form.append("file", "just text");
          return { body: form };
        },
      },
      {
        name: "two files",
        status: 422,
        code: "VALIDATION_FAILED",
        reason: "multiple_files",
        body: () => {
          const form = fileForm(png(2, 2, { seed: 9 }), "a.png");
          form.append("file", new File([png(2, 2, { seed: 10 }) as Uint8Array<ArrayBuffer>], "b.png"));
          return { body: form };
        },
      },
      {
        name: "a path-traversal file name",
        status: 422,
        code: "VALIDATION_FAILED",
        reason: "bad_file_name",
        body: () => {
          const raw = rawMultipart([
            {
              headers: 'Content-Disposition: form-data; name="file"; filename="../../../etc/logo.png"\r\nContent-Type: image/png',
              body: png(),
            },
          ]);
          return { body: raw.body as Uint8Array<ArrayBuffer>, contentType: raw.contentType };
        },
      },
      {
        name: "a Windows path file name",
        status: 422,
        code: "VALIDATION_FAILED",
        reason: "bad_file_name",
        body: () => {
          const raw = rawMultipart([{ headers: 'Content-Disposition: form-data; name="file"; filename="..\\\\..\\\\logo.png"', body: png() }]);
          return { body: raw.body as Uint8Array<ArrayBuffer>, contentType: raw.contentType };
        },
      },
      {
        name: "a bidi-disguised file name",
        status: 422,
        code: "VALIDATION_FAILED",
        reason: "bad_file_name",
        body: () => ({ body: fileForm(png(), "logo\u202Egnp.png") }),
      },
      {
        name: "JSON instead of multipart",
        status: 415,
        code: "UNSUPPORTED_MEDIA_TYPE",
        reason: "not_multipart",
        body: () => ({ body: JSON.stringify({ file: "x" }), contentType: "application/json" }),
      },
      {
        name: "raw image bytes (no multipart)",
        status: 415,
        code: "UNSUPPORTED_MEDIA_TYPE",
        reason: "not_multipart",
        body: () => ({ body: png() as Uint8Array<ArrayBuffer>, contentType: "image/png" }),
      },
      {
        name: "multipart without a boundary",
        status: 400,
        code: "BAD_REQUEST",
        reason: "no_boundary",
        body: () => ({ body: "x", contentType: "multipart/form-data" }),
      },
      {
        name: "malformed multipart (no closing boundary)",
        status: 400,
        code: "BAD_REQUEST",
        reason: "malformed_multipart",
        body: () => ({
          body: '--b\r\nContent-Disposition: form-data; name="file"; filename="x.png"\r\n\r\nabc',
          contentType: "multipart/form-data; boundary=b",
        }),
      },
      {
        name: "multipart garbage",
        status: 400,
        code: "BAD_REQUEST",
        reason: "malformed_multipart",
        body: () => ({ body: "\u0000\u0001garbage", contentType: "multipart/form-data; boundary=zz" }),
      },
      {
        name: "a file over the upload limit",
        status: 413,
        code: "PAYLOAD_TOO_LARGE",
        body: () => ({ body: fileForm(png(300, 300, { noise: true, seed: 5 }), "huge.png") }),
      },
      {
        name: "an image wider than allowed",
        status: 422,
        code: "VALIDATION_FAILED",
        reason: "dimensions_too_large",
        body: () => ({ body: fileForm(png(5000, 1), "wide.png") }),
      },
    ];
    for (const c of cases) {
      test(c.name, async () => {
        const { app, root, tree } = await setup();
        const { body, contentType } = c.body();
        await expectError(await upload(app, tree.schoolAdmin, tree.school.id, body, contentType), c.status, c.code, c.reason);
        expect(storedObjectFiles(root)).toEqual([]);
        expect(await rowsFor(tree.school.id)).toEqual([]);
      });
    }

    test("a Content-Length over the limit is refused before the body is read", async () => {
      const { app, root, tree } = await setup();
      let pulled = 0;
      const body = new ReadableStream<Uint8Array>({
        pull(controller) {
          pulled += 1;
          controller.enqueue(new Uint8Array(1024));
        },
      });
      const res = await upload(app, tree.schoolAdmin, tree.school.id, body, "multipart/form-data; boundary=b", { "content-length": String(10 * 1024 * 1024) });
      await expectError(res, 413, "PAYLOAD_TOO_LARGE");
      // A ReadableStream pulls once to fill its queue on construction; nothing beyond that was read.
      expect(pulled).toBeLessThanOrEqual(1);
      expect(storedObjectFiles(root)).toEqual([]);
    });

    test("a streamed body without Content-Length is cut off once it passes the limit, not read to the end", async () => {
      const { app, root, tree } = await setup();
      const total = 50 * 1024 * 1024;
      const chunk = 8 * 1024;
      let sent = 0;
      let cancelled = false;
      const prefix = new TextEncoder().encode('--b\r\nContent-Disposition: form-data; name="file"; filename="big.png"\r\nContent-Type: image/png\r\n\r\n');
      const body = new ReadableStream<Uint8Array>({
        pull(controller) {
          if (sent >= total) return controller.close();
          const part = sent === 0 ? concatBytes(prefix, png(1, 1)) : new Uint8Array(chunk);
          sent += part.byteLength;
          controller.enqueue(part);
        },
        cancel() {
          cancelled = true;
        },
      });
      const res = await upload(app, tree.schoolAdmin, tree.school.id, body, "multipart/form-data; boundary=b");
      await expectError(res, 413, "PAYLOAD_TOO_LARGE");
      expect(cancelled).toBe(true);
      // Read up to the limit plus framing and a chunk or two of read-ahead: nowhere near 50 MB.
      expect(sent).toBeLessThan(UPLOAD_LIMIT + 16 * 1024 + 4 * chunk);
      expect(storedObjectFiles(root)).toEqual([]);
      expect(await rowsFor(tree.school.id)).toEqual([]);
    });
  });

  test("over a real socket: a 200 MB chunked upload is answered 413 after a small fraction was sent", async () => {
    const { app, root, tree } = await setup();
    const server = Bun.serve({ port: 0, fetch: app.fetch, maxRequestBodySize: 1024 * 1024 * 1024 });
    try {
      const total = 200 * 1024 * 1024;
      let sent = 0;
      const prefix = new TextEncoder().encode('--b\r\nContent-Disposition: form-data; name="file"; filename="big.png"\r\n\r\n');
      const body = new ReadableStream<Uint8Array>({
        pull(controller) {
          if (sent >= total) return controller.close();
          const part = sent === 0 ? concatBytes(prefix, png()) : new Uint8Array(64 * 1024);
          sent += part.byteLength;
          controller.enqueue(part);
        },
      });
      const res = await fetch(`http://127.0.0.1:${server.port}/api/groups/${tree.school.id}/theme/assets`, {
        method: "POST",
        headers: { ...(await authHeader(tree.schoolAdmin)), "content-type": "multipart/form-data; boundary=b" },
        body,
        duplex: "half",
      } as RequestInit);
      await expectError(res, 413, "PAYLOAD_TOO_LARGE");
      // Socket buffers let the client run ahead a little; the server never read anywhere near 200 MB.
      expect(sent).toBeLessThan(16 * 1024 * 1024);
      expect(storedObjectFiles(root)).toEqual([]);
    } finally {
      server.stop(true);
    }
  });

  describe("who may upload", () => {
    test("a member who can see the group: 403, body never stored", async () => {
      const { app, root, tree } = await setup();
      await expectError(await upload(app, tree.teacher, tree.subDepartment.id, fileForm(png(), "logo.png")), 403, "FORBIDDEN");
      expect(storedObjectFiles(root)).toEqual([]);
      expect(await rowsFor(tree.subDepartment.id)).toEqual([]);
    });

    test("an admin of another tree: 404; no token: 401; bad token: 401; unknown group: 404", async () => {
      const { app, root, tree } = await setup();
      await expectError(await upload(app, tree.outsider, tree.school.id, fileForm(png(), "logo.png")), 404, "NOT_FOUND");
      await expectError(await upload(app, null, tree.school.id, fileForm(png(), "logo.png")), 401, "UNAUTHENTICATED");
      await expectError(await upload(app, null, tree.school.id, fileForm(png(), "logo.png"), undefined, { authorization: "Bearer x.y.z" }), 401, "UNAUTHENTICATED");
      await expectError(await upload(app, tree.schoolAdmin, crypto.randomUUID(), fileForm(png(), "logo.png")), 404, "NOT_FOUND");
      expect(storedObjectFiles(root)).toEqual([]);
      expect(await rowsFor(tree.school.id)).toEqual([]);
    });
  });
});

async function uploaded(app: TestApp, user: User, groupId: string, bytes: Uint8Array, name = "logo.png"): Promise<ThemeAsset> {
  const res = await upload(app, user, groupId, fileForm(bytes, name));
  expect(res.status).toBe(201);
  return ((await res.json()) as ThemeAssetUploadResponse).asset;
}

async function patchTheme(app: TestApp, user: User, groupId: string, body: unknown) {
  return await app.request(`/api/groups/${groupId}/theme`, {
    method: "PATCH",
    headers: { ...(await authHeader(user)), "content-type": "application/json" },
    body: JSON.stringify(body),
  });
}

describe("uploaded images are stored without their metadata", () => {
  test("a PNG whose text chunk holds <svg onload=…> is accepted; the stored and served bytes hold no such chunk", async () => {
    const { app, tree, deps } = await setup();
    const original = pngWith(2, 2, [pngChunk("tEXt", ascii("Comment\0<svg onload=alert(1)>")), pngChunk("iTXt", ascii("x\0\0\0\0\0<img src=x onerror=alert(1)>"))]);
    const asset = await uploaded(app, tree.schoolAdmin, tree.school.id, original);
    const served = new Uint8Array(await (await app.request(asset.url)).arrayBuffer());
    const [row] = await rowsFor(tree.school.id);
    const stored = await deps.blob.get(row?.key ?? "missing");
    if (!stored) throw new Error("no stored object");
    const storedBytes = new Uint8Array(await new Response(stored.body).arrayBuffer());
    for (const bytes of [served, storedBytes]) {
      const text = Buffer.from(bytes).toString("latin1");
      expect(text).not.toContain("onload");
      expect(text).not.toContain("onerror");
      expect(text).not.toContain("tEXt");
      expect(inspectedPngChunks(bytes)).toEqual(["IHDR", "IDAT", "IEND"]);
    }
    expect(asset).toMatchObject({ sizeBytes: served.byteLength, width: 2, height: 2 });
    expect(served.byteLength).toBeLessThan(original.byteLength);
  });

  test("a JPEG photo comes back without its EXIF GPS location", async () => {
    const { app, tree } = await setup();
    const photo = jpegWith([jpegSegment(0xe1, exifWithGps())], 16, 16);
    const asset = await uploaded(app, tree.schoolAdmin, tree.school.id, photo, "photo.jpg");
    const served = Buffer.from(await (await app.request(asset.url)).arrayBuffer());
    expect(Buffer.from(photo).includes("Exif\0\0")).toBe(true);
    expect(served.includes("Exif\0\0")).toBe(false);
    expect(asset).toMatchObject({ contentType: "image/jpeg", width: 16, height: 16 });
  });
});

describe("serving GET /api/theme-assets/:assetId", () => {
  test("round trip: byte-identical, public, immutable, nosniff, restrictive CSP, ETag and 304", async () => {
    const { app, tree } = await setup();
    const bytes = png(32, 32, { noise: true, seed: 11 });
    const asset = await uploaded(app, tree.schoolAdmin, tree.school.id, bytes);
    const res = await app.request(asset.url);
    expect(res.status).toBe(200);
    expect(new Uint8Array(await res.arrayBuffer())).toEqual(new Uint8Array(bytes));
    expect(res.headers.get("content-type")).toBe("image/png");
    expect(res.headers.get("content-length")).toBe(String(bytes.byteLength));
    expect(res.headers.get("cache-control")).toBe("public, max-age=31536000, immutable");
    expect(res.headers.get("x-content-type-options")).toBe("nosniff");
    expect(res.headers.get("content-security-policy")).toContain("default-src 'none'");
    expect(res.headers.get("content-disposition")).toBe('inline; filename="logo.png"');
    const etag = res.headers.get("etag");
    expect(etag).toBe(`"${asset.sha256}"`);

    const revalidated = await app.request(asset.url, { headers: { "if-none-match": `W/${etag}, "other"` } });
    expect(revalidated.status).toBe(304);
    expect(await revalidated.text()).toBe("");
    expect(revalidated.headers.get("etag")).toBe(etag);
    const changed = await app.request(asset.url, { headers: { "if-none-match": '"something-else"' } });
    expect(changed.status).toBe(200);
    expect(new Uint8Array(await changed.arrayBuffer())).toEqual(new Uint8Array(bytes));
  });

  test("HEAD answers the headers without opening the object", async () => {
    const { app, tree, deps } = await setup();
    const bytes = png(8, 8, { seed: 12 });
    const asset = await uploaded(app, tree.schoolAdmin, tree.school.id, bytes);
    // Count object opens: a stream opened for HEAD and dropped would hold a file or connection.
    // Counted on the store object the app holds (createApp keeps its own copy of the deps).
    const store = deps.blob;
    const get = store.get.bind(store);
    let opened = 0;
    store.get = (key) => {
      opened += 1;
      return get(key);
    };
    for (let i = 0; i < 3; i++) {
      const res = await app.request(asset.url, { method: "HEAD" });
      expect(res.status).toBe(200);
      expect(res.headers.get("content-length")).toBe(String(bytes.byteLength));
      expect(res.headers.get("etag")).toBe(`"${asset.sha256}"`);
      expect(await res.text()).toBe("");
    }
    expect(opened).toBe(0);
    // The counter does see opens: a GET makes one (read to the end, which closes the file).
    const got = await app.request(asset.url);
    expect(got.status).toBe(200);
    expect(new Uint8Array(await got.arrayBuffer())).toEqual(new Uint8Array(bytes));
    expect(opened).toBe(1);
  });

  test("unknown and malformed ids are 404", async () => {
    const { app } = await setup();
    await expectError(await app.request(`/api/theme-assets/${crypto.randomUUID()}`), 404, "NOT_FOUND");
    await expectError(await app.request("/api/theme-assets/..%2F..%2Fetc%2Fpasswd"), 404, "NOT_FOUND");
  });
});

describe("assets in themes", () => {
  test("a theme may use the group's and its ancestors' assets, not a descendant's or another tree's", async () => {
    const { app, tree } = await setup();
    const districtLogo = await uploaded(app, tree.districtAdmin, tree.district.id, png(4, 4, { seed: 21 }));
    const deptLogo = await uploaded(app, tree.schoolAdmin, tree.department.id, png(4, 4, { seed: 22 }));
    const foreign = await uploaded(app, tree.outsider, tree.otherDistrict.id, png(4, 4, { seed: 23 }));

    const ok = await patchTheme(app, tree.schoolAdmin, tree.school.id, {
      assets: { logo: districtLogo.id, favicon: "none" },
    });
    expect(ok.status).toBe(200);
    const body = (await ok.json()) as ResolvedTheme;
    expect(body.theme.assets.logo?.id).toBe(districtLogo.id);
    expect(body.theme.assets.logo?.url).toBe(districtLogo.url);
    expect(body.theme.assets.favicon).toBeNull();
    expect(body.sources["assets.logo"]).toBe(tree.school.id);

    for (const [assetId, code] of [
      [deptLogo.id, "asset_not_in_scope"],
      // Another district's asset is hidden by row-level security: as unknown as a random id.
      [foreign.id, "asset_not_found"],
      [crypto.randomUUID(), "asset_not_found"],
    ] as const) {
      const res = await patchTheme(app, tree.schoolAdmin, tree.school.id, { assets: { background: assetId } });
      const error = await expectError(res, 422, "VALIDATION_FAILED");
      expect(error.details).toEqual([expect.objectContaining({ path: "assets.background", code })]);
    }
    // The department inherits the school's logo.
    const dept = (await (await app.request(`/api/groups/${tree.department.id}/theme`, { headers: await authHeader(tree.teacher) })).json()) as ResolvedTheme;
    expect(dept.theme.assets.logo?.id).toBe(districtLogo.id);
  });

  test("GET …/assets lists own assets, or with ?inherited=true the ancestors' too; admins only", async () => {
    const { app, tree } = await setup();
    const a = await uploaded(app, tree.districtAdmin, tree.district.id, png(3, 3, { seed: 31 }));
    const b = await uploaded(app, tree.schoolAdmin, tree.school.id, png(3, 3, { seed: 32 }));
    const list = async (user: User, groupId: string, query = "") => await app.request(`/api/groups/${groupId}/theme/assets${query}`, { headers: await authHeader(user) });
    const own = (await (await list(tree.schoolAdmin, tree.school.id)).json()) as { items: ThemeAsset[] };
    expect(own.items.map((i) => i.id)).toEqual([b.id]);
    const inherited = (await (await list(tree.schoolAdmin, tree.school.id, "?inherited=true")).json()) as {
      items: ThemeAsset[];
    };
    expect(inherited.items.map((i) => i.id).sort()).toEqual([a.id, b.id].sort());
    await expectError(await list(tree.teacher, tree.subDepartment.id), 403, "FORBIDDEN");
    await expectError(await list(tree.outsider, tree.school.id), 404, "NOT_FOUND");
    await expectError(await app.request(`/api/groups/${tree.school.id}/theme/assets`), 401, "UNAUTHENTICATED");
    await expectError(await list(tree.schoolAdmin, tree.school.id, "?inherited=maybe"), 400, "BAD_REQUEST");
  });

  test("deleting an asset in use is 409 naming every use; ?force=true removes it from those themes", async () => {
    const { app, root, tree } = await setup();
    const logo = await uploaded(app, tree.schoolAdmin, tree.school.id, png(5, 5, { seed: 41 }));
    expect((await patchTheme(app, tree.schoolAdmin, tree.school.id, { assets: { logo: logo.id } })).status).toBe(200);
    expect(
      (
        await patchTheme(app, tree.schoolAdmin, tree.subDepartment.id, {
          assets: { favicon: logo.id, background: logo.id },
        })
      ).status,
    ).toBe(200);
    // Warm the cache of a group that inherits it.
    const before = (await (await app.request(`/api/groups/${tree.department.id}/theme`, { headers: await authHeader(tree.teacher) })).json()) as ResolvedTheme;
    expect(before.theme.assets.logo?.id).toBe(logo.id);

    const del = async (query = "") =>
      await app.request(`/api/groups/${tree.school.id}/theme/assets/${logo.id}${query}`, {
        method: "DELETE",
        headers: await authHeader(tree.schoolAdmin),
      });
    const error = await expectError(await del(), 409, "CONFLICT");
    expect(error.details).toEqual({
      usedBy: [
        { groupId: tree.school.id, groupName: tree.school.name, slots: ["logo"] },
        { groupId: tree.subDepartment.id, groupName: tree.subDepartment.name, slots: ["favicon", "background"] },
      ],
    });
    expect(await rowsFor(tree.school.id)).toHaveLength(1);
    expect(storedObjectFiles(root)).toHaveLength(1);
    const stillServed = await app.request(logo.url);
    expect(stillServed.status).toBe(200);
    expect((await stillServed.arrayBuffer()).byteLength).toBe(logo.sizeBytes);

    const forced = await del("?force=true");
    expect(forced.status).toBe(200);
    expect(((await forced.json()) as { removedFrom: unknown[] }).removedFrom).toHaveLength(2);
    expect(await rowsFor(tree.school.id)).toEqual([]);
    expect(storedObjectFiles(root)).toEqual([]);
    await expectError(await app.request(logo.url), 404, "NOT_FOUND");
    const [sub] = await h.db.db.select({ theme: groups.theme }).from(groups).where(eq(groups.id, tree.subDepartment.id));
    expect(sub?.theme).toBeNull();
    const after = (await (await app.request(`/api/groups/${tree.department.id}/theme`, { headers: await authHeader(tree.teacher) })).json()) as ResolvedTheme;
    expect(after.theme.assets.logo).toBeNull();
  });

  test("deleting an unused asset: 200; someone else's: 404; a viewer: 403; a wrong group: 404", async () => {
    const { app, tree } = await setup();
    const asset = await uploaded(app, tree.schoolAdmin, tree.school.id, png(6, 6, { seed: 51 }));
    const del = async (user: User, groupId: string) =>
      await app.request(`/api/groups/${groupId}/theme/assets/${asset.id}`, {
        method: "DELETE",
        headers: await authHeader(user),
      });
    await expectError(await del(tree.outsider, tree.school.id), 404, "NOT_FOUND");
    await expectError(await del(tree.teacher, tree.subDepartment.id), 403, "FORBIDDEN");
    await expectError(await del(tree.districtAdmin, tree.department.id), 404, "NOT_FOUND");
    expect((await del(tree.districtAdmin, tree.school.id)).status).toBe(200);
    await expectError(await del(tree.districtAdmin, tree.school.id), 404, "NOT_FOUND");
  });
});
