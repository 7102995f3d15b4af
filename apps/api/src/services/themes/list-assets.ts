import type { ThemeAssetListResponse } from "@raptscallions/core";
import { idsFromPath, themeAssets } from "@raptscallions/db";
import { desc, eq, inArray } from "drizzle-orm";
import { toThemeAssetDto } from "./asset-dto.ts";
import { loadGroupFor } from "./context.ts";
import type { ServiceContext } from "../context.ts";

/**
 * `GET /api/groups/:id/theme/assets`: the group's own assets, or with `inherited` also its
 * ancestors' (everything this group's theme may point at). For the group's administrators.
 */
export async function listThemeAssets({ ctx, input }: { ctx: ServiceContext; input: { groupId: string; inherited: boolean } }): Promise<ThemeAssetListResponse> {
  const group = await loadGroupFor(ctx.db, ctx.actor, input.groupId, { manage: true });
  const owners = input.inherited ? inArray(themeAssets.groupId, idsFromPath(group.path)) : eq(themeAssets.groupId, group.id);
  const rows = await ctx.db.select().from(themeAssets).where(owners).orderBy(desc(themeAssets.createdAt), desc(themeAssets.id));
  return { items: rows.map(toThemeAssetDto) };
}
