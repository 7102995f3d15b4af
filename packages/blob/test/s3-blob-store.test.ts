import { describe, expect, test } from "bun:test";
import { AppError } from "@raptscallions/core";
import { createS3BlobStore } from "../src/index.ts";
import { runBlobStoreContract } from "./blob-store-contract.ts";
import { S3RVER_CREDENTIALS, startS3rver } from "./s3rver-harness.ts";

const REGION = "us-east-1";

runBlobStoreContract("S3 (against a real s3rver)", async () => {
  const server = await startS3rver();
  const bucket = `contract-${crypto.randomUUID().slice(0, 8)}`;
  return {
    atomicPut: false,
    presigned: true,
    makeStore: (options = {}) =>
      createS3BlobStore({
        endpoint: server.endpoint,
        region: REGION,
        bucket,
        ...S3RVER_CREDENTIALS,
        createBucket: true,
        maxObjectBytes: options.maxObjectBytes,
      }),
    teardown: () => server.stop(),
  };
});

describe("createS3BlobStore", () => {
  test("without createBucket a missing bucket fails readiness; with it the bucket is made", async () => {
    const server = await startS3rver();
    try {
      const config = { endpoint: server.endpoint, region: REGION, bucket: "not-created-yet", ...S3RVER_CREDENTIALS };
      const plain = createS3BlobStore(config);
      const err = await plain.ping().catch((e: unknown) => e);
      expect(err).toBeInstanceOf(AppError);
      expect((err as AppError).code).toBe("SERVICE_UNAVAILABLE");

      const creating = createS3BlobStore({ ...config, createBucket: true });
      await creating.ping();
      await plain.ping(); // the bucket now exists for everyone
      // A second creating store finds the bucket already there and carries on.
      await createS3BlobStore({ ...config, createBucket: true }).ping();
    } finally {
      await server.stop();
    }
  });

  test("refuses half a credential pair", () => {
    expect(() => createS3BlobStore({ region: REGION, bucket: "b-b-b", accessKeyId: "only-the-id" })).toThrow(/together/);
  });

  test("an unreachable endpoint surfaces as SERVICE_UNAVAILABLE, not a raw SDK error", async () => {
    // Port 9 (discard) on loopback is closed on test machines: the connection is refused fast.
    const store = createS3BlobStore({
      endpoint: "http://127.0.0.1:9",
      region: REGION,
      bucket: "nowhere",
      ...S3RVER_CREDENTIALS,
    });
    const err = await store.head("some/key").catch((e: unknown) => e);
    expect(err).toBeInstanceOf(AppError);
    expect((err as AppError).code).toBe("SERVICE_UNAVAILABLE");
  });
});
