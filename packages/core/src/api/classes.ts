import { z } from "zod";
import { isoDateTime, pageQuerySchema } from "./common.ts";
import { userSummarySchema } from "./groups.ts";
import { classRoleSchema } from "./me.ts";

export const classSchema = z.object({
  id: z.uuid(),
  groupId: z.uuid(),
  name: z.string(),
  term: z.string().nullable(),
  archivedAt: isoDateTime.nullable(),
  createdAt: isoDateTime,
  updatedAt: isoDateTime,
});
export type ClassDto = z.infer<typeof classSchema>;

export const listClassesQuerySchema = pageQuerySchema.extend({
  groupId: z.uuid().optional(),
  /** `false` (default) hides archived classes, `true` shows only them, `all` both. */
  archived: z.enum(["true", "false", "all"]).default("false"),
});
export type ListClassesQuery = z.infer<typeof listClassesQuerySchema>;

const nameSchema = z.string().trim().min(1).max(200);
const termSchema = z.string().trim().min(1).max(100);

export const createClassBodySchema = z.object({ groupId: z.uuid(), name: nameSchema, term: termSchema.nullable().optional() });
export type CreateClassBody = z.infer<typeof createClassBodySchema>;

export const updateClassBodySchema = z
  .object({ name: nameSchema, term: termSchema.nullable() })
  .partial()
  .refine((b) => Object.keys(b).length > 0, "Nothing to update");
export type UpdateClassBody = z.infer<typeof updateClassBodySchema>;

export const classMemberSchema = z.object({
  classId: z.uuid(),
  userId: z.uuid(),
  role: classRoleSchema,
  user: userSummarySchema,
  createdAt: isoDateTime,
});
export type ClassMemberDto = z.infer<typeof classMemberSchema>;

export const addClassMemberBodySchema = z.object({ userId: z.uuid(), role: classRoleSchema });
export type AddClassMemberBody = z.infer<typeof addClassMemberBodySchema>;
export const classMemberParamsSchema = z.object({ id: z.uuid(), userId: z.uuid() });

/** `GET /api/classes/:id/presence`: who is in the class room now (students in a session of it, teachers watching). */
export const classPresenceSchema = z.object({
  items: z.array(z.object({ userId: z.string(), role: z.string(), connections: z.number().int() })),
});
export type ClassPresence = z.infer<typeof classPresenceSchema>;
