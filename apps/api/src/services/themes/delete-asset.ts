import { ConflictError, NotFoundError, THEME_ASSET_SLOTS, type ThemeAssetUsage } from "@raptscallions/core";
import { groups, themeAssets } from "@raptscallions/db";
import { and, eq, isNotNull, or, sql } from "drizzle-orm";
import { recordAudit } from "../audit/record.ts";
import { loadGroupFor } from "./context.ts";
import type { ServiceContext } from "../context.ts";
import { themeCache } from "./theme-cache.ts";
import { flattenOverrides, nestOverrides } from "./theme-fields.ts";

/**
 * `DELETE /api/groups/:id/theme/assets/:assetId`. An asset can only be used by its own group's
 * theme or a descendant's, so that subtree is searched. In use → 409 naming every use, unless
 * `force`, which also removes it from those themes (they fall back to what they inherit).
 *
 * The row is deleted *first* in the transaction: that takes its lock, so a concurrent theme
 * write that references it (`FOR SHARE`, update-theme.ts) has either committed — and is seen by
 * the usage query — or will find the asset gone.
 */
export async function deleteThemeAsset({
  ctx,
  input,
}: {
  ctx: ServiceContext;
  input: { groupId: string; assetId: string; force: boolean };
}): Promise<{ id: string; removedFrom: ThemeAssetUsage[] }> {
  const { deleted, usage } = await ctx.db.transaction(async (tx) => {
    const group = await loadGroupFor(tx, ctx.actor, input.groupId, { manage: true });
    const [deleted] = await tx
      .delete(themeAssets)
      .where(and(eq(themeAssets.id, input.assetId), eq(themeAssets.groupId, group.id)))
      .returning();
    if (!deleted) throw new NotFoundError("Theme asset");

    const usesAsset = or(...THEME_ASSET_SLOTS.map((slot) => sql`${groups.theme} -> 'assets' ->> ${slot} = ${deleted.id}`));
    const users = await tx
      .select({ id: groups.id, name: groups.name, theme: groups.theme })
      .from(groups)
      .where(and(sql`${groups.path} <@ ${group.path}::ltree`, isNotNull(groups.theme), usesAsset))
      .orderBy(sql`nlevel(${groups.path})`, groups.id)
      .for("update");
    const usage: ThemeAssetUsage[] = users.map((u) => ({
      groupId: u.id,
      groupName: u.name,
      slots: THEME_ASSET_SLOTS.filter((slot) => flattenOverrides(u.theme).flat[`assets.${slot}`] === deleted.id),
    }));
    if (usage.length > 0 && !input.force) {
      throw new ConflictError("The asset is still used by a theme; remove it there first, or delete with ?force=true", {
        usedBy: usage,
      });
    }
    for (const user of users) {
      const { flat } = flattenOverrides(user.theme);
      for (const slot of THEME_ASSET_SLOTS) if (flat[`assets.${slot}`] === deleted.id) delete flat[`assets.${slot}`];
      await tx
        .update(groups)
        .set({ theme: nestOverrides(flat) })
        .where(eq(groups.id, user.id));
    }
    await recordAudit(tx, ctx, {
      action: "theme.asset.delete",
      targetType: "theme_asset",
      targetId: deleted.id,
      groupId: group.id,
      details: { sha256: deleted.sha256, key: deleted.key, force: input.force, removedFrom: usage },
    });
    return { deleted, usage };
  });

  if (usage.length > 0) await themeCache(ctx.kv, ctx.logger).invalidate(usage.map((u) => u.groupId));
  // The object goes after the commit (a rollback must not lose bytes a row still names), and
  // only if no new row took the same content-addressed key in the meantime.
  try {
    const [again] = await ctx.db.select({ id: themeAssets.id }).from(themeAssets).where(eq(themeAssets.key, deleted.key));
    if (!again) await ctx.blob.delete(deleted.key);
  } catch (err) {
    ctx.logger.warn("theme asset row deleted but its object could not be removed", { key: deleted.key, err });
  }
  return { id: deleted.id, removedFrom: usage };
}
