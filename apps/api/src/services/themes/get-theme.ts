import { type ResolvedTheme, type ResolvedThemeValues, THEME_ASSET_SLOTS, THEME_COLOUR_SLOTS, type ThemeAsset } from "@raptscallions/core";
import { type DbOrTx, themeAssets } from "@raptscallions/db";
import { inArray } from "drizzle-orm";
import type { Logger } from "../../lib/logger.ts";
import { toThemeAssetDto } from "./asset-dto.ts";
import { loadChain, loadGroupFor, type ThemeGroup } from "./context.ts";
import type { ServiceContext } from "../context.ts";
import { themeCache } from "./theme-cache.ts";
import { assetRefs, type ChainLink, flattenOverrides, nestOverrides, resolveChain } from "./theme-fields.ts";

/**
 * `GET /api/groups/:id/theme`: the resolved theme of a group anyone who can view it may read.
 * Access is checked against the database on every call; only the resolution is cached.
 */
export async function getGroupTheme({ ctx, input }: { ctx: ServiceContext; input: { groupId: string } }): Promise<ResolvedTheme> {
  const group = await loadGroupFor(ctx.db, ctx.actor, input.groupId);
  // The cache key (generations) is read before the database: see theme-cache.ts.
  const cache = themeCache(ctx.kv, ctx.logger);
  const key = await cache.keyFor(group.path);
  if (key) {
    const hit = await cache.get(key);
    const cached = hit ? parseCached(hit) : undefined;
    if (cached) return cached;
  }
  const resolved = await resolveGroupTheme(ctx.db, group, ctx.logger);
  if (key) await cache.set(key, JSON.stringify(resolved));
  return resolved;
}

// A cache entry is our own JSON, but a corrupt one must cost a recomputation, not a 400/500.
function parseCached(text: string): ResolvedTheme | undefined {
  try {
    return JSON.parse(text) as ResolvedTheme;
  } catch {
    return undefined;
  }
}

/** Resolves from the database: system default → root → … → the group, per field. */
export async function resolveGroupTheme(db: DbOrTx, group: ThemeGroup, logger: Logger): Promise<ResolvedTheme> {
  const chainRows = await loadChain(db, group.path);
  const chain: ChainLink[] = chainRows.map((row) => {
    const { flat, dropped } = flattenOverrides(row.theme);
    if (dropped.length > 0) logger.warn("ignoring invalid stored theme fields", { groupId: row.id, fields: dropped });
    return { groupId: row.id, overrides: flat };
  });
  const { values, sources } = resolveChain(chain);

  const refs = chain.flatMap((link) => assetRefs(link.overrides).map((r) => r.assetId));
  const rows =
    refs.length > 0
      ? await db
          .select()
          .from(themeAssets)
          .where(inArray(themeAssets.id, [...new Set(refs)]))
      : [];
  const byId = new Map(rows.map((r) => [r.id, r]));
  const depth = new Map(chain.map((link, index) => [link.groupId, index]));

  const assets = {} as Record<(typeof THEME_ASSET_SLOTS)[number], ThemeAsset | null>;
  for (const slot of THEME_ASSET_SLOTS) {
    const value = values[`assets.${slot}`];
    const source = sources[`assets.${slot}`];
    const row = value ? byId.get(value) : undefined;
    const ownerDepth = row ? depth.get(row.groupId) : undefined;
    const sourceDepth = source ? depth.get(source) : undefined;
    // An asset must belong to the group that chose it or one of its ancestors. Writes check
    // this; re-checking here keeps a theme honest after a group is moved or an asset deleted.
    const usable = ownerDepth !== undefined && sourceDepth !== undefined && ownerDepth <= sourceDepth;
    assets[slot] = row && usable ? toThemeAssetDto(row) : null;
  }

  const theme: ResolvedThemeValues = {
    colors: Object.fromEntries(THEME_COLOUR_SLOTS.map((slot) => [slot, values[`colors.${slot}`] ?? ""])) as ResolvedThemeValues["colors"],
    font: values.font as ResolvedThemeValues["font"],
    layout: {
      density: values["layout.density"] as ResolvedThemeValues["layout"]["density"],
      cornerRadius: values["layout.cornerRadius"] as ResolvedThemeValues["layout"]["cornerRadius"],
      sidebarPosition: values["layout.sidebarPosition"] as ResolvedThemeValues["layout"]["sidebarPosition"],
    },
    assets,
  };
  const own = chain.at(-1);
  return {
    groupId: group.id,
    theme,
    sources,
    overrides: (own && nestOverrides(own.overrides)) ?? {},
  };
}
