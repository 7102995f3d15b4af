import { contentAddressedKey, inspectImage } from "@raptscallions/blob";
import { ConflictError, NotFoundError, type ThemeAssetUploadResponse } from "@raptscallions/core";
import { themeAssets } from "@raptscallions/db";
import { and, eq } from "drizzle-orm";
import { toThemeAssetDto, type ThemeAssetRow } from "./asset-dto.ts";
import { recordAudit } from "../audit/record.ts";
import { loadGroupFor } from "./context.ts";
import type { ServiceContext } from "../context.ts";

/** Largest width or height accepted for any theme image (a 4K background fits). */
export const MAX_ASSET_DIMENSION = 4096;

/** The uploaded file as the HTTP layer read it: nothing here is trusted yet. */
export interface UploadedFile {
  bytes: Uint8Array;
  fileName: string;
  declaredType: string | undefined;
}

/**
 * `POST /api/groups/:id/theme/assets`. The actor's right to upload is checked *before* the body
 * is read (`readFile` reads it, bounded); the bytes are then judged by `inspectImage` before
 * anything is stored, so a refused upload leaves no blob and no row. The key is content-addressed
 * (group + sha256): the same file uploaded twice is stored once and the second call returns the
 * existing asset with `created: false`.
 */
export async function uploadThemeAsset({
  ctx,
  input,
}: {
  ctx: ServiceContext;
  input: { groupId: string; readFile: () => Promise<UploadedFile> };
}): Promise<ThemeAssetUploadResponse> {
  const group = await loadGroupFor(ctx.db, ctx.actor, input.groupId, { manage: true });
  const file = await input.readFile();
  const image = await inspectImage(file.bytes, {
    fileName: file.fileName,
    declaredType: file.declaredType,
    maxWidth: MAX_ASSET_DIMENSION,
    maxHeight: MAX_ASSET_DIMENSION,
  });
  const key = contentAddressedKey(group.id, image.sha256, image.extension);
  const putOptions = {
    contentType: image.contentType,
    contentLength: image.bytes.byteLength,
    cacheControl: "public, max-age=31536000, immutable",
  };

  const existing = await findBySha(ctx, group.id, image.sha256);
  if (existing) {
    // Heal a row whose object went missing (e.g. lost by the store, or a delete that raced).
    if (!(await ctx.blob.exists(existing.key))) await ctx.blob.put(existing.key, image.bytes, putOptions);
    return { asset: toThemeAssetDto(existing), created: false };
  }

  // Bytes first, row second: a row never points at a missing object. If the row cannot be
  // written, the object is removed again unless another upload of the same bytes owns it now.
  await ctx.blob.put(key, image.bytes, putOptions);
  let inserted: ThemeAssetRow | undefined;
  try {
    inserted = await ctx.db.transaction(async (tx) => {
      const [row] = await tx
        .insert(themeAssets)
        .values({
          groupId: group.id,
          key,
          contentType: image.contentType,
          sizeBytes: image.bytes.byteLength,
          sha256: image.sha256,
          width: image.width,
          height: image.height,
          originalName: file.fileName,
          uploadedBy: ctx.actor.userId,
        })
        .onConflictDoNothing()
        .returning();
      if (row) {
        await recordAudit(tx, ctx, {
          action: "theme.asset.upload",
          targetType: "theme_asset",
          targetId: row.id,
          groupId: group.id,
          details: {
            sha256: row.sha256,
            contentType: row.contentType,
            sizeBytes: row.sizeBytes,
            originalName: row.originalName,
          },
        });
      }
      return row;
    });
  } catch (err) {
    await removeOrphan(ctx, key);
    // The group was deleted between the check and the insert (foreign key): it is gone.
    if (isForeignKeyViolation(err)) throw new NotFoundError("Group");
    throw err;
  }
  if (inserted) return { asset: toThemeAssetDto(inserted), created: true };

  // A concurrent upload of the same bytes won the unique (group, sha256) race: same asset.
  const winner = await findBySha(ctx, group.id, image.sha256);
  if (!winner) throw new ConflictError("The same file was uploaded and deleted concurrently; try again");
  return { asset: toThemeAssetDto(winner), created: false };
}

async function findBySha(ctx: ServiceContext, groupId: string, sha256: string): Promise<ThemeAssetRow | undefined> {
  const [row] = await ctx.db
    .select()
    .from(themeAssets)
    .where(and(eq(themeAssets.groupId, groupId), eq(themeAssets.sha256, sha256)));
  return row;
}

async function removeOrphan(ctx: ServiceContext, key: string): Promise<void> {
  try {
    const [owner] = await ctx.db.select({ id: themeAssets.id }).from(themeAssets).where(eq(themeAssets.key, key));
    if (!owner) await ctx.blob.delete(key);
  } catch (cleanupErr) {
    ctx.logger.warn("could not remove an orphaned theme asset object", { key, err: cleanupErr });
  }
}

// Drizzle wraps the driver's error (postgres-js or PGlite) as `cause`; both carry the SQLSTATE.
function isForeignKeyViolation(err: unknown): boolean {
  let e: unknown = err;
  for (let depth = 0; depth < 5 && typeof e === "object" && e !== null; depth++) {
    if ((e as { code?: unknown }).code === "23503") return true;
    e = (e as { cause?: unknown }).cause;
  }
  return false;
}
