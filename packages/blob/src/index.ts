export type {
  BlobHead,
  BlobObject,
  BlobPutOptions,
  BlobStore,
  PresignedPost,
  PresignPostOptions,
} from "./blob-store.ts";
export { DEFAULT_MAX_OBJECT_BYTES } from "./blob-store.ts";
export { MAX_PRESIGN_TTL_SECONDS } from "./body.ts";
export { createDirectoryBlobStore } from "./directory-blob-store.ts";
export type { DirectoryBlobStoreConfig } from "./directory-blob-store.ts";
export { createS3BlobStore } from "./s3-blob-store.ts";
export type { S3BlobStoreConfig } from "./s3-blob-store.ts";
export { assertValidKey, contentAddressedKey, isValidKey, MAX_KEY_LENGTH } from "./keys.ts";
export { serveBlobHeaders } from "./serve-headers.ts";
export type { ServeBlobHeadersOptions } from "./serve-headers.ts";
export { readLimited } from "./images/read-limited.ts";
export { inspectImage } from "./images/inspect-image.ts";
export type { InspectedImage, InspectImageOptions } from "./images/inspect-image.ts";
export { fileNameExtension } from "./images/file-name.ts";
export { IMAGE_FORMATS } from "./images/formats.ts";
export type { ImageFormat } from "./images/formats.ts";
