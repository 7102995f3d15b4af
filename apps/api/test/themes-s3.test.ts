import { beforeAll, expect, test } from "bun:test";
import { type BlobStore, createS3BlobStore } from "@raptscallions/blob";
import type { ThemeAssetUploadResponse } from "@raptscallions/core";
import { themeAssets } from "@raptscallions/db";
import { eq } from "drizzle-orm";
import { existsSync, readdirSync } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join, sep } from "node:path";
import S3rver from "s3rver";
import { authHeader } from "./helpers/auth.ts";
import { useHarness } from "./helpers/harness.ts";
import { fileForm, makeFourLevelTree, png, pngZipPolyglot } from "./themes-fixtures.ts";

// The same upload → serve round trip as themes-assets.test.ts, against a real S3-protocol
// server (s3rver on an ephemeral port) through the production S3 blob store.
const h = useHarness();
let server: S3rver;
let directory: string;
let blob: BlobStore;
let bucket: string;

beforeAll(async () => {
  directory = await mkdtemp(join(tmpdir(), "themes-s3rver-"));
  server = new S3rver({ address: "127.0.0.1", port: 0, silent: true, directory });
  const { port } = await server.run();
  bucket = `themes-${crypto.randomUUID().slice(0, 8)}`;
  blob = createS3BlobStore({
    endpoint: `http://127.0.0.1:${port}`,
    region: "us-east-1",
    bucket,
    accessKeyId: "S3RVER",
    secretAccessKey: "S3RVER",
    createBucket: true,
  });
}, 60_000);
h.beforeClose(async () => {
  await server.close();
  await rm(directory, { recursive: true, force: true });
});

/** Keys of the objects s3rver holds under `prefix` (it stores `<bucket>/<key>._S3rver_object`). */
function s3rverObjects(prefix: string): string[] {
  const root = join(directory, bucket);
  if (!existsSync(root)) return [];
  return readdirSync(root, { recursive: true, encoding: "utf8" })
    .filter((p) => p.endsWith("._S3rver_object"))
    .map((p) =>
      p
        .replace(/\._S3rver_object$/, "")
        .split(sep)
        .join("/"),
    )
    .filter((key) => key.startsWith(prefix));
}

async function objectCount(groupId: string): Promise<number> {
  const rows = await h.db.db.select({ key: themeAssets.key }).from(themeAssets).where(eq(themeAssets.groupId, groupId));
  let count = 0;
  for (const row of rows) if (await blob.exists(row.key)) count += 1;
  return count;
}

test("S3: upload → serve is byte-identical, deduplicated, and deletable", async () => {
  const { app } = await h.withApp({ deps: { blob } });
  const tree = await makeFourLevelTree(h.db.db);
  const bytes = png(64, 48, { noise: true, seed: 77 });
  const headers = await authHeader(tree.schoolAdmin);
  const send = async () =>
    await app.request(`/api/groups/${tree.school.id}/theme/assets`, {
      method: "POST",
      headers,
      body: fileForm(bytes, "crest.png", "image/png"),
    });

  const res = await send();
  expect(res.status).toBe(201);
  const { asset } = (await res.json()) as ThemeAssetUploadResponse;
  const key = `groups/${tree.school.id}/assets/${asset.sha256}.png`;
  const head = await blob.head(key);
  expect(head?.contentType).toBe("image/png");
  expect(head?.contentLength).toBe(bytes.byteLength);

  const served = await app.request(asset.url);
  expect(served.status).toBe(200);
  expect(new Uint8Array(await served.arrayBuffer())).toEqual(new Uint8Array(bytes));
  expect(served.headers.get("etag")).toBe(`"${asset.sha256}"`);
  expect(served.headers.get("x-content-type-options")).toBe("nosniff");

  expect((await send()).status).toBe(200);
  expect(await objectCount(tree.school.id)).toBe(1);
  expect(s3rverObjects(`groups/${tree.school.id}/`)).toEqual([key]);

  const del = await app.request(`/api/groups/${tree.school.id}/theme/assets/${asset.id}`, {
    method: "DELETE",
    headers,
  });
  expect(del.status).toBe(200);
  expect(await blob.exists(key)).toBe(false);
  expect(s3rverObjects(`groups/${tree.school.id}/`)).toEqual([]);
  expect((await app.request(asset.url)).status).toBe(404);
});

test("S3: a refused upload stores nothing", async () => {
  const { app } = await h.withApp({ deps: { blob } });
  const tree = await makeFourLevelTree(h.db.db);
  const res = await app.request(`/api/groups/${tree.school.id}/theme/assets`, {
    method: "POST",
    headers: await authHeader(tree.schoolAdmin),
    body: fileForm(pngZipPolyglot(), "logo.png"),
  });
  expect(res.status).toBe(422);
  expect(await h.db.db.select().from(themeAssets).where(eq(themeAssets.groupId, tree.school.id))).toEqual([]);
  // Nothing under the group's prefix in the bucket (s3rver keeps each object as a file).
  expect(s3rverObjects(`groups/${tree.school.id}/`)).toEqual([]);
});
