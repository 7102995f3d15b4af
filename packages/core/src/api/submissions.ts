import { z } from "zod";
import { isoDateTime, pageQuerySchema } from "./common.ts";

export const SUBMISSION_STATE_VALUES = ["in_progress", "submitted", "graded"] as const;
export const submissionStateSchema = z.enum(SUBMISSION_STATE_VALUES);

export const submissionSchema = z.object({
  id: z.uuid(),
  assignmentId: z.uuid(),
  studentId: z.uuid(),
  attempt: z.number().int(),
  state: submissionStateSchema,
  sessionId: z.uuid().nullable(),
  runId: z.uuid().nullable(),
  submittedAt: isoDateTime.nullable(),
  grade: z.string().nullable(),
  feedback: z.string().nullable(),
  createdAt: isoDateTime,
  updatedAt: isoDateTime,
});
export type SubmissionDto = z.infer<typeof submissionSchema>;

/** Teachers may filter by student; students only ever see their own. */
export const listSubmissionsQuerySchema = pageQuerySchema.extend({
  studentId: z.uuid().optional(),
  state: submissionStateSchema.optional(),
});
export type ListSubmissionsQuery = z.infer<typeof listSubmissionsQuerySchema>;

/** A grade needs a submitted attempt; feedback can be given at any time. null clears. */
export const gradeSubmissionBodySchema = z
  .object({
    grade: z.string().trim().min(1).max(100).nullable(),
    feedback: z.string().max(10_000).nullable(),
  })
  .partial()
  .refine((b) => Object.keys(b).length > 0, "Nothing to update");
export type GradeSubmissionBody = z.infer<typeof gradeSubmissionBodySchema>;
