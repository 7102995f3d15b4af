import type { MeResponse } from "@raptscallions/core";
import { NotFoundError } from "@raptscallions/core";
import { classes, groups, users } from "@raptscallions/db";
import { eq, inArray } from "drizzle-orm";
import type { ServiceContext } from "../context.ts";

export function toUserDto(u: typeof users.$inferSelect): MeResponse["user"] {
  return {
    id: u.id,
    clerkUserId: u.clerkUserId,
    email: u.email,
    name: u.name,
    givenName: u.givenName,
    familyName: u.familyName,
    imageUrl: u.imageUrl,
    status: u.status,
    isSystemAdmin: u.isSystemAdmin,
  };
}

/** The signed-in user with the groups and classes they belong to and their role in each. */
export async function getMe({ ctx }: { ctx: ServiceContext }): Promise<MeResponse> {
  const { db, actor } = ctx;
  const [user] = await db.select().from(users).where(eq(users.id, actor.userId));
  if (!user) throw new NotFoundError("User");
  const groupIds = actor.groupRoles.map((r) => r.groupId);
  const groupRows = groupIds.length ? await db.select().from(groups).where(inArray(groups.id, groupIds)) : [];
  const byId = new Map(groupRows.map((g) => [g.id, g]));
  const classIds = [...actor.classRoles.keys()];
  const classRows = classIds.length ? await db.select().from(classes).where(inArray(classes.id, classIds)) : [];
  return {
    user: toUserDto(user),
    activeGroupId: actor.activeGroupId,
    groups: actor.groupRoles.flatMap((r) => {
      const g = byId.get(r.groupId);
      return g ? [{ id: g.id, name: g.name, slug: g.slug, parentId: g.parentId, role: r.role }] : [];
    }),
    classes: classRows.map((c) => ({
      id: c.id,
      name: c.name,
      groupId: c.groupId,
      role: actor.classRoles.get(c.id)?.role ?? "student",
    })),
  };
}
