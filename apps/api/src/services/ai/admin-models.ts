import {
  type AiModelDto,
  ConflictError,
  type CreateAiModelBody,
  cursorParts,
  decodeCursor,
  NotFoundError,
  type Page,
  type PageQuery,
  toPage,
  type UpdateAiModelBody,
} from "@raptscallions/core";
import { aiModels } from "@raptscallions/db";
import { and, asc, eq, type SQL } from "drizzle-orm";
import { z } from "zod";
import { assertAllowed, policy } from "../../access/policy.ts";
import { recordAudit } from "../audit/record.ts";
import type { ServiceContext } from "../context.ts";
import { afterCursor, iso, isUniqueViolation } from "../query-helpers.ts";

const byId = z.tuple([cursorParts.text]);

function toAiModelDto(m: typeof aiModels.$inferSelect): AiModelDto {
  return {
    id: m.id,
    provider: m.provider,
    displayName: m.displayName,
    inputPricePer1k: m.inputPricePer1k,
    outputPricePer1k: m.outputPricePer1k,
    contextWindow: m.contextWindow,
    maxOutputTokens: m.maxOutputTokens,
    active: m.active,
    createdAt: iso(m.createdAt),
    updatedAt: iso(m.updatedAt),
  };
}

/** Models by id. Everyone sees the active ones; `includeInactive` only widens it for system admins. */
export async function listAiModels({ ctx, input }: { ctx: ServiceContext; input: PageQuery & { includeInactive?: boolean | undefined } }): Promise<Page<AiModelDto>> {
  const where: SQL[] = [];
  if (!(input.includeInactive && ctx.actor.isSystemAdmin)) where.push(eq(aiModels.active, true));
  if (input.cursor) where.push(afterCursor([aiModels.id], decodeCursor(input.cursor, byId)));
  const rows = await ctx.db
    .select()
    .from(aiModels)
    .where(and(...where))
    .orderBy(asc(aiModels.id))
    .limit(input.limit + 1);
  const page = toPage(rows, input.limit, (m) => [m.id]);
  return { items: page.items.map(toAiModelDto), nextCursor: page.nextCursor };
}

export async function createAiModel({ ctx, input }: { ctx: ServiceContext; input: CreateAiModelBody }): Promise<AiModelDto> {
  assertAllowed(policy.canManageAi(ctx.actor, null), "Only system admins may manage models");
  try {
    return await ctx.db.transaction(async (tx) => {
      const [row] = await tx.insert(aiModels).values(input).returning();
      if (!row) throw new Error("insert returned no row");
      await recordAudit(tx, ctx, { action: "ai.model.create", targetType: "ai_model", targetId: row.id, details: { ...input } });
      return toAiModelDto(row);
    });
  } catch (err) {
    if (isUniqueViolation(err)) throw new ConflictError(`A model with id "${input.id}" already exists`);
    throw err;
  }
}

/** Changes prices, limits or `active`. A deactivated model stays referenced; resolution skips it. */
export async function updateAiModel({ ctx, input }: { ctx: ServiceContext; input: { id: string; body: UpdateAiModelBody } }): Promise<AiModelDto> {
  assertAllowed(policy.canManageAi(ctx.actor, null), "Only system admins may manage models");
  return ctx.db.transaction(async (tx) => {
    const [row] = await tx.update(aiModels).set(input.body).where(eq(aiModels.id, input.id)).returning();
    if (!row) throw new NotFoundError("Model");
    await recordAudit(tx, ctx, { action: "ai.model.update", targetType: "ai_model", targetId: row.id, details: { ...input.body } });
    return toAiModelDto(row);
  });
}
