import { sql } from "drizzle-orm";
import { boolean, check, index, integer, jsonb, pgTable, primaryKey, text, uuid } from "drizzle-orm/pg-core";
import { createdAt, id, timestamps, tstz } from "./columns.ts";
import { groups, users } from "./identity.ts";

export const ROSTER_CONNECTION_KINDS = ["oneroster_rest", "csv"] as const;
export type RosterConnectionKind = (typeof ROSTER_CONNECTION_KINDS)[number];
export const ROSTER_RUN_STATUSES = ["queued", "running", "succeeded", "failed"] as const;
export type RosterRunStatus = (typeof ROSTER_RUN_STATUSES)[number];
export const ROSTER_RUN_TRIGGERS = ["schedule", "manual", "upload"] as const;
export type RosterRunTrigger = (typeof ROSTER_RUN_TRIGGERS)[number];

/**
 * A district's (or school's) student information system, synced into the group `groupId` and
 * below it: a OneRoster 1.2 REST endpoint polled on `intervalMinutes`, or CSV bundles uploaded by
 * the group's admins. The client secret is stored encrypted (`secretCiphertext`, AES-256-GCM under
 * the key named by `secretKeyId`) and never leaves the server; `secretLast4` is what the API shows.
 */
export const rosterConnections = pgTable(
  "roster_connections",
  {
    id: id(),
    groupId: uuid("group_id")
      .notNull()
      .references(() => groups.id, { onDelete: "restrict" }),
    name: text("name").notNull(),
    kind: text("kind", { enum: ROSTER_CONNECTION_KINDS }).notNull(),
    /** The OneRoster base URL, e.g. `https://sis.example/ims/oneroster/rostering/v1p2`. */
    baseUrl: text("base_url"),
    tokenUrl: text("token_url"),
    clientId: text("client_id"),
    secretCiphertext: text("secret_ciphertext"),
    secretKeyId: text("secret_key_id"),
    secretLast4: text("secret_last4"),
    /** Scheduled runs every this many minutes (REST only); null: runs only when triggered. */
    intervalMinutes: integer("interval_minutes"),
    enabled: boolean("enabled").notNull().default(true),
    /**
     * The latest `dateLastModified` applied by a successful run: the next scheduled run asks the
     * source for changes after it (a delta). Null until the first full sync succeeded.
     */
    deltaSince: tstz("delta_since"),
    createdBy: uuid("created_by").references(() => users.id, { onDelete: "set null" }),
    ...timestamps(),
  },
  (t) => [
    index("roster_connections_group_idx").on(t.groupId),
    check("roster_connections_interval_check", sql`${t.intervalMinutes} is null or ${t.intervalMinutes} >= 5`),
  ],
);

/**
 * What each source record became here, per connection: the idempotency key of the sync. A record
 * whose `contentHash` is unchanged writes nothing; `removedAt` marks a record the source deleted
 * (tobedeleted, or gone from a bulk file), which stays so a stale copy cannot bring it back.
 * `localId` is the row it maps to (a group, class or user id; `<classId>:<userId>` for an
 * enrolment); `data` keeps what later records look up (a term's title).
 */
export const rosterLinks = pgTable(
  "roster_links",
  {
    connectionId: uuid("connection_id")
      .notNull()
      .references(() => rosterConnections.id, { onDelete: "cascade" }),
    entity: text("entity").notNull(),
    sourcedId: text("sourced_id").notNull(),
    localId: text("local_id"),
    dateLastModified: tstz("date_last_modified"),
    contentHash: text("content_hash").notNull(),
    data: jsonb("data").$type<Record<string, unknown>>(),
    removedAt: tstz("removed_at"),
    updatedAt: tstz("updated_at").notNull().defaultNow(),
  },
  (t) => [primaryKey({ columns: [t.connectionId, t.entity, t.sourcedId] }), index("roster_links_local_idx").on(t.connectionId, t.entity, t.localId)],
);

/** Per entity: what one run did. */
export interface RosterEntityCounts {
  created: number;
  updated: number;
  removed: number;
  skipped: number;
  unchanged: number;
}

/** A record a run refused, with where it came from. */
export interface RosterRejection {
  entity: string;
  sourcedId?: string;
  line?: number;
  reason: string;
}

/** One sync of a connection, and its log. */
export const rosterRuns = pgTable(
  "roster_runs",
  {
    id: id(),
    connectionId: uuid("connection_id")
      .notNull()
      .references(() => rosterConnections.id, { onDelete: "cascade" }),
    trigger: text("trigger", { enum: ROSTER_RUN_TRIGGERS }).notNull(),
    status: text("status", { enum: ROSTER_RUN_STATUSES }).notNull().default("queued"),
    /** `full` or `delta`: what was asked of the source. */
    mode: text("mode").notNull().default("full"),
    requestedBy: uuid("requested_by").references(() => users.id, { onDelete: "set null" }),
    counts: jsonb("counts").$type<Record<string, RosterEntityCounts>>().notNull().default({}),
    /** The first refused records (bounded); `rejectedCount` counts them all. */
    rejected: jsonb("rejected").$type<RosterRejection[]>().notNull().default([]),
    rejectedCount: integer("rejected_count").notNull().default(0),
    error: text("error"),
    startedAt: tstz("started_at"),
    finishedAt: tstz("finished_at"),
    createdAt: createdAt(),
  },
  (t) => [index("roster_runs_connection_idx").on(t.connectionId, t.createdAt)],
);
