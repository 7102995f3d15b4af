import { z } from "zod";

export const groupRoleSchema = z.enum(["admin", "teacher", "member"]);
export const classRoleSchema = z.enum(["teacher", "student"]);

export const userSchema = z.object({
  id: z.uuid(),
  clerkUserId: z.string().nullable(),
  email: z.string().nullable(),
  name: z.string().nullable(),
  givenName: z.string().nullable(),
  familyName: z.string().nullable(),
  imageUrl: z.string().nullable(),
  status: z.enum(["active", "pending", "suspended", "deleted"]),
  isSystemAdmin: z.boolean(),
});
export type User = z.infer<typeof userSchema>;

export const meResponseSchema = z.object({
  user: userSchema,
  activeGroupId: z.uuid().nullable(),
  groups: z.array(z.object({ id: z.uuid(), name: z.string(), slug: z.string(), parentId: z.uuid().nullable(), role: groupRoleSchema })),
  classes: z.array(z.object({ id: z.uuid(), name: z.string(), groupId: z.uuid(), role: classRoleSchema })),
});
export type MeResponse = z.infer<typeof meResponseSchema>;
