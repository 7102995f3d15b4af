import { sql } from "drizzle-orm";
import { boolean, foreignKey, index, integer, jsonb, pgTable, text, uniqueIndex, uuid } from "drizzle-orm/pg-core";
import { createdAt, id, timestamps, tstz } from "./columns.ts";
import { assignments, classes, toolVersions } from "./classes.ts";
import { groups, users } from "./identity.ts";

export const SESSION_STATES = ["active", "paused", "completed"] as const;
export const MESSAGE_ROLES = ["user", "assistant", "system", "teacher"] as const;
export const ASSISTANT_STATES = ["streaming", "complete", "stopped", "failed", "interrupted"] as const;
export const RUN_STATES = ["running", "complete", "failed", "stopped", "interrupted"] as const;
export const SUBMISSION_STATES = ["in_progress", "submitted", "graded"] as const;

export type SessionState = (typeof SESSION_STATES)[number];
export type MessageRole = (typeof MESSAGE_ROLES)[number];
export type AssistantState = (typeof ASSISTANT_STATES)[number];

/** What a finished message records about its generation and the modules that saw it. */
export interface MessageMeta {
  model?: string;
  inputTokens?: number;
  outputTokens?: number;
  costUsd?: number;
  ttftMs?: number;
  latencyMs?: number;
  estimated?: boolean;
  error?: { code: string; message: string; retryAfterSeconds?: number | undefined; details?: unknown };
  flags?: string[];
  redacted?: boolean;
  [key: string]: unknown;
}

/**
 * A use of a tool (a chat session, a product tool's run): the tool version it is pinned to, the group
 * whose limits, budget and modules apply (the class's group, else the tool's), and its class and
 * assignment when it has them.
 */
const toolUseColumns = () => ({
  toolId: uuid("tool_id").notNull(),
  toolVersion: integer("tool_version").notNull(),
  groupId: uuid("group_id")
    .notNull()
    .references(() => groups.id, { onDelete: "restrict" }),
  classId: uuid("class_id").references(() => classes.id, { onDelete: "set null" }),
  assignmentId: uuid("assignment_id").references(() => assignments.id, { onDelete: "set null" }),
});

/**
 * A streamed row (an answer, a run), for the sweeper: the instance streaming it and when it last
 * checkpointed, and the room position of the last delta its stored text includes (late joiners
 * resume there).
 */
const streamingColumns = () => ({
  streamOwner: text("stream_owner"),
  heartbeatAt: tstz("heartbeat_at"),
  checkpointOffset: integer("checkpoint_offset"),
  checkpointEpoch: text("checkpoint_epoch"),
});

export const sessions = pgTable(
  "sessions",
  {
    id: id(),
    studentId: uuid("student_id")
      .notNull()
      .references(() => users.id, { onDelete: "restrict" }),
    ...toolUseColumns(),
    state: text("state", { enum: SESSION_STATES }).notNull().default("active"),
    /** Highest message seq allocated; bumped in the insert's transaction so seqs are dense. */
    lastSeq: integer("last_seq").notNull().default(0),
    title: text("title"),
    meta: jsonb("meta").$type<Record<string, unknown>>().notNull().default({}),
    startedAt: tstz("started_at").notNull().defaultNow(),
    endedAt: tstz("ended_at"),
    updatedAt: tstz("updated_at")
      .notNull()
      .defaultNow()
      .$onUpdate(() => new Date()),
  },
  (t) => [
    index("sessions_class_state_idx").on(t.classId, t.state, t.startedAt),
    index("sessions_student_idx").on(t.studentId, t.startedAt),
    index("sessions_assignment_idx").on(t.assignmentId, t.studentId),
    foreignKey({ columns: [t.toolId, t.toolVersion], foreignColumns: [toolVersions.toolId, toolVersions.version] }).onDelete("restrict"),
  ],
);

export const messages = pgTable(
  "messages",
  {
    id: id(),
    sessionId: uuid("session_id")
      .notNull()
      .references(() => sessions.id, { onDelete: "cascade" }),
    seq: integer("seq").notNull(),
    role: text("role", { enum: MESSAGE_ROLES }).notNull(),
    authorId: uuid("author_id").references(() => users.id, { onDelete: "set null" }),
    content: text("content").notNull().default(""),
    /** Only assistant messages have a state; the others are complete when written. */
    state: text("state", { enum: ASSISTANT_STATES }),
    clientMessageId: text("client_message_id"),
    ...streamingColumns(),
    meta: jsonb("meta").$type<MessageMeta>().notNull().default({}),
    createdAt: createdAt(),
    finalizedAt: tstz("finalized_at"),
  },
  (t) => [
    uniqueIndex("messages_session_seq_key").on(t.sessionId, t.seq),
    uniqueIndex("messages_session_client_id_key").on(t.sessionId, t.clientMessageId),
    index("messages_streaming_idx").on(t.heartbeatAt).where(sql`${t.state} = 'streaming'`),
    // One answer at a time per session, enforced by the database rather than a check-then-act race.
    uniqueIndex("messages_one_streaming_key").on(t.sessionId).where(sql`${t.state} = 'streaming'`),
    index("messages_created_idx").on(t.createdAt),
  ],
);

/** A single-shot run of a product tool. */
export const runs = pgTable(
  "runs",
  {
    id: id(),
    userId: uuid("user_id")
      .notNull()
      .references(() => users.id, { onDelete: "restrict" }),
    ...toolUseColumns(),
    input: jsonb("input").$type<Record<string, unknown>>().notNull().default({}),
    output: text("output"),
    state: text("state", { enum: RUN_STATES }).notNull().default("running"),
    meta: jsonb("meta").$type<MessageMeta>().notNull().default({}),
    ...streamingColumns(),
    createdAt: createdAt(),
    finishedAt: tstz("finished_at"),
  },
  (t) => [
    index("runs_user_idx").on(t.userId, t.createdAt),
    index("runs_class_idx").on(t.classId, t.createdAt),
    index("runs_running_idx").on(t.heartbeatAt).where(sql`${t.state} = 'running'`),
    foreignKey({ columns: [t.toolId, t.toolVersion], foreignColumns: [toolVersions.toolId, toolVersions.version] }).onDelete("restrict"),
  ],
);

export const submissions = pgTable(
  "submissions",
  {
    id: id(),
    assignmentId: uuid("assignment_id")
      .notNull()
      .references(() => assignments.id, { onDelete: "cascade" }),
    studentId: uuid("student_id")
      .notNull()
      .references(() => users.id, { onDelete: "restrict" }),
    attempt: integer("attempt").notNull(),
    state: text("state", { enum: SUBMISSION_STATES }).notNull().default("in_progress"),
    sessionId: uuid("session_id").references(() => sessions.id, { onDelete: "set null" }),
    runId: uuid("run_id").references(() => runs.id, { onDelete: "set null" }),
    submittedAt: tstz("submitted_at"),
    grade: text("grade"),
    feedback: text("feedback"),
    ...timestamps(),
  },
  (t) => [uniqueIndex("submissions_attempt_key").on(t.assignmentId, t.studentId, t.attempt), index("submissions_student_idx").on(t.studentId)],
);

export const EXTRACTION_STATUSES = ["open", "acknowledged", "dismissed"] as const;
export const SEVERITIES = ["info", "low", "medium", "high", "critical"] as const;

/** A module's finding on a session or run; those with a severity worth a teacher's eye are alerts. */
export const extractions = pgTable(
  "extractions",
  {
    id: id(),
    sessionId: uuid("session_id").references(() => sessions.id, { onDelete: "cascade" }),
    runId: uuid("run_id").references(() => runs.id, { onDelete: "cascade" }),
    messageId: uuid("message_id").references(() => messages.id, { onDelete: "set null" }),
    classId: uuid("class_id").references(() => classes.id, { onDelete: "set null" }),
    groupId: uuid("group_id").references(() => groups.id, { onDelete: "cascade" }),
    module: text("module").notNull(),
    kind: text("kind").notNull(),
    severity: text("severity", { enum: SEVERITIES }).notNull().default("info"),
    isAlert: boolean("is_alert").notNull().default(false),
    data: jsonb("data").$type<Record<string, unknown>>().notNull().default({}),
    status: text("status", { enum: EXTRACTION_STATUSES }).notNull().default("open"),
    resolvedBy: uuid("resolved_by").references(() => users.id, { onDelete: "set null" }),
    resolvedAt: tstz("resolved_at"),
    createdAt: createdAt(),
  },
  (t) => [
    index("extractions_session_idx").on(t.sessionId, t.createdAt),
    index("extractions_class_alert_idx").on(t.classId, t.status, t.createdAt),
    // Session summaries waiting for the summary job: the job's poll reads only these.
    index("extractions_summary_pending_idx").on(t.createdAt).where(sql`${t.module} = 'summary' and ${t.data}->>'state' = 'pending'`),
    // One end-of-session summary per session, however often the end is retried.
    uniqueIndex("extractions_summary_end_key").on(t.sessionId).where(sql`${t.module} = 'summary' and ${t.kind} = 'session-end'`),
  ],
);
