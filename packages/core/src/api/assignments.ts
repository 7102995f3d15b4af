import { z } from "zod";
import { instantInput, isoDateTime, pageQuerySchema } from "./common.ts";

export const assignmentSchema = z.object({
  id: z.uuid(),
  classId: z.uuid(),
  toolId: z.uuid(),
  /** The pinned tool version: later versions of the tool never change this assignment. */
  toolVersion: z.number().int(),
  title: z.string(),
  instructions: z.string(),
  availableAt: isoDateTime.nullable(),
  dueAt: isoDateTime.nullable(),
  closeAt: isoDateTime.nullable(),
  maxAttempts: z.number().int().nullable(),
  timeLimitMinutes: z.number().int().nullable(),
  settings: z.record(z.string(), z.unknown()),
  createdBy: z.uuid().nullable(),
  createdAt: isoDateTime,
  updatedAt: isoDateTime,
});
export type AssignmentDto = z.infer<typeof assignmentSchema>;

export const listAssignmentsQuerySchema = pageQuerySchema;
export const classIdParamSchema = z.object({ classId: z.uuid() });

const fields = {
  title: z.string().trim().min(1).max(300),
  instructions: z.string().max(20_000),
  /** Opens for students at this time (null: at once). Order: availableAt ≤ dueAt ≤ closeAt. */
  availableAt: instantInput.nullable(),
  dueAt: instantInput.nullable(),
  /** No new attempts after this time (null: never closes). */
  closeAt: instantInput.nullable(),
  maxAttempts: z.number().int().min(1).max(100).nullable(),
  timeLimitMinutes: z
    .number()
    .int()
    .min(1)
    .max(24 * 60)
    .nullable(),
  settings: z.record(z.string(), z.unknown()),
  toolVersion: z.number().int().min(1).max(2_147_483_647),
};

export const createAssignmentBodySchema = z.object({
  title: fields.title,
  instructions: fields.instructions.default(""),
  toolId: z.uuid(),
  /** Defaults to the tool's latest version at creation. */
  toolVersion: fields.toolVersion.optional(),
  availableAt: fields.availableAt.optional(),
  dueAt: fields.dueAt.optional(),
  closeAt: fields.closeAt.optional(),
  maxAttempts: fields.maxAttempts.optional(),
  timeLimitMinutes: fields.timeLimitMinutes.optional(),
  settings: fields.settings.default({}),
});
export type CreateAssignmentBody = z.infer<typeof createAssignmentBodySchema>;

/** Partial update; `toolVersion` re-pins to another version of the same tool, explicitly. */
export const updateAssignmentBodySchema = z
  .object(fields)
  .partial()
  .refine((b) => Object.keys(b).length > 0, "Nothing to update");
export type UpdateAssignmentBody = z.infer<typeof updateAssignmentBodySchema>;
