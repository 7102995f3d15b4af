/** Options for {@link BlobStore.put}. */
export interface BlobPutOptions {
  /** Stored and returned verbatim by `get`/`head`; callers decide it from sniffed bytes. */
  contentType: string;
  /** When given, the body must be exactly this long or `put` rejects (VALIDATION_FAILED). */
  contentLength?: number;
  /** Stored with the object (S3 `Cache-Control`); returned by `head`/`get`. */
  cacheControl?: string;
}

/** What `head` knows about a stored object. */
export interface BlobHead {
  contentType: string;
  contentLength: number;
  /** Opaque version tag; changes when the bytes change. */
  etag?: string;
  cacheControl?: string;
  lastModified?: Date;
}

/** A stored object with its bytes. The body must be consumed or cancelled. */
export interface BlobObject extends BlobHead {
  body: ReadableStream<Uint8Array>;
}

/** Options for {@link BlobStore.presignPost}. */
export interface PresignPostOptions {
  /** The object lands at `<keyPrefix><random id>`; a prefix like `uploads/<groupId>/`. */
  keyPrefix: string;
  /** Upper bound enforced by S3 through a `content-length-range` policy condition. */
  maxBytes: number;
  /** The Content-Type values the client may send (see README: a POST policy cannot say "one of"). */
  contentTypes: readonly string[];
  /** Lifetime of the form in seconds. */
  ttlSeconds: number;
}

/** A browser-submittable upload form: POST multipart to `url` with `fields`, then the `file` field. */
export interface PresignedPost {
  url: string;
  fields: Record<string, string>;
  /** The exact key the upload will be stored under. */
  key: string;
}

/**
 * Where blob bytes live: S3 (or any S3-protocol server) in production, a local directory by
 * default. Keys are checked by `assertValidKey`; a bad key throws AppError VALIDATION_FAILED.
 * Missing objects are `null` / `false`, never an error; `delete` of a missing key succeeds.
 */
export interface BlobStore {
  /** Stores `body` under `key`, replacing any previous object. Readers never see a partial object. */
  put(key: string, body: Uint8Array | ReadableStream<Uint8Array>, options: BlobPutOptions): Promise<void>;
  get(key: string): Promise<BlobObject | null>;
  head(key: string): Promise<BlobHead | null>;
  delete(key: string): Promise<void>;
  exists(key: string): Promise<boolean>;
  /** Resolves when the store can serve requests (readiness probe); rejects otherwise. */
  ping(): Promise<void>;
  /** A time-limited URL that GETs the object directly from the store, when the store has URLs. */
  presignGet?(key: string, ttlSeconds: number): Promise<string>;
  /** A time-limited browser upload form, when the store supports POST policies. */
  presignPost?(options: PresignPostOptions): Promise<PresignedPost>;
}

/** Default cap on one object's size when a store must hold a body in memory or on disk. */
export const DEFAULT_MAX_OBJECT_BYTES = 64 * 1024 * 1024;
