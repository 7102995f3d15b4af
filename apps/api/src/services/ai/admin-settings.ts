import type { AiSettingsBody, AiSettingsDto } from "@raptscallions/core";
import { aiSettings, type DbOrTx } from "@raptscallions/db";
import { eq, sql } from "drizzle-orm";
import { assertAllowed, policy } from "../../access/policy.ts";
import { recordAudit } from "../audit/record.ts";
import type { ServiceContext } from "../context.ts";
import { requireVisibleGroup } from "../groups/scope.ts";
import { iso } from "../query-helpers.ts";
import { requireActiveModel } from "./require-model.ts";

type SettingsRow = typeof aiSettings.$inferSelect;

function toDto(scope: "system" | "group", groupId: string | null, row: SettingsRow | undefined): AiSettingsDto {
  return {
    scope,
    groupId,
    configured: row !== undefined,
    defaultModel: row?.defaultModel ?? null,
    requestsPerMinute: row?.requestsPerMinute ?? null,
    requestsPerHour: row?.requestsPerHour ?? null,
    tokensPerDay: row?.tokensPerDay ?? null,
    monthlyBudgetUsd: row?.monthlyBudgetUsd ?? null,
    alertThreshold: row?.alertThreshold ?? 0.8,
    updatedAt: row ? iso(row.updatedAt) : null,
  };
}

const values = (body: AiSettingsBody) => ({
  defaultModel: body.defaultModel,
  requestsPerMinute: body.requestsPerMinute,
  requestsPerHour: body.requestsPerHour,
  tokensPerDay: body.tokensPerDay,
  monthlyBudgetUsd: body.monthlyBudgetUsd,
  alertThreshold: body.alertThreshold,
});

async function checkBody(tx: DbOrTx, body: AiSettingsBody) {
  if (body.defaultModel) await requireActiveModel(tx, body.defaultModel, "defaultModel");
}

const assertSystemAdmin = (ctx: ServiceContext) => assertAllowed(policy.canManageAi(ctx.actor, null), "Only system admins may manage system AI settings");

export async function getSystemAiSettings({ ctx }: { ctx: ServiceContext }): Promise<AiSettingsDto> {
  assertSystemAdmin(ctx);
  const [row] = await ctx.db.select().from(aiSettings).where(eq(aiSettings.isSystem, true));
  return toDto("system", null, row);
}

/** Replaces the system-wide settings (creating them on first write). */
export async function putSystemAiSettings({ ctx, input }: { ctx: ServiceContext; input: AiSettingsBody }): Promise<AiSettingsDto> {
  assertSystemAdmin(ctx);
  return ctx.db.transaction(async (tx) => {
    await checkBody(tx, input);
    const [row] = await tx
      .insert(aiSettings)
      .values({ isSystem: true, groupId: null, ...values(input) })
      .onConflictDoUpdate({ target: aiSettings.isSystem, targetWhere: sql`${aiSettings.isSystem}`, set: values(input) })
      .returning();
    await recordAudit(tx, ctx, { action: "ai.settings.system.update", targetType: "ai_settings", targetId: "system", details: { ...input } });
    return toDto("system", null, row);
  });
}

async function managedGroup(ctx: ServiceContext, db: DbOrTx, id: string) {
  const group = await requireVisibleGroup({ db, actor: ctx.actor }, id);
  assertAllowed(policy.canManageAi(ctx.actor, group), "Only admins of this group may manage its AI settings");
  return group;
}

/** The group's own settings (not the inherited ones); `configured: false` when it has none. */
export async function getGroupAiSettings({ ctx, input }: { ctx: ServiceContext; input: { id: string } }): Promise<AiSettingsDto> {
  const group = await managedGroup(ctx, ctx.db, input.id);
  const [row] = await ctx.db.select().from(aiSettings).where(eq(aiSettings.groupId, group.id));
  return toDto("group", group.id, row);
}

export async function putGroupAiSettings({ ctx, input }: { ctx: ServiceContext; input: { id: string; body: AiSettingsBody } }): Promise<AiSettingsDto> {
  return ctx.db.transaction(async (tx) => {
    const group = await managedGroup(ctx, tx, input.id);
    await checkBody(tx, input.body);
    const [row] = await tx
      .insert(aiSettings)
      .values({ groupId: group.id, isSystem: false, ...values(input.body) })
      .onConflictDoUpdate({ target: aiSettings.groupId, set: values(input.body) })
      .returning();
    await recordAudit(tx, ctx, {
      action: "ai.settings.group.update",
      targetType: "ai_settings",
      targetId: group.id,
      groupId: group.id,
      details: { ...input.body },
    });
    return toDto("group", group.id, row);
  });
}

/** Removes the group's settings so it inherits from above again (idempotent). */
export async function deleteGroupAiSettings({ ctx, input }: { ctx: ServiceContext; input: { id: string } }): Promise<void> {
  await ctx.db.transaction(async (tx) => {
    const group = await managedGroup(ctx, tx, input.id);
    const removed = await tx.delete(aiSettings).where(eq(aiSettings.groupId, group.id)).returning({ id: aiSettings.id });
    if (removed.length > 0) {
      await recordAudit(tx, ctx, { action: "ai.settings.group.delete", targetType: "ai_settings", targetId: group.id, groupId: group.id });
    }
  });
}
