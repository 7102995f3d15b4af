import { afterAll, describe, expect, test } from "bun:test";
import { mkdtemp, readdir, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { AppError } from "@raptscallions/core";
import { createDirectoryBlobStore } from "../src/index.ts";
import { runBlobStoreContract } from "./blob-store-contract.ts";
import { endlessStream, firstDifference, randomBytes, readAll } from "./stream-helpers.ts";

runBlobStoreContract("directory", async () => {
  const root = await mkdtemp(join(tmpdir(), "blob-dir-"));
  return {
    atomicPut: true,
    presigned: false,
    makeStore: (options = {}) => createDirectoryBlobStore({ root, maxObjectBytes: options.maxObjectBytes }),
    teardown: () => rm(root, { recursive: true, force: true }),
  };
});

describe("createDirectoryBlobStore", () => {
  const roots: string[] = [];
  const freshRoot = async () => {
    const root = await mkdtemp(join(tmpdir(), "blob-dir-"));
    roots.push(root);
    return root;
  };
  afterAll(async () => {
    await Promise.all(roots.map((r) => rm(r, { recursive: true, force: true })));
  });

  test("objects persist across store instances on the same root", async () => {
    const root = await freshRoot();
    const bytes = randomBytes(10_000);
    await createDirectoryBlobStore({ root }).put("groups/g1/assets/a.png", bytes, { contentType: "image/png" });
    const got = await createDirectoryBlobStore({ root }).get("groups/g1/assets/a.png");
    expect(got?.contentType).toBe("image/png");
    expect(firstDifference(await readAll(got?.body ?? new ReadableStream()), bytes)).toBeNull();
  });

  test("a failed put leaves no temp file and no object behind", async () => {
    const root = await freshRoot();
    const store = createDirectoryBlobStore({ root, maxObjectBytes: 1024 });
    const failed = await store.put("k", endlessStream(100).stream, { contentType: "x/y" }).catch((e: unknown) => e);
    expect((failed as AppError).code).toBe("PAYLOAD_TOO_LARGE");
    expect(await readdir(join(root, "tmp"))).toEqual([]);
    expect(await store.exists("k")).toBe(false);
  });

  test("a reader that opened the old version keeps reading it while the key is replaced", async () => {
    const root = await freshRoot();
    const store = createDirectoryBlobStore({ root });
    const before = randomBytes(512 * 1024);
    const after = randomBytes(512 * 1024);
    await store.put("k", before, { contentType: "x/y" });
    const reading = await store.get("k");
    await store.put("k", after, { contentType: "x/y" });
    await store.delete("k");
    expect(firstDifference(await readAll(reading?.body ?? new ReadableStream()), before)).toBeNull();
  });

  test("ping fails with SERVICE_UNAVAILABLE when the root is not a usable directory", async () => {
    const parent = await freshRoot();
    const file = join(parent, "not-a-dir");
    await writeFile(file, "x");
    const err = await createDirectoryBlobStore({ root: file })
      .ping()
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(AppError);
    expect((err as AppError).code).toBe("SERVICE_UNAVAILABLE");
  });

  test("a stored file whose trailer was damaged is reported, not served", async () => {
    const root = await freshRoot();
    const store = createDirectoryBlobStore({ root });
    await store.put("k", new Uint8Array([1, 2, 3]), { contentType: "x/y" });
    const shards = await readdir(join(root, "objects"));
    const shard = shards[0] ?? "";
    const files = await readdir(join(root, "objects", shard));
    await writeFile(join(root, "objects", shard, files[0] ?? ""), "garbage");
    const err = await store.get("k").catch((e: unknown) => e);
    expect((err as AppError).code).toBe("INTERNAL");
  });
});
