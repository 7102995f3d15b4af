import { z } from "zod";
import { isoDateTime, pageQuerySchema } from "./common.ts";
import { groupRoleSchema } from "./me.ts";

export const GROUP_KINDS = ["district", "school", "department", "organization"] as const;
export const groupKindSchema = z.enum(GROUP_KINDS);

/** Lowercase words joined by hyphens; unique across all groups. */
export const slugSchema = z
  .string()
  .min(1)
  .max(64)
  .regex(/^[a-z0-9](?:[a-z0-9-]*[a-z0-9])?$/, "Lowercase letters, digits and inner hyphens only");

const nameSchema = z.string().trim().min(1).max(200);
const settingsSchema = z.record(z.string(), z.unknown());

export const groupSchema = z.object({
  id: z.uuid(),
  parentId: z.uuid().nullable(),
  name: z.string(),
  slug: z.string(),
  kind: groupKindSchema,
  /** Mirrored from Clerk when set: name, slug and memberships may be overwritten by its webhooks. */
  clerkOrgId: z.string().nullable(),
  settings: settingsSchema,
  /** 0 for a root (a district or standalone organisation). */
  depth: z.number().int(),
  createdAt: isoDateTime,
  updatedAt: isoDateTime,
});
export type GroupDto = z.infer<typeof groupSchema>;

export const listGroupsQuerySchema = pageQuerySchema.extend({ kind: groupKindSchema.optional() });
export type ListGroupsQuery = z.infer<typeof listGroupsQuerySchema>;

export const createGroupBodySchema = z.object({
  /** null creates a new root, which only system admins may do. */
  parentId: z.uuid().nullable(),
  name: nameSchema,
  slug: slugSchema,
  kind: groupKindSchema.default("organization"),
  settings: settingsSchema.default({}),
});
export type CreateGroupBody = z.infer<typeof createGroupBodySchema>;

export const updateGroupBodySchema = z
  .object({ name: nameSchema, slug: slugSchema, settings: settingsSchema })
  .partial()
  .refine((b) => Object.keys(b).length > 0, "Nothing to update");
export type UpdateGroupBody = z.infer<typeof updateGroupBodySchema>;

/** Who a member is, without anything a roster does not need. */
export const userSummarySchema = z.object({
  id: z.uuid(),
  name: z.string().nullable(),
  email: z.string().nullable(),
  imageUrl: z.string().nullable(),
});

export const groupMemberSchema = z.object({
  groupId: z.uuid(),
  userId: z.uuid(),
  role: groupRoleSchema,
  user: userSummarySchema,
  createdAt: isoDateTime,
});
export type GroupMemberDto = z.infer<typeof groupMemberSchema>;

export const addGroupMemberBodySchema = z.object({ userId: z.uuid(), role: groupRoleSchema });
export type AddGroupMemberBody = z.infer<typeof addGroupMemberBodySchema>;
export const updateGroupMemberBodySchema = z.object({ role: groupRoleSchema });
export const groupMemberParamsSchema = z.object({ id: z.uuid(), userId: z.uuid() });
