import { type ClassDto, cursorParts, decodeCursor, type ListClassesQuery, type Page, toPage } from "@raptscallions/core";
import { classes, groups } from "@raptscallions/db";
import { and, asc, eq, isNotNull, isNull, type SQL, sql } from "drizzle-orm";
import { z } from "zod";
import type { ServiceContext } from "../context.ts";
import { afterCursor } from "../query-helpers.ts";
import { classVisibleSql, requireVisibleClass, toClassDto } from "./scope.ts";

const byName = z.tuple([cursorParts.text, cursorParts.uuid]);

/**
 * Classes the actor can see: admins those in their subtrees, teachers and students their own.
 * `groupId` narrows to classes in that group or below it.
 */
export async function listClasses({ ctx, input }: { ctx: ServiceContext; input: ListClassesQuery }): Promise<Page<ClassDto>> {
  const where: SQL[] = [classVisibleSql(ctx.actor)];
  if (input.archived === "false") where.push(isNull(classes.archivedAt));
  if (input.archived === "true") where.push(isNotNull(classes.archivedAt));
  if (input.groupId) {
    where.push(sql`${groups.path} <@ (select g.path from ${groups} g where g.id = ${input.groupId})`);
  }
  if (input.cursor) where.push(afterCursor([classes.name, classes.id], decodeCursor(input.cursor, byName)));
  const rows = await ctx.db
    .select({ cls: classes })
    .from(classes)
    .innerJoin(groups, eq(groups.id, classes.groupId))
    .where(and(...where))
    .orderBy(asc(classes.name), asc(classes.id))
    .limit(input.limit + 1);
  const page = toPage(rows, input.limit, (r) => [r.cls.name, r.cls.id]);
  return { items: page.items.map((r) => toClassDto(r.cls)), nextCursor: page.nextCursor };
}

export async function getClass({ ctx, input }: { ctx: ServiceContext; input: { id: string } }): Promise<ClassDto> {
  const { cls } = await requireVisibleClass(ctx, input.id);
  return toClassDto(cls);
}
