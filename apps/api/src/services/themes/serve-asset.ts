import { serveBlobHeaders } from "@raptscallions/blob";
import { NotFoundError } from "@raptscallions/core";
import { groups, themeAssets } from "@raptscallions/db";
import { and, eq, isNull } from "drizzle-orm";
import type { Logger } from "../../lib/logger.ts";
import type { Principal, ServiceContext } from "../context.ts";

/** What the HTTP layer sends: 304 with headers only, or 200 with the object's bytes. */
export type ServedAsset = { status: 304; headers: Record<string, string> } | { status: 200; headers: Record<string, string>; body: ReadableStream<Uint8Array> | null };

/**
 * `GET /api/theme-assets/:assetId` — public (logos appear on sign-in pages, before anyone is
 * signed in). The ETag is the content hash, so a revalidation never touches the blob store.
 * Assets of deleted groups are not served.
 */
export async function serveThemeAsset({
  ctx,
  input,
}: {
  ctx: ServiceContext<Principal | null>;
  input: { assetId: string; ifNoneMatch: string | undefined; headOnly: boolean };
}): Promise<ServedAsset> {
  const [row] = await ctx.db
    .select({
      key: themeAssets.key,
      contentType: themeAssets.contentType,
      sha256: themeAssets.sha256,
      originalName: themeAssets.originalName,
    })
    .from(themeAssets)
    .innerJoin(groups, eq(groups.id, themeAssets.groupId))
    .where(and(eq(themeAssets.id, input.assetId), isNull(groups.deletedAt)));
  if (!row) throw new NotFoundError("Theme asset");
  const etag = `"${row.sha256}"`;
  const headers = { ...serveBlobHeaders(row.contentType, { fileName: row.originalName ?? undefined }), ETag: etag };
  if (input.ifNoneMatch !== undefined && matchesEtag(input.ifNoneMatch, etag)) return { status: 304, headers };

  // HEAD must not open the object: Hono drops a HEAD response's body without cancelling it,
  // which would leave a file handle (directory store) or a socket (S3) to the garbage collector.
  if (input.headOnly) {
    const head = await ctx.blob.head(row.key);
    if (!head) throw missingObject(ctx.logger, input.assetId, row.key);
    return { status: 200, headers: { ...headers, "Content-Length": String(head.contentLength) }, body: null };
  }
  const object = await ctx.blob.get(row.key);
  if (!object) throw missingObject(ctx.logger, input.assetId, row.key);
  return { status: 200, headers: { ...headers, "Content-Length": String(object.contentLength) }, body: object.body };
}

function missingObject(logger: Logger, assetId: string, key: string): NotFoundError {
  logger.error("theme asset row without a stored object", { assetId, key });
  return new NotFoundError("Theme asset");
}

/** RFC 9110 If-None-Match: `*`, or a list of (possibly weak) tags compared weakly. */
function matchesEtag(header: string, etag: string): boolean {
  if (header.trim() === "*") return true;
  return header.split(",").some((tag) => tag.trim().replace(/^W\//, "") === etag);
}
