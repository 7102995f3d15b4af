import { CreateBucketCommand, DeleteObjectCommand, GetObjectCommand, HeadBucketCommand, HeadObjectCommand, PutObjectCommand, S3Client } from "@aws-sdk/client-s3";
import type { S3ClientConfig } from "@aws-sdk/client-s3";
import { createPresignedPost } from "@aws-sdk/s3-presigned-post";
import { getSignedUrl } from "@aws-sdk/s3-request-presigner";
import { AppError } from "@raptscallions/core";
import { DEFAULT_MAX_OBJECT_BYTES } from "./blob-store.ts";
import type { BlobHead, BlobStore, PresignedPost, PresignPostOptions } from "./blob-store.ts";
import { toBytes, assertTtl, commonPrefix } from "./body.ts";
import { assertValidKey } from "./keys.ts";

/** Configuration of {@link createS3BlobStore}. */
export interface S3BlobStoreConfig {
  /** Set for any non-AWS server (MinIO, R2, s3rver...): switches on path-style and lazy checksums. */
  endpoint?: string;
  region: string;
  bucket: string;
  /** Both or neither; without them the SDK's default credential chain is used. */
  accessKeyId?: string;
  secretAccessKey?: string;
  /** Defaults to true when `endpoint` is set, false for AWS itself. */
  forcePathStyle?: boolean;
  /** Create the bucket on first use if it does not exist (dev and tests). */
  createBucket?: boolean;
  /** Largest object `put` accepts; streamed bodies are buffered up to this. Default 64 MiB. */
  maxObjectBytes?: number;
}

/**
 * A {@link BlobStore} on S3 or an S3-protocol server.
 *
 * Streamed bodies are read into memory (bounded by `maxObjectBytes`) and sent as one PutObject
 * with a known Content-Length. Theme assets are small and the upload path has already bounded
 * them with `readLimited`, so a multipart upload would only add round trips and orphaned-part
 * cleanup; it also sidesteps aws-chunked streaming, which s3rver stores corrupted.
 */
export function createS3BlobStore(config: S3BlobStoreConfig): BlobStore {
  const { bucket } = config;
  const maxObjectBytes = config.maxObjectBytes ?? DEFAULT_MAX_OBJECT_BYTES;
  const client = new S3Client(clientConfig(config));

  let bucketReady: Promise<void> | undefined;
  const ensureBucket = (): Promise<void> => {
    if (!config.createBucket) return Promise.resolve();
    bucketReady ??= createBucketIfMissing(client, bucket).catch((err: unknown) => {
      // Forget the failure so the next call (e.g. the next readiness probe) tries again.
      bucketReady = undefined;
      throw err;
    });
    return bucketReady;
  };

  const headObject = async (key: string): Promise<BlobHead | null> => {
    try {
      return headOf(await client.send(new HeadObjectCommand({ Bucket: bucket, Key: key })));
    } catch (err) {
      if (isNotFound(err)) return null;
      throw unavailable("head", err);
    }
  };

  return {
    async put(key, body, options) {
      assertValidKey(key);
      const bytes = await toBytes(body, options.contentLength, maxObjectBytes);
      await ensureBucket();
      try {
        await client.send(
          new PutObjectCommand({
            Bucket: bucket,
            Key: key,
            Body: bytes,
            ContentLength: bytes.byteLength,
            ContentType: options.contentType,
            CacheControl: options.cacheControl,
          }),
        );
      } catch (err) {
        throw unavailable("put", err);
      }
    },

    async get(key) {
      assertValidKey(key);
      await ensureBucket();
      try {
        const out = await client.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
        if (!out.Body) throw new Error("GetObject returned no body");
        return { body: out.Body.transformToWebStream() as ReadableStream<Uint8Array>, ...headOf(out) };
      } catch (err) {
        if (isNotFound(err)) return null;
        throw unavailable("get", err);
      }
    },

    async head(key) {
      assertValidKey(key);
      await ensureBucket();
      return headObject(key);
    },

    async exists(key) {
      assertValidKey(key);
      await ensureBucket();
      return (await headObject(key)) !== null;
    },

    async delete(key) {
      assertValidKey(key);
      await ensureBucket();
      try {
        // DeleteObject succeeds for a missing key, which is the contract we want.
        await client.send(new DeleteObjectCommand({ Bucket: bucket, Key: key }));
      } catch (err) {
        throw unavailable("delete", err);
      }
    },

    async ping() {
      await ensureBucket();
      try {
        await client.send(new HeadBucketCommand({ Bucket: bucket }));
      } catch (err) {
        throw unavailable("ping", err);
      }
    },

    async presignGet(key, ttlSeconds) {
      assertValidKey(key);
      assertTtl(ttlSeconds);
      return getSignedUrl(client, new GetObjectCommand({ Bucket: bucket, Key: key }), {
        expiresIn: ttlSeconds,
      });
    },

    async presignPost(options: PresignPostOptions): Promise<PresignedPost> {
      const { keyPrefix, maxBytes, contentTypes, ttlSeconds } = options;
      const key = `${keyPrefix}${crypto.randomUUID()}`;
      assertValidKey(key);
      assertTtl(ttlSeconds);
      if (!Number.isSafeInteger(maxBytes) || maxBytes < 1) {
        throw new RangeError(`maxBytes must be a positive integer, got ${maxBytes}`);
      }
      if (contentTypes.length === 0) throw new RangeError("contentTypes must not be empty");
      // A POST policy has no "one of" condition: one type is pinned with `eq`, several share a
      // `starts-with` on their common prefix. Either way the bytes are sniffed after upload.
      const only = contentTypes.length === 1 ? contentTypes[0] : undefined;
      const typeCondition: ["eq" | "starts-with", string, string] =
        only !== undefined ? ["eq", "$Content-Type", only] : ["starts-with", "$Content-Type", commonPrefix(contentTypes)];
      const post = await createPresignedPost(client, {
        Bucket: bucket,
        Key: key,
        Conditions: [["content-length-range", 1, maxBytes], typeCondition],
        Fields: only !== undefined ? { "Content-Type": only } : {},
        Expires: ttlSeconds,
      });
      return { url: post.url, fields: post.fields, key };
    },
  };
}

function clientConfig(config: S3BlobStoreConfig): S3ClientConfig {
  const out: S3ClientConfig = { region: config.region };
  if (config.endpoint !== undefined) {
    out.endpoint = config.endpoint;
    // Non-AWS servers: virtual-host buckets need DNS they do not have, and the SDK's default
    // checksums make presigned PUTs carry an empty-body checksum and streamed bodies go out
    // aws-chunked, which such servers mis-store (framing bytes end up in the stored object).
    out.forcePathStyle = config.forcePathStyle ?? true;
    out.requestChecksumCalculation = "WHEN_REQUIRED";
    out.responseChecksumValidation = "WHEN_REQUIRED";
  } else if (config.forcePathStyle !== undefined) {
    out.forcePathStyle = config.forcePathStyle;
  }
  const { accessKeyId, secretAccessKey } = config;
  if ((accessKeyId === undefined) !== (secretAccessKey === undefined)) {
    throw new Error("S3 accessKeyId and secretAccessKey must be given together");
  }
  if (accessKeyId !== undefined && secretAccessKey !== undefined) {
    out.credentials = { accessKeyId, secretAccessKey };
  }
  return out;
}

async function createBucketIfMissing(client: S3Client, bucket: string): Promise<void> {
  try {
    await client.send(new HeadBucketCommand({ Bucket: bucket }));
    return;
  } catch (err) {
    if (!isNotFound(err)) throw unavailable("create bucket", err);
  }
  try {
    await client.send(new CreateBucketCommand({ Bucket: bucket }));
  } catch (err) {
    // Another instance may have created it between our HEAD and CREATE.
    const name = errorName(err);
    if (name !== "BucketAlreadyOwnedByYou" && name !== "BucketAlreadyExists") {
      throw unavailable("create bucket", err);
    }
  }
}

function errorName(err: unknown): string | undefined {
  return err instanceof Error ? err.name : undefined;
}

function isNotFound(err: unknown): boolean {
  const name = errorName(err);
  if (name === "NoSuchKey" || name === "NotFound") return true;
  if (typeof err === "object" && err !== null && "$metadata" in err) {
    const meta = (err as { $metadata?: { httpStatusCode?: number } }).$metadata;
    // HEAD responses have no body, so the SDK can only report the status; a GET on a missing
    // bucket is a configuration error and keeps its NoSuchBucket name.
    return meta?.httpStatusCode === 404 && name !== "NoSuchBucket";
  }
  return false;
}

function unavailable(operation: string, cause: unknown): AppError {
  if (cause instanceof AppError) return cause;
  return new AppError("SERVICE_UNAVAILABLE", `Blob store ${operation} failed`, { cause });
}

/** A HEAD's or GET's object metadata, with the defaults S3-protocol servers may leave out. */
function headOf(out: { ContentType?: string; ContentLength?: number; ETag?: string; CacheControl?: string; LastModified?: Date }): BlobHead {
  return {
    contentType: out.ContentType ?? "application/octet-stream",
    contentLength: out.ContentLength ?? 0,
    etag: out.ETag,
    cacheControl: out.CacheControl,
    lastModified: out.LastModified,
  };
}
