import type { GroupDto, GroupMemberDto } from "@raptscallions/core";
import type { groupMembers, users } from "@raptscallions/db";
import { redactNotificationSecrets } from "./notification-config.ts";
import { iso } from "../query-helpers.ts";
import type { GroupRow } from "./scope.ts";

export function toGroupDto(g: GroupRow): GroupDto {
  return {
    id: g.id,
    parentId: g.parentId,
    name: g.name,
    slug: g.slug,
    kind: g.kind,
    clerkOrgId: g.clerkOrgId,
    settings: redactNotificationSecrets(g.settings),
    depth: g.path.split(".").length - 1,
    createdAt: iso(g.createdAt),
    updatedAt: iso(g.updatedAt),
  };
}

export type UserRow = typeof users.$inferSelect;

export function toUserSummary(u: Pick<UserRow, "id" | "name" | "email" | "imageUrl">) {
  return { id: u.id, name: u.name, email: u.email, imageUrl: u.imageUrl };
}

export function toGroupMemberDto(m: typeof groupMembers.$inferSelect, u: Pick<UserRow, "id" | "name" | "email" | "imageUrl">): GroupMemberDto {
  return { groupId: m.groupId, userId: m.userId, role: m.role, user: toUserSummary(u), createdAt: iso(m.createdAt) };
}
