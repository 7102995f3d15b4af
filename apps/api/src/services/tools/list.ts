import {
  cursorParts,
  decodeCursor,
  type ListToolsQuery,
  NotFoundError,
  type Page,
  type PageQuery,
  type ToolDetailDto,
  type ToolDto,
  type ToolVersionDto,
  toPage,
} from "@raptscallions/core";
import { groups, toolVersions, tools } from "@raptscallions/db";
import { and, asc, desc, eq, isNotNull, isNull, type SQL } from "drizzle-orm";
import { z } from "zod";
import { assertAllowed, policy } from "../../access/policy.ts";
import type { ServiceContext } from "../context.ts";
import { groupVisibleSql } from "../../access/policy-sql.ts";
import { afterCursor } from "../query-helpers.ts";
import { requireUsableTool, toolRef, toToolDto, toToolVersionDto } from "./scope.ts";

const byName = z.tuple([cursorParts.text, cursorParts.uuid]);
const byVersion = z.tuple([cursorParts.int4]);

/**
 * Tools the actor can use: those of groups on the actor's ancestor chain (and, for admins, of
 * their whole subtrees).
 */
export async function listTools({ ctx, input }: { ctx: ServiceContext; input: ListToolsQuery }): Promise<Page<ToolDto>> {
  const where: SQL[] = [groupVisibleSql(ctx.actor, groups.path)];
  if (input.groupId) where.push(eq(tools.groupId, input.groupId));
  if (input.archived === "false") where.push(isNull(tools.archivedAt));
  if (input.archived === "true") where.push(isNotNull(tools.archivedAt));
  if (input.cursor) where.push(afterCursor([tools.name, tools.id], decodeCursor(input.cursor, byName)));
  const rows = await ctx.db
    .select({ tool: tools })
    .from(tools)
    .innerJoin(groups, eq(groups.id, tools.groupId))
    .where(and(...where))
    .orderBy(asc(tools.name), asc(tools.id))
    .limit(input.limit + 1);
  const page = toPage(rows, input.limit, (r) => [r.tool.name, r.tool.id]);
  return { items: page.items.map((r) => toToolDto(r.tool)), nextCursor: page.nextCursor };
}

/** The tool with its latest version; the definition only for staff who may read it. */
export async function getTool({ ctx, input }: { ctx: ServiceContext; input: { id: string } }): Promise<ToolDetailDto> {
  const found = await requireUsableTool(ctx, input.id);
  const [latest] = await ctx.db
    .select()
    .from(toolVersions)
    .where(and(eq(toolVersions.toolId, found.tool.id), eq(toolVersions.version, found.tool.latestVersion)));
  if (!latest) throw new NotFoundError("Tool version");
  return { ...toToolDto(found.tool), latest: toToolVersionDto(latest, policy.canViewToolDefinition(ctx.actor, toolRef(found))) };
}

async function readableTool(ctx: ServiceContext, id: string) {
  const found = await requireUsableTool(ctx, id);
  assertAllowed(policy.canViewToolDefinition(ctx.actor, toolRef(found)), "Only staff may read a tool's versions");
  return found;
}

/** Versions, newest first. */
export async function listToolVersions({ ctx, input }: { ctx: ServiceContext; input: { id: string } & PageQuery }): Promise<Page<ToolVersionDto>> {
  const { tool } = await readableTool(ctx, input.id);
  const where: SQL[] = [eq(toolVersions.toolId, tool.id)];
  if (input.cursor) where.push(afterCursor([toolVersions.version], decodeCursor(input.cursor, byVersion), "desc"));
  const rows = await ctx.db
    .select()
    .from(toolVersions)
    .where(and(...where))
    .orderBy(desc(toolVersions.version))
    .limit(input.limit + 1);
  const page = toPage(rows, input.limit, (v) => [v.version]);
  return { items: page.items.map((v) => toToolVersionDto(v, true)), nextCursor: page.nextCursor };
}

export async function getToolVersion({ ctx, input }: { ctx: ServiceContext; input: { id: string; version: number } }): Promise<ToolVersionDto> {
  const { tool } = await readableTool(ctx, input.id);
  const [row] = await ctx.db
    .select()
    .from(toolVersions)
    .where(and(eq(toolVersions.toolId, tool.id), eq(toolVersions.version, input.version)));
  if (!row) throw new NotFoundError("Tool version");
  return toToolVersionDto(row, true);
}
