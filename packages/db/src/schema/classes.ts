import { index, integer, jsonb, pgTable, primaryKey, text, uuid, foreignKey } from "drizzle-orm/pg-core";
import { createdAt, id, timestamps, tstz } from "./columns.ts";
import { groups, users } from "./identity.ts";

export const CLASS_ROLES = ["teacher", "student"] as const;
export type ClassRole = (typeof CLASS_ROLES)[number];
export const TOOL_KINDS = ["chat", "product"] as const;

export const classes = pgTable(
  "classes",
  {
    id: id(),
    groupId: uuid("group_id")
      .notNull()
      .references(() => groups.id, { onDelete: "restrict" }),
    name: text("name").notNull(),
    term: text("term"),
    archivedAt: tstz("archived_at"),
    /** The roster connection that made (and owns) the class; null for classes made by hand. */
    rosterConnectionId: uuid("roster_connection_id"),
    ...timestamps(),
  },
  (t) => [index("classes_group_idx").on(t.groupId)],
);

export const classMembers = pgTable(
  "class_members",
  {
    classId: uuid("class_id")
      .notNull()
      .references(() => classes.id, { onDelete: "cascade" }),
    userId: uuid("user_id")
      .notNull()
      .references(() => users.id, { onDelete: "cascade" }),
    role: text("role", { enum: CLASS_ROLES }).notNull(),
    /** The roster connection that enrolled the member: its syncs may remove the row; null for hand-made enrolments. */
    rosterConnectionId: uuid("roster_connection_id"),
    createdAt: createdAt(),
  },
  (t) => [primaryKey({ columns: [t.classId, t.userId] }), index("class_members_user_idx").on(t.userId)],
);

/** The definition a tool version carries: system prompt, model and per-module config. */
export interface ToolDefinition {
  systemPrompt: string;
  model?: string | null;
  temperature?: number;
  maxOutputTokens?: number;
  modules?: Record<string, Record<string, unknown>>;
  [key: string]: unknown;
}

/** A tool is a logical identity; its content lives in immutable versions. */
export const tools = pgTable(
  "tools",
  {
    id: id(),
    groupId: uuid("group_id")
      .notNull()
      .references(() => groups.id, { onDelete: "restrict" }),
    kind: text("kind", { enum: TOOL_KINDS }).notNull(),
    name: text("name").notNull(),
    latestVersion: integer("latest_version").notNull().default(1),
    createdBy: uuid("created_by").references(() => users.id, { onDelete: "set null" }),
    archivedAt: tstz("archived_at"),
    ...timestamps(),
  },
  (t) => [index("tools_group_idx").on(t.groupId)],
);

/** Immutable: a change makes a new version, so assignments and sessions stay pinned to theirs. */
export const toolVersions = pgTable(
  "tool_versions",
  {
    toolId: uuid("tool_id")
      .notNull()
      .references(() => tools.id, { onDelete: "cascade" }),
    version: integer("version").notNull(),
    name: text("name").notNull(),
    definition: jsonb("definition").$type<ToolDefinition>().notNull(),
    createdBy: uuid("created_by").references(() => users.id, { onDelete: "set null" }),
    createdAt: createdAt(),
  },
  (t) => [primaryKey({ columns: [t.toolId, t.version] })],
);

export const assignments = pgTable(
  "assignments",
  {
    id: id(),
    classId: uuid("class_id")
      .notNull()
      .references(() => classes.id, { onDelete: "cascade" }),
    toolId: uuid("tool_id").notNull(),
    toolVersion: integer("tool_version").notNull(),
    title: text("title").notNull(),
    instructions: text("instructions").notNull().default(""),
    availableAt: tstz("available_at"),
    dueAt: tstz("due_at"),
    closeAt: tstz("close_at"),
    maxAttempts: integer("max_attempts"),
    timeLimitMinutes: integer("time_limit_minutes"),
    createdBy: uuid("created_by").references(() => users.id, { onDelete: "set null" }),
    settings: jsonb("settings").$type<Record<string, unknown>>().notNull().default({}),
    ...timestamps(),
  },
  (t) => [
    index("assignments_class_idx").on(t.classId),
    foreignKey({ columns: [t.toolId, t.toolVersion], foreignColumns: [toolVersions.toolId, toolVersions.version] }).onDelete("restrict"),
  ],
);
