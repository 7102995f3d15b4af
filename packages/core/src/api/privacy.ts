import { z } from "zod";
import { isoDateTime, pageQuerySchema } from "./common.ts";

/** What erasing a person does to their learning records (a group's `settings.privacy.erasure`). */
export const ERASURE_MODES = ["anonymise", "delete"] as const;
export const erasureModeSchema = z.enum(ERASURE_MODES);
export type ErasureMode = z.infer<typeof erasureModeSchema>;

/**
 * One group's `settings.privacy`, inherited down the tree (the nearest group that sets a key wins).
 * `under13RetentionDays`: how long an under-13 student's chat text, run inputs/outputs and session
 * titles are kept when it is shorter than the group's general retention.
 */
export const privacyLayerSchema = z
  .object({
    erasure: erasureModeSchema.optional(),
    under13RetentionDays: z.number().int().min(1).max(36_500).optional(),
  })
  .strict();
export type PrivacyLayer = z.infer<typeof privacyLayerSchema>;

/** `?q=` finds students by name or email (case-blind substring) among those the admin reaches. */
export const listPrivacyStudentsQuerySchema = pageQuerySchema.extend({
  q: z.string().trim().min(1).max(200).optional(),
});
export type ListPrivacyStudentsQuery = z.infer<typeof listPrivacyStudentsQuerySchema>;

/** A student in a search result. */
export const privacyStudentSummarySchema = z.object({
  id: z.uuid(),
  name: z.string().nullable(),
  email: z.string().nullable(),
  under13: z.boolean(),
});
export type PrivacyStudentSummaryDto = z.infer<typeof privacyStudentSummarySchema>;

export const privacyStudentSchema = privacyStudentSummarySchema.extend({
  erasedAt: isoDateTime.nullable(),
  /** Groups and classes of the student that the caller administers. */
  groups: z.array(z.object({ id: z.uuid(), name: z.string(), role: z.string() })),
  classes: z.array(z.object({ id: z.uuid(), name: z.string(), role: z.string() })),
  /** What erasing the student would do now, from the groups' `settings.privacy.erasure`. */
  erasure: erasureModeSchema,
});
export type PrivacyStudentDto = z.infer<typeof privacyStudentSchema>;

export const erasureResultSchema = z.object({
  /** The erased person's id: the row stays as a nameless tombstone so records still add up. */
  userId: z.uuid(),
  mode: erasureModeSchema,
  erasedAt: isoDateTime,
  /** True when the person had already been erased: nothing was done this time. */
  alreadyErased: z.boolean(),
  /** Live sessions that were ended (through the ordinary session-end path) before erasing. */
  closedSessions: z.array(z.uuid()),
  /** Rows changed or removed, per table. */
  counts: z.record(z.string(), z.number().int()),
});
export type ErasureResultDto = z.infer<typeof erasureResultSchema>;
