import { type ApplyThemeTemplateInput, type ResolvedTheme, THEME_ASSET_SLOTS, THEME_TEMPLATES, type ThemePatch, ValidationError } from "@raptscallions/core";
import { type DbOrTx, groups, idsFromPath, themeAssets } from "@raptscallions/db";
import { eq, inArray } from "drizzle-orm";
import { recordAudit } from "../audit/record.ts";
import { loadGroupFor, type ThemeGroup } from "./context.ts";
import type { ServiceContext } from "../context.ts";
import { themeCache } from "./theme-cache.ts";
import { getGroupTheme } from "./get-theme.ts";
import { applyPatch, assetRefs, type FlatTheme, flattenOverrides, nestOverrides } from "./theme-fields.ts";

/**
 * One write path for the three ways a group's own theme changes (PATCH, DELETE, a template):
 * lock the group row, compute the new overrides, check asset references, store, audit — in one
 * transaction — then invalidate the cache for the subtree (after commit: see theme-cache.ts)
 * and answer with the freshly resolved theme.
 */
async function writeTheme(
  ctx: ServiceContext,
  groupId: string,
  action: string,
  change: (current: FlatTheme) => FlatTheme,
  details: Record<string, unknown>,
): Promise<ResolvedTheme> {
  await ctx.db.transaction(async (tx) => {
    const group = await loadGroupFor(tx, ctx.actor, groupId, { manage: true, forUpdate: true });
    const { flat: current } = flattenOverrides(group.theme);
    const next = change(current);
    await assertAssetsUsable(tx, group, current, next);
    const stored = nestOverrides(next);
    await tx.update(groups).set({ theme: stored }).where(eq(groups.id, group.id));
    await recordAudit(tx, ctx, {
      action,
      groupId: group.id,
      targetType: "group_theme",
      targetId: group.id,
      details,
    });
  });
  await themeCache(ctx.kv, ctx.logger).invalidate([groupId]);
  return await getGroupTheme({ ctx, input: { groupId } });
}

/**
 * Every asset the new overrides newly point at must exist and belong to the group or one of its
 * ancestors. `FOR SHARE` holds those rows until commit, so a concurrent delete of the asset
 * either waits and then sees this reference (409), or wins and this write sees no asset (422).
 */
async function assertAssetsUsable(tx: DbOrTx, group: ThemeGroup, current: FlatTheme, next: FlatTheme): Promise<void> {
  const before = new Set(assetRefs(current).map((r) => `${r.slot}:${r.assetId}`));
  const added = assetRefs(next).filter((r) => !before.has(`${r.slot}:${r.assetId}`));
  if (added.length === 0) return;
  const rows = await tx
    .select({ id: themeAssets.id, groupId: themeAssets.groupId })
    .from(themeAssets)
    .where(inArray(themeAssets.id, [...new Set(added.map((r) => r.assetId))]))
    .for("share");
  const owners = new Map(rows.map((r) => [r.id, r.groupId]));
  const allowedOwners = new Set(idsFromPath(group.path));
  const problems = added.flatMap(({ slot, assetId }) => {
    const owner = owners.get(assetId);
    if (owner === undefined) return [{ path: `assets.${slot}`, message: "No such theme asset", code: "asset_not_found" }];
    if (!allowedOwners.has(owner)) {
      return [
        {
          path: `assets.${slot}`,
          message: "The asset belongs to a group outside this group's ancestry",
          code: "asset_not_in_scope",
        },
      ];
    }
    return [];
  });
  if (problems.length > 0) throw new ValidationError("The theme refers to assets it may not use", problems);
}

/** `PATCH /api/groups/:id/theme` (merge-patch of the group's own overrides). */
export async function updateGroupTheme({ ctx, input }: { ctx: ServiceContext; input: { groupId: string; patch: ThemePatch } }): Promise<ResolvedTheme> {
  return await writeTheme(ctx, input.groupId, "theme.update", (current) => applyPatch(current, input.patch), {
    patch: input.patch,
  });
}

/** `DELETE /api/groups/:id/theme`: drop every own override; the inherited theme applies. */
export async function resetGroupTheme({ ctx, input }: { ctx: ServiceContext; input: { groupId: string } }): Promise<ResolvedTheme> {
  return await writeTheme(ctx, input.groupId, "theme.reset", () => ({}), {});
}

/**
 * `POST /api/groups/:id/theme/apply-template`: the template's colours, font and layout replace
 * the group's own; its asset overrides (a logo, say) stay, since templates carry none.
 */
export async function applyThemeTemplate({ ctx, input }: { ctx: ServiceContext; input: { groupId: string } & ApplyThemeTemplateInput }): Promise<ResolvedTheme> {
  const template = THEME_TEMPLATES.find((t) => t.id === input.templateId);
  if (!template) {
    throw new ValidationError("Unknown theme template", [
      {
        path: "templateId",
        message: `Expected one of: ${THEME_TEMPLATES.map((t) => t.id).join(", ")}`,
        code: "unknown_template",
      },
    ]);
  }
  const { flat: fromTemplate } = flattenOverrides(template.theme);
  return await writeTheme(
    ctx,
    input.groupId,
    "theme.template.apply",
    (current) => {
      const next: FlatTheme = { ...fromTemplate };
      for (const slot of THEME_ASSET_SLOTS) {
        const value = current[`assets.${slot}`];
        if (value !== undefined) next[`assets.${slot}`] = value;
      }
      return next;
    },
    { templateId: template.id },
  );
}
