import { z } from "zod";
import { isoDateTime } from "./common.ts";
import { messageDtoSchema } from "../realtime/protocol.ts";
import { sessionDtoSchema } from "./sessions.ts";

export const TRANSCRIPT_FORMATS = ["json", "csv"] as const;

/** `?format=json` (the default) or `?format=csv`. */
export const transcriptQuerySchema = z.object({
  format: z.enum(TRANSCRIPT_FORMATS).default("json"),
});
export type TranscriptQuery = z.infer<typeof transcriptQuerySchema>;

/** What a transcript covers: one session, a class's sessions or an assignment's sessions. */
export const transcriptScopeSchema = z.object({
  kind: z.enum(["session", "class", "assignment"]),
  id: z.uuid(),
});

export const transcriptSessionSchema = z.object({
  session: sessionDtoSchema,
  /** True when the export redacted the student's personal details from this session's texts. */
  redacted: z.boolean(),
  messages: z.array(messageDtoSchema),
});

/** The JSON transcript, streamed: sessions oldest first, each with its messages in seq order. */
export const transcriptSchema = z.object({
  scope: transcriptScopeSchema,
  exportedAt: isoDateTime,
  sessions: z.array(transcriptSessionSchema),
});
export type TranscriptDto = z.infer<typeof transcriptSchema>;

/** The CSV transcript's columns, one row per message, in this order (the header row names them). */
export const TRANSCRIPT_CSV_COLUMNS = [
  "session_id",
  "student_id",
  "class_id",
  "assignment_id",
  "tool_id",
  "tool_version",
  "session_state",
  "session_started_at",
  "message_id",
  "seq",
  "role",
  "author_id",
  "state",
  "content",
  "created_at",
  "redacted",
] as const;
