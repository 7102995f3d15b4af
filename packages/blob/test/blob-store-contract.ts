// The one behavioural contract every BlobStore must meet, run against each implementation.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { AppError } from "@raptscallions/core";
import type { ErrorCode } from "@raptscallions/core";
import type { BlobStore } from "../src/index.ts";
import { endlessStream, everyByteValue, firstDifference, randomBytes, readAll, streamOf } from "./stream-helpers.ts";

export interface ContractBackend {
  /** A store over the shared backend; a small `maxObjectBytes` lets size caps be tested. */
  makeStore(options?: { maxObjectBytes?: number }): BlobStore;
  /** Whether this implementation offers presigned URLs (then they are tested over real HTTP). */
  presigned: boolean;
  /**
   * Whether the backend publishes a put atomically, so concurrent puts to one key leave one
   * whole body. True of S3 and the directory store; s3rver writes objects in place (no temp file
   * and rename), so under it only the weaker property (both puts succeed, a full-length body
   * remains) is checked.
   */
  atomicPut: boolean;
  teardown(): Promise<void>;
}

async function expectAppError(promise: Promise<unknown>, code: ErrorCode): Promise<AppError> {
  const err = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(AppError);
  expect((err as AppError).code).toBe(code);
  return err as AppError;
}

const BAD_KEYS = ["", "/abs", "../escape", "a/../b", "a/./b", "a//b", "a/", ".hidden", "a\\b", "a b", "a\u0000b", "a\nb", "ключ", "a%2F..", "x".repeat(1025)];

export function runBlobStoreContract(name: string, start: () => Promise<ContractBackend>): void {
  describe(`BlobStore contract: ${name}`, () => {
    let backend: ContractBackend;
    let store: BlobStore;
    const key = (label: string) => `contract/${label}/${crypto.randomUUID()}.bin`;

    beforeAll(async () => {
      backend = await start();
      store = backend.makeStore();
    });
    afterAll(async () => {
      await backend.teardown();
    });

    test("ping resolves when the store is usable", async () => {
      await store.ping();
    });

    const bodies: [string, () => Uint8Array][] = [
      ["a small text body", () => new TextEncoder().encode("hello, blob")],
      ["every byte value", () => everyByteValue()],
      ["5 MiB of random bytes", () => randomBytes(5 * 1024 * 1024 + 123)],
      ["an empty body", () => new Uint8Array()],
    ];
    for (const [label, make] of bodies) {
      for (const mode of ["buffered", "streamed", "streamed with contentLength"] as const) {
        test(`round trip keeps bytes identical: ${label}, ${mode}`, async () => {
          const bytes = make();
          const k = key("roundtrip");
          const body = mode === "buffered" ? bytes : streamOf(bytes);
          const contentLength = mode === "streamed" ? undefined : bytes.byteLength;
          await store.put(k, body, { contentType: "application/x-test", contentLength });
          const got = await store.get(k);
          expect(got).not.toBeNull();
          if (!got) return;
          expect(got.contentType).toBe("application/x-test");
          expect(got.contentLength).toBe(bytes.byteLength);
          expect(firstDifference(await readAll(got.body), bytes)).toBeNull();
          const head = await store.head(k);
          expect(head?.contentLength).toBe(bytes.byteLength);
          expect(head?.contentType).toBe("application/x-test");
          expect(head?.etag).toBe(got.etag);
        });
      }
    }

    test("missing keys: get and head are null, exists is false, delete succeeds", async () => {
      const k = key("missing");
      expect(await store.get(k)).toBeNull();
      expect(await store.head(k)).toBeNull();
      expect(await store.exists(k)).toBe(false);
      await store.delete(k);
    });

    test("exists, head and delete follow the object's life", async () => {
      const k = key("life");
      await store.put(k, new Uint8Array([1, 2, 3]), {
        contentType: "image/png",
        cacheControl: "public, max-age=60",
      });
      expect(await store.exists(k)).toBe(true);
      const head = await store.head(k);
      expect(head).toMatchObject({ contentType: "image/png", contentLength: 3, cacheControl: "public, max-age=60" });
      expect(head?.lastModified).toBeInstanceOf(Date);
      await store.delete(k);
      expect(await store.exists(k)).toBe(false);
      expect(await store.head(k)).toBeNull();
      expect(await store.get(k)).toBeNull();
      await store.delete(k); // deleting twice is not an error
    });

    test("put replaces an object's bytes, type and etag", async () => {
      const k = key("replace");
      await store.put(k, new TextEncoder().encode("first"), { contentType: "text/plain" });
      const before = await store.head(k);
      await store.put(k, new TextEncoder().encode("second!"), { contentType: "application/json" });
      const got = await store.get(k);
      expect(got?.contentType).toBe("application/json");
      expect(got?.etag).not.toBe(before?.etag);
      expect(new TextDecoder().decode(await readAll(got?.body ?? streamOf(new Uint8Array())))).toBe("second!");
    });

    test("a key and a key under it as a prefix are independent objects", async () => {
      const base = `contract/nested/${crypto.randomUUID()}`;
      await store.put(base, new Uint8Array([1]), { contentType: "application/octet-stream" });
      await store.put(`${base}/child`, new Uint8Array([2, 2]), { contentType: "application/octet-stream" });
      expect((await store.head(base))?.contentLength).toBe(1);
      expect((await store.head(`${base}/child`))?.contentLength).toBe(2);
    });

    test("concurrent puts to one key leave one whole body, never a mix", async () => {
      const k = key("race");
      const a = randomBytes(1024 * 1024);
      const b = randomBytes(1024 * 1024);
      await Promise.all([store.put(k, streamOf(a), { contentType: "application/octet-stream" }), store.put(k, streamOf(b), { contentType: "application/octet-stream" })]);
      const got = await readAll((await store.get(k))?.body ?? streamOf(new Uint8Array()));
      expect(got.byteLength).toBe(a.byteLength);
      if (backend.atomicPut) {
        expect(firstDifference(got, a) === null || firstDifference(got, b) === null).toBe(true);
      }
    });

    test("a reader may stop early and the store keeps working", async () => {
      const k = key("cancel");
      const bytes = randomBytes(1024 * 1024);
      await store.put(k, bytes, { contentType: "application/octet-stream" });
      const first = await store.get(k);
      const reader = first?.body.getReader();
      expect((await reader?.read())?.done).toBe(false);
      await reader?.cancel();
      const again = await store.get(k);
      expect(firstDifference(await readAll(again?.body ?? streamOf(new Uint8Array())), bytes)).toBeNull();
    });

    test("bad keys are refused with VALIDATION_FAILED by every operation", async () => {
      for (const bad of BAD_KEYS) {
        await expectAppError(store.put(bad, new Uint8Array([1]), { contentType: "text/plain" }), "VALIDATION_FAILED");
        await expectAppError(store.get(bad), "VALIDATION_FAILED");
        await expectAppError(store.head(bad), "VALIDATION_FAILED");
        await expectAppError(store.exists(bad), "VALIDATION_FAILED");
        await expectAppError(store.delete(bad), "VALIDATION_FAILED");
        if (store.presignGet) await expectAppError(store.presignGet(bad, 60), "VALIDATION_FAILED");
      }
    });

    test("a body that disagrees with contentLength is refused and nothing is stored", async () => {
      const k = key("length");
      const bytes = new Uint8Array(100).fill(7);
      await expectAppError(store.put(k, bytes, { contentType: "x/y", contentLength: 99 }), "VALIDATION_FAILED");
      await expectAppError(store.put(k, streamOf(bytes), { contentType: "x/y", contentLength: 99 }), "VALIDATION_FAILED");
      await expectAppError(store.put(k, streamOf(bytes), { contentType: "x/y", contentLength: 101 }), "VALIDATION_FAILED");
      expect(await store.exists(k)).toBe(false);
    });

    test("an endless stream is cut off at the size cap, cancelled, and nothing is stored", async () => {
      const small = backend.makeStore({ maxObjectBytes: 256 * 1024 });
      const k = key("endless");
      const { stream, stats } = endlessStream(16 * 1024);
      await expectAppError(small.put(k, stream, { contentType: "x/y" }), "PAYLOAD_TOO_LARGE");
      expect(stats.cancelled).toBe(true);
      // 16 chunks fill the cap exactly; the 17th crosses it. One spare pull for read-ahead.
      expect(stats.pulls).toBeLessThanOrEqual(18);
      expect(await small.exists(k)).toBe(false);
      await expectAppError(small.put(k, new Uint8Array(256 * 1024 + 1), { contentType: "x/y" }), "PAYLOAD_TOO_LARGE");
      await expectAppError(small.put(k, endlessStream(1).stream, { contentType: "x/y", contentLength: 256 * 1024 + 1 }), "PAYLOAD_TOO_LARGE");
    });

    test("presigned GET is offered and works over real HTTP when supported, absent otherwise", async () => {
      const { presignGet } = store;
      if (!backend.presigned) {
        expect(presignGet).toBeUndefined();
        return;
      }
      expect(presignGet).toBeFunction();
      if (!presignGet) return;
      const k = key("presign");
      const bytes = everyByteValue(8);
      await store.put(k, bytes, { contentType: "image/png" });
      const res = await fetch(await presignGet.call(store, k, 60));
      expect(res.status).toBe(200);
      expect(res.headers.get("content-type")).toBe("image/png");
      expect(firstDifference(new Uint8Array(await res.arrayBuffer()), bytes)).toBeNull();

      const missing = await fetch(await presignGet.call(store, key("presign-missing"), 60));
      expect(missing.status).toBe(404);
      await missing.arrayBuffer();
      await expect(presignGet.call(store, k, 0)).rejects.toThrow(RangeError);
    });

    test("presigned POST is offered and accepts a browser-style form upload when supported", async () => {
      const { presignPost } = store;
      if (!backend.presigned) {
        expect(presignPost).toBeUndefined();
        return;
      }
      expect(presignPost).toBeFunction();
      if (!presignPost) return;
      const post = await presignPost.call(store, {
        keyPrefix: "uploads/contract/",
        maxBytes: 4096,
        contentTypes: ["image/png"],
        ttlSeconds: 300,
      });
      expect(post.key).toStartWith("uploads/contract/");
      // The size limit lives in the signed policy (s3rver does not enforce it; S3 does).
      const policy = JSON.parse(Buffer.from(post.fields.Policy ?? "", "base64").toString("utf8")) as {
        conditions: unknown[];
      };
      expect(policy.conditions).toContainEqual(["content-length-range", 1, 4096]);
      expect(policy.conditions).toContainEqual(["eq", "$Content-Type", "image/png"]);

      const bytes = everyByteValue(2);
      const form = new FormData();
      for (const [field, value] of Object.entries(post.fields)) form.append(field, value);
      form.append("file", new Blob([new Uint8Array(bytes)], { type: "image/png" }), "logo.png");
      const res = await fetch(post.url, { method: "POST", body: form });
      expect(res.status).toBeLessThan(300);
      await res.arrayBuffer();
      const got = await store.get(post.key);
      expect(got?.contentType).toBe("image/png");
      expect(firstDifference(await readAll(got?.body ?? streamOf(new Uint8Array())), bytes)).toBeNull();

      const several = await presignPost.call(store, {
        keyPrefix: "uploads/contract/",
        maxBytes: 10,
        contentTypes: ["image/png", "image/jpeg"],
        ttlSeconds: 60,
      });
      const severalPolicy = JSON.parse(Buffer.from(several.fields.Policy ?? "", "base64").toString("utf8")) as {
        conditions: unknown[];
      };
      expect(severalPolicy.conditions).toContainEqual(["starts-with", "$Content-Type", "image/"]);
      await expect(presignPost.call(store, { keyPrefix: "../", maxBytes: 10, contentTypes: ["image/png"], ttlSeconds: 60 })).rejects.toThrow(AppError);
    });
  });
}
