import { type AddClassMemberBody, type ClassMemberDto, ConflictError, cursorParts, decodeCursor, type Page, type PageQuery, toPage } from "@raptscallions/core";
import { classMembers, users } from "@raptscallions/db";
import { and, asc, eq } from "drizzle-orm";
import { z } from "zod";
import type { ServiceContext } from "../context.ts";
import { publishRevocation } from "../realtime/revocation.ts";
import { toUserSummary } from "../groups/dto.ts";
import { requireUserInReach } from "../groups/reach.ts";
import { afterCursor, iso, isUniqueViolation, timestampKey } from "../query-helpers.ts";
import { enrolClassMemberCore, unenrolClassMemberCore } from "./cores.ts";
import { managedClass } from "./write.ts";

const byCreated = z.tuple([cursorParts.timestamp, cursorParts.uuid]);

function toClassMemberDto(m: typeof classMembers.$inferSelect, u: typeof users.$inferSelect): ClassMemberDto {
  return { classId: m.classId, userId: m.userId, role: m.role, user: toUserSummary(u), createdAt: iso(m.createdAt) };
}

/** The roster: teachers and admins only (students do not get classmates' details). */
export async function listClassMembers({ ctx, input }: { ctx: ServiceContext; input: { id: string } & PageQuery }): Promise<Page<ClassMemberDto>> {
  const { cls } = await managedClass(ctx, ctx.db, input.id);
  const where = [eq(classMembers.classId, cls.id)];
  if (input.cursor) where.push(afterCursor([classMembers.createdAt, classMembers.userId], decodeCursor(input.cursor, byCreated)));
  const rows = await ctx.db
    .select({ member: classMembers, user: users, key: timestampKey(classMembers.createdAt) })
    .from(classMembers)
    .innerJoin(users, eq(users.id, classMembers.userId))
    .where(and(...where))
    .orderBy(asc(classMembers.createdAt), asc(classMembers.userId))
    .limit(input.limit + 1);
  const page = toPage(rows, input.limit, (r) => [r.key, r.member.userId]);
  return { items: page.items.map((r) => toClassMemberDto(r.member, r.user)), nextCursor: page.nextCursor };
}

/** Enrols a teacher or student the class's group may reach (someone already in its district). */
export async function addClassMember({ ctx, input }: { ctx: ServiceContext; input: { id: string; body: AddClassMemberBody } }): Promise<ClassMemberDto> {
  try {
    return await ctx.db.transaction(async (tx) => {
      const { cls, groupPath } = await managedClass(ctx, tx, input.id);
      // Before the reach check, as the core would: an archived class answers 409 whoever is named.
      if (cls.archivedAt) throw new ConflictError("This class is archived");
      const user = await requireUserInReach(tx, ctx.actor, input.body.userId, groupPath);
      const { member } = await enrolClassMemberCore(tx, ctx, { classId: cls.id, userId: user.id, role: input.body.role });
      return toClassMemberDto(member, user);
    });
  } catch (err) {
    if (isUniqueViolation(err)) throw new ConflictError("This user is already in the class");
    throw err;
  }
}

export async function removeClassMember({ ctx, input }: { ctx: ServiceContext; input: { id: string; userId: string } }): Promise<void> {
  await ctx.db.transaction(async (tx) => {
    const { cls } = await managedClass(ctx, tx, input.id);
    await unenrolClassMemberCore(tx, ctx, { classId: cls.id, userId: input.userId });
  });
  await publishRevocation(ctx, { userId: input.userId, reason: "class-member-removed", classId: input.id });
}
