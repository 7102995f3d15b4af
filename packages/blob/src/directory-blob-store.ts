import { createHash, randomUUID } from "node:crypto";
import { constants } from "node:fs";
import { access, mkdir, open, rename, unlink } from "node:fs/promises";
import type { FileHandle } from "node:fs/promises";
import { join } from "node:path";
import { AppError } from "@raptscallions/core";
import { DEFAULT_MAX_OBJECT_BYTES } from "./blob-store.ts";
import type { BlobHead, BlobObject, BlobStore } from "./blob-store.ts";
import { assertContentLength, checkLength, tooLarge } from "./body.ts";
import { assertValidKey } from "./keys.ts";

/** Configuration of {@link createDirectoryBlobStore}. */
export interface DirectoryBlobStoreConfig {
  /** Directory that holds everything; created on first use. */
  root: string;
  /** Largest object `put` accepts. Default 64 MiB, like the S3 store. */
  maxObjectBytes?: number;
}

// Trailer layout, after the body: UTF-8 JSON metadata, its length as uint32 BE, then MAGIC.
// A trailer rather than a header lets a stream of unknown length be written in one pass, and
// keeping metadata in the same file as the bytes means one rename publishes both atomically.
const MAGIC = new TextEncoder().encode("RBL1");
const TRAILER_FIXED = 4 + MAGIC.byteLength;
const READ_CHUNK = 64 * 1024;

interface StoredMeta {
  key: string;
  contentType: string;
  contentLength: number;
  etag: string;
  cacheControl?: string;
  lastModified: string;
}

/**
 * The embedded {@link BlobStore}: one file per object under `root/objects/`, named by the SHA-256
 * of its key (so no key, however odd, can name a path of its choosing, and `a` and `a/b` can both
 * exist). Writes go to `root/tmp/` and are renamed into place, so a reader sees the old object or
 * the new one, never a partial file; an open reader keeps the version it opened.
 */
export function createDirectoryBlobStore(config: DirectoryBlobStoreConfig): BlobStore {
  const { root } = config;
  const maxObjectBytes = config.maxObjectBytes ?? DEFAULT_MAX_OBJECT_BYTES;
  const objectsDir = join(root, "objects");
  const tmpDir = join(root, "tmp");

  const objectPath = (key: string): string => {
    const digest = createHash("sha256").update(key).digest("hex");
    return join(objectsDir, digest.slice(0, 2), digest);
  };

  const readMeta = async (fh: FileHandle, key: string): Promise<StoredMeta> => {
    const { size } = await fh.stat();
    const fixed = new Uint8Array(TRAILER_FIXED);
    if (size < TRAILER_FIXED) throw corrupt(key);
    await fh.read(fixed, 0, TRAILER_FIXED, size - TRAILER_FIXED);
    const view = new DataView(fixed.buffer);
    const metaLength = view.getUint32(0);
    if (!MAGIC.every((b, i) => fixed[4 + i] === b) || metaLength > size - TRAILER_FIXED) {
      throw corrupt(key);
    }
    const metaBytes = new Uint8Array(metaLength);
    await fh.read(metaBytes, 0, metaLength, size - TRAILER_FIXED - metaLength);
    let meta: StoredMeta;
    try {
      meta = JSON.parse(new TextDecoder().decode(metaBytes)) as StoredMeta;
    } catch {
      throw corrupt(key);
    }
    if (meta.key !== key || meta.contentLength !== size - TRAILER_FIXED - metaLength) {
      throw corrupt(key);
    }
    return meta;
  };

  const openExisting = async (key: string): Promise<FileHandle | null> => {
    try {
      return await open(objectPath(key), "r");
    } catch (err) {
      if (isErrno(err, "ENOENT")) return null;
      throw err;
    }
  };

  const headOf = (meta: StoredMeta): BlobHead => ({
    contentType: meta.contentType,
    contentLength: meta.contentLength,
    etag: meta.etag,
    cacheControl: meta.cacheControl,
    lastModified: new Date(meta.lastModified),
  });

  return {
    async put(key, body, options) {
      assertValidKey(key);
      const { contentLength } = options;
      if (!(body instanceof Uint8Array)) {
        try {
          assertContentLength(contentLength, maxObjectBytes);
        } catch (err) {
          await body.cancel(err).catch(() => undefined);
          throw err;
        }
      } else {
        checkLength(body.byteLength, contentLength, maxObjectBytes);
      }
      await mkdir(tmpDir, { recursive: true });
      const tmpPath = join(tmpDir, randomUUID());
      const fh = await open(tmpPath, "wx");
      let published = false;
      try {
        const md5 = createHash("md5");
        let written = 0;
        const write = async (chunk: Uint8Array): Promise<void> => {
          written += chunk.byteLength;
          // With a declared length the body may not run past it; without one, the cap applies.
          if (written > (contentLength ?? maxObjectBytes)) {
            if (contentLength === undefined) throw tooLarge(maxObjectBytes);
            checkLength(written, contentLength, maxObjectBytes);
          }
          md5.update(chunk);
          await writeAll(fh, chunk);
        };
        if (body instanceof Uint8Array) {
          await write(body);
        } else {
          await pump(body, write);
        }
        checkLength(written, contentLength, maxObjectBytes);
        const meta: StoredMeta = {
          key,
          contentType: options.contentType,
          contentLength: written,
          etag: `"${md5.digest("hex")}"`,
          cacheControl: options.cacheControl,
          lastModified: new Date().toISOString(),
        };
        const metaBytes = new TextEncoder().encode(JSON.stringify(meta));
        const fixed = new Uint8Array(TRAILER_FIXED);
        new DataView(fixed.buffer).setUint32(0, metaBytes.byteLength);
        fixed.set(MAGIC, 4);
        await writeAll(fh, metaBytes);
        await writeAll(fh, fixed);
        // Flush before the rename: otherwise a crash can publish a name pointing at empty blocks.
        await fh.sync();
        await fh.close();
        const target = objectPath(key);
        await mkdir(join(target, ".."), { recursive: true });
        await rename(tmpPath, target);
        published = true;
      } finally {
        if (!published) {
          await fh.close().catch(() => undefined);
          await unlink(tmpPath).catch(() => undefined);
        }
      }
    },

    async get(key): Promise<BlobObject | null> {
      assertValidKey(key);
      const fh = await openExisting(key);
      if (!fh) return null;
      try {
        const meta = await readMeta(fh, key);
        return { ...headOf(meta), body: fileStream(fh, meta.contentLength) };
      } catch (err) {
        await fh.close().catch(() => undefined);
        throw err;
      }
    },

    async head(key) {
      assertValidKey(key);
      const fh = await openExisting(key);
      if (!fh) return null;
      try {
        return headOf(await readMeta(fh, key));
      } finally {
        await fh.close();
      }
    },

    async exists(key) {
      assertValidKey(key);
      try {
        await access(objectPath(key), constants.F_OK);
        return true;
      } catch (err) {
        if (isErrno(err, "ENOENT")) return false;
        throw err;
      }
    },

    async delete(key) {
      assertValidKey(key);
      try {
        await unlink(objectPath(key));
      } catch (err) {
        if (!isErrno(err, "ENOENT")) throw err;
      }
    },

    async ping() {
      try {
        await mkdir(objectsDir, { recursive: true });
        await mkdir(tmpDir, { recursive: true });
        await access(root, constants.R_OK | constants.W_OK);
      } catch (err) {
        throw new AppError("SERVICE_UNAVAILABLE", "Blob directory is not usable", { cause: err });
      }
    },
  };
}

/** Streams the first `length` bytes of an open file; the handle is closed at the end or on cancel. */
function fileStream(fh: FileHandle, length: number): ReadableStream<Uint8Array> {
  let position = 0;
  let closed = false;
  const close = async (): Promise<void> => {
    if (closed) return;
    closed = true;
    await fh.close();
  };
  return new ReadableStream<Uint8Array>({
    async pull(controller) {
      try {
        const want = Math.min(READ_CHUNK, length - position);
        if (want <= 0) {
          await close();
          controller.close();
          return;
        }
        const buf = new Uint8Array(want);
        const { bytesRead } = await fh.read(buf, 0, want, position);
        if (bytesRead === 0) throw new Error("Blob file ended early");
        position += bytesRead;
        controller.enqueue(bytesRead === want ? buf : buf.subarray(0, bytesRead));
      } catch (err) {
        await close().catch(() => undefined);
        controller.error(err);
      }
    },
    async cancel() {
      await close();
    },
  });
}

async function pump(stream: ReadableStream<Uint8Array>, write: (chunk: Uint8Array) => Promise<void>): Promise<void> {
  const reader = stream.getReader();
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) return;
      if (!(value instanceof Uint8Array)) {
        throw new AppError("BAD_REQUEST", "Body stream produced a non-binary chunk");
      }
      await write(value);
    }
  } catch (err) {
    await reader.cancel(err).catch(() => undefined);
    throw err;
  } finally {
    reader.releaseLock();
  }
}

async function writeAll(fh: FileHandle, bytes: Uint8Array): Promise<void> {
  let offset = 0;
  while (offset < bytes.byteLength) {
    const { bytesWritten } = await fh.write(bytes, offset, bytes.byteLength - offset);
    offset += bytesWritten;
  }
}

function isErrno(err: unknown, code: string): boolean {
  return typeof err === "object" && err !== null && (err as { code?: unknown }).code === code;
}

function corrupt(key: string): AppError {
  return new AppError("INTERNAL", "Stored blob is corrupt", { details: { key } });
}
