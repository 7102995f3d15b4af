import type { ThemeAsset } from "@raptscallions/core";
import type { themeAssets } from "@raptscallions/db";

export type ThemeAssetRow = typeof themeAssets.$inferSelect;

/**
 * The stable public URL of an asset. Relative, so it is right behind any proxy or host name;
 * immutable, because an asset id always names the same bytes.
 */
export function themeAssetUrl(assetId: string): string {
  return `/api/theme-assets/${assetId}`;
}

export function toThemeAssetDto(row: ThemeAssetRow): ThemeAsset {
  return {
    id: row.id,
    groupId: row.groupId,
    contentType: row.contentType,
    sizeBytes: row.sizeBytes,
    sha256: row.sha256,
    width: row.width,
    height: row.height,
    originalName: row.originalName,
    uploadedBy: row.uploadedBy,
    createdAt: row.createdAt.toISOString(),
    url: themeAssetUrl(row.id),
  };
}
