import { z } from "zod";
import { isoDateTime } from "./common.ts";

/**
 * How a session summary stands: `pending` (queued or being written), `ready`, `refused` (the
 * group's limits or budget, or its model, would not allow the call: nothing was generated) or
 * `failed` (the gateway failed on every attempt).
 */
export const SUMMARY_STATES = ["pending", "ready", "refused", "failed"] as const;
export type SummaryState = (typeof SUMMARY_STATES)[number];

/** `session-end`: written once when the session ended; `on-demand`: asked for by a teacher while it ran. */
export const SUMMARY_KINDS = ["session-end", "on-demand"] as const;
export type SummaryKind = (typeof SUMMARY_KINDS)[number];

/**
 * A session summary for the teacher (an `extractions` row of module `summary`). Written by the
 * group's model from the PII-redacted transcript, the struggle signal and the alerts raised.
 */
export const sessionSummarySchema = z.object({
  id: z.uuid(),
  sessionId: z.uuid(),
  classId: z.uuid().nullable(),
  studentId: z.uuid(),
  kind: z.enum(SUMMARY_KINDS),
  state: z.enum(SUMMARY_STATES),
  /** The summary (plain text, a few lines); null until `ready`. */
  text: z.string().nullable(),
  /** The model that wrote it, with the call's usage; null until `ready`. */
  model: z.string().nullable(),
  usage: z.object({ inputTokens: z.number().int(), outputTokens: z.number().int(), costUsd: z.number() }).nullable(),
  /** Messages of the session it covers (up to this sequence number). */
  upToSeq: z.number().int(),
  attempts: z.number().int(),
  /** Why it is `refused` or `failed` (an error code from the one list, and a sentence). */
  error: z.object({ code: z.string(), message: z.string() }).nullable(),
  createdAt: isoDateTime,
  generatedAt: isoDateTime.nullable(),
});
export type SessionSummaryDto = z.infer<typeof sessionSummarySchema>;

/** `GET /api/sessions/:id/summaries`: newest first. */
export const sessionSummaryListSchema = z.object({ items: z.array(sessionSummarySchema) });

/** Payload of a class room `summary` event: a summary was written, or gave up (refused, failed). */
export const summaryEventPayloadSchema = z.object({ summary: sessionSummarySchema });

/** What puts a student on the attention list. */
export const ATTENTION_FLAGS = ["alert", "struggling", "mild-struggle", "stuck", "silent"] as const;
export type AttentionFlag = (typeof ATTENTION_FLAGS)[number];

/** One student of a class as the attention list ranks them (see docs/insights.md for the score). */
export const attentionEntrySchema = z.object({
  studentId: z.uuid(),
  name: z.string().nullable(),
  /** 1 = needs attention most. Students with equal scores are ordered by the longest silence, then name. */
  rank: z.number().int(),
  score: z.number(),
  flags: z.array(z.enum(ATTENTION_FLAGS)),
  openAlerts: z.object({
    total: z.number().int(),
    critical: z.number().int(),
    high: z.number().int(),
    medium: z.number().int(),
    low: z.number().int(),
  }),
  /** The latest struggle level of the student's current (or latest) session; `none` without one. */
  struggle: z.enum(["none", "mild", "struggling"]),
  lastMessageAt: isoDateTime.nullable(),
  /** Seconds since the student's last message, while they have a live session; else null. */
  silentSeconds: z.number().int().nullable(),
  /** Live sessions whose latest student message has had no completed answer for `stuckAfterSeconds`. */
  stuckSessions: z.array(z.object({ sessionId: z.uuid(), waitingSeconds: z.number().int() })),
  /** The student's live (active or paused) sessions in this class. */
  liveSessionIds: z.array(z.uuid()),
});
export type AttentionEntry = z.infer<typeof attentionEntrySchema>;

/** `GET /api/classes/:id/attention` and the class room `attention.changed` event. */
export const classAttentionSchema = z.object({
  classId: z.uuid(),
  computedAt: isoDateTime,
  stuckAfterSeconds: z.number().int(),
  silentAfterSeconds: z.number().int(),
  students: z.array(attentionEntrySchema),
});
export type ClassAttentionDto = z.infer<typeof classAttentionSchema>;

/** Payload of `attention.changed`: the whole ranked list, and which students' rank or flags moved. */
export const attentionEventPayloadSchema = classAttentionSchema.extend({ changed: z.array(z.uuid()) });
