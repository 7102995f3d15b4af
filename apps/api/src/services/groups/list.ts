import { cursorParts, decodeCursor, type GroupDto, type ListGroupsQuery, type Page, type PageQuery, toPage } from "@raptscallions/core";
import { groups, idsFromPath } from "@raptscallions/db";
import { and, asc, eq, inArray, isNull, type SQL, sql } from "drizzle-orm";
import { z } from "zod";
import type { ServiceContext } from "../context.ts";
import { afterCursor } from "../query-helpers.ts";
import { toGroupDto } from "./dto.ts";
import { groupVisibleSql } from "../../access/policy-sql.ts";
import { requireVisibleGroup as visibleGroup } from "./scope.ts";

const byName = z.tuple([cursorParts.text, cursorParts.uuid]);
// The path ends in the group's own label, so it is unique on its own and keeps cursors short.
const byPath = z.tuple([cursorParts.ltreePath]);

async function pageByName(ctx: ServiceContext, where: SQL[], page: PageQuery): Promise<Page<GroupDto>> {
  if (page.cursor) where.push(afterCursor([groups.name, groups.id], decodeCursor(page.cursor, byName)));
  const rows = await ctx.db
    .select()
    .from(groups)
    .where(and(isNull(groups.deletedAt), groupVisibleSql(ctx.actor), ...where))
    .orderBy(asc(groups.name), asc(groups.id))
    .limit(page.limit + 1);
  const result = toPage(rows, page.limit, (g) => [g.name, g.id]);
  return { items: result.items.map(toGroupDto), nextCursor: result.nextCursor };
}

/** Every group the actor can see (their groups, those groups' ancestors, admin subtrees). */
export function listGroups({ ctx, input }: { ctx: ServiceContext; input: ListGroupsQuery }) {
  return pageByName(ctx, input.kind ? [eq(groups.kind, input.kind)] : [], input);
}

export async function getGroup({ ctx, input }: { ctx: ServiceContext; input: { id: string } }): Promise<GroupDto> {
  return toGroupDto(await visibleGroup(ctx, input.id));
}

/** Direct children the actor can see. */
export async function listGroupChildren({ ctx, input }: { ctx: ServiceContext; input: { id: string } & PageQuery }) {
  const group = await visibleGroup(ctx, input.id);
  return pageByName(ctx, [eq(groups.parentId, group.id)], input);
}

/** Ancestors, root first (a bounded list: one page, `nextCursor` always null). */
export async function listGroupAncestors({ ctx, input }: { ctx: ServiceContext; input: { id: string } }): Promise<Page<GroupDto>> {
  const group = await visibleGroup(ctx, input.id);
  const ids = idsFromPath(group.path).filter((id) => id !== group.id);
  if (ids.length === 0) return { items: [], nextCursor: null };
  const rows = await ctx.db
    .select()
    .from(groups)
    .where(and(inArray(groups.id, ids), isNull(groups.deletedAt), groupVisibleSql(ctx.actor)));
  const depthOf = (g: { path: string }) => g.path.split(".").length;
  return { items: rows.sort((a, b) => depthOf(a) - depthOf(b)).map(toGroupDto), nextCursor: null };
}

/** The group and everything under it that the actor can see, in tree (path) order. */
export async function listGroupSubtree({ ctx, input }: { ctx: ServiceContext; input: { id: string } & PageQuery }): Promise<Page<GroupDto>> {
  const group = await visibleGroup(ctx, input.id);
  const where = [isNull(groups.deletedAt), groupVisibleSql(ctx.actor), sql`${groups.path} <@ ${group.path}::ltree`];
  if (input.cursor) where.push(afterCursor([groups.path], decodeCursor(input.cursor, byPath)));
  const rows = await ctx.db
    .select()
    .from(groups)
    .where(and(...where))
    .orderBy(asc(groups.path))
    .limit(input.limit + 1);
  const result = toPage(rows, input.limit, (g) => [g.path]);
  return { items: result.items.map(toGroupDto), nextCursor: result.nextCursor };
}
