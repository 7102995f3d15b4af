import { type Db, groups, messages, runs, sessions } from "@raptscallions/db";
import { type AnyColumn, and, eq, inArray, isNotNull, isNull, lt, ne, or, type SQL, sql } from "drizzle-orm";
import { alias } from "drizzle-orm/pg-core";
import type { Clock } from "../../lib/clock.ts";
import type { Logger } from "../../lib/logger.ts";
import { recordAudit } from "../audit/record.ts";
import type { RetentionConfig } from "../../lib/retention-config.ts";
import { effectiveDaysSql, GENERAL_DAYS, ownDays, shortestPossibleDays, UNDER13_DAYS } from "./effective-days.ts";

export interface RetentionDeps {
  db: Db;
  logger: Logger;
  clock: Clock;
  /** The job run's id, kept as the audit entry's request id. */
  runId?: string | undefined;
}

const RETENTION_ACTOR = { kind: "system", name: "retention" } as const;

export interface RetentionRun {
  /** Messages scrubbed (anonymised or deleted) by this run. */
  scrubbed: number;
  messageIds: string[];
  /** Runs whose input and output were scrubbed (or that were deleted). */
  runIds: string[];
  /** Sessions whose title was cleared. */
  titledSessionIds: string[];
}

const DAY_MS = 86_400_000;

/** Usage numbers stay for reports; anything that could hold words (errors, custom keys) goes. */
const usageOnlyMeta = (meta: AnyColumn, now: Date) => sql`jsonb_strip_nulls(jsonb_build_object(
  'model', ${meta} -> 'model',
  'inputTokens', ${meta} -> 'inputTokens',
  'outputTokens', ${meta} -> 'outputTokens',
  'costUsd', ${meta} -> 'costUsd',
  'ttftMs', ${meta} -> 'ttftMs',
  'latencyMs', ${meta} -> 'latencyMs',
  'estimated', ${meta} -> 'estimated',
  'flags', ${meta} -> 'flags',
  'redacted', ${meta} -> 'redacted',
  'retention', jsonb_build_object('scrubbedAt', ${now.toISOString()}::text, 'mode', 'anonymise')))`;

/**
 * Scrubs what students wrote past its retention period: message contents, product-tool runs'
 * input and output, and session titles. The nearest group (the record's group, then up the tree)
 * with `settings.retention.days` decides, else `config.defaultDays`; an under-13 student's records
 * take the stricter of that and the under-13 period (see `effectiveDaysSql`). Safe on several
 * instances at once: each batch is ONE statement whose candidate rows are locked with
 * `FOR UPDATE SKIP LOCKED`, so two jobs take disjoint rows, and a row another job has already
 * scrubbed no longer matches when re-checked under its lock. ai_usage rows are never touched
 * (deleting a message or run only clears their reference). `scopeGroupId` limits a run to a subtree.
 */
export async function runRetention(deps: RetentionDeps, config: RetentionConfig, opts: { scopeGroupId?: string; signal?: AbortSignal } = {}): Promise<RetentionRun> {
  const now = deps.clock.now();
  const [row] = await deps.db
    .select({
      general: sql<string | null>`min(${ownDays(groups.settings, GENERAL_DAYS)})`,
      under13: sql<string | null>`min(${ownDays(groups.settings, UNDER13_DAYS)})`,
    })
    .from(groups);
  const shortest = shortestPossibleDays(config, [row?.general == null ? null : Number(row.general), row?.under13 == null ? null : Number(row.under13)]);
  const run: RetentionRun = { scrubbed: 0, messageIds: [], runIds: [], titledSessionIds: [] };
  if (shortest === null) return run;
  // Nothing younger than the shortest period anywhere can be due: lets the created_at index prune.
  const newestPossible = new Date(now.getTime() - shortest * DAY_MS);
  const due = (createdAt: AnyColumn, groupId: AnyColumn, studentId: AnyColumn) =>
    sql`${createdAt} < ${now.toISOString()}::timestamptz - (${effectiveDaysSql(sql`${groupId}`, sql`${studentId}`, config)}::float8 * interval '1 day')`;
  const inScope = (groupId: AnyColumn): SQL =>
    opts.scopeGroupId ? sql`${groupId} in (select s.id from ${groups} s where s.path <@ (select r.path from ${groups} r where r.id = ${opts.scopeGroupId}))` : sql`true`;
  const batches = async (step: () => Promise<string[]>, into: string[]) => {
    // A stop between batches loses nothing: each batch is its own statement, the rest waits for the next run.
    for (let batch = 0; batch < config.maxBatchesPerRun && !opts.signal?.aborted; batch++) {
      const ids = await step();
      into.push(...ids);
      if (ids.length < config.batchSize) break;
    }
  };

  const candidate = alias(messages, "retention_candidate");
  const messageWhere: SQL[] = [
    lt(candidate.createdAt, newestPossible),
    due(candidate.createdAt, sessions.groupId, sessions.studentId),
    // A crashed stream is the sweeper's to finalise first.
    or(isNull(candidate.state), ne(candidate.state, "streaming")) as SQL,
    inScope(sessions.groupId),
  ];
  if (config.mode === "anonymise") messageWhere.push(sql`${candidate.meta} -> 'retention' is null`);
  await batches(async () => {
    const dueMessages = deps.db
      .select({ id: candidate.id })
      .from(candidate)
      .innerJoin(sessions, eq(sessions.id, candidate.sessionId))
      .where(and(...messageWhere))
      .limit(config.batchSize)
      .for("update", { of: candidate, skipLocked: true });
    const done =
      config.mode === "delete"
        ? await deps.db.delete(messages).where(inArray(messages.id, dueMessages)).returning({ id: messages.id })
        : await deps.db
            .update(messages)
            .set({ content: "", meta: usageOnlyMeta(messages.meta, now) })
            .where(inArray(messages.id, dueMessages))
            .returning({ id: messages.id });
    return done.map((r) => r.id);
  }, run.messageIds);
  run.scrubbed = run.messageIds.length;

  const runCandidate = alias(runs, "retention_run");
  const runWhere: SQL[] = [
    lt(runCandidate.createdAt, newestPossible),
    due(runCandidate.createdAt, runCandidate.groupId, runCandidate.userId),
    ne(runCandidate.state, "running"),
    inScope(runCandidate.groupId),
  ];
  if (config.mode === "anonymise") runWhere.push(sql`${runCandidate.meta} -> 'retention' is null`);
  await batches(async () => {
    const dueRuns = deps.db
      .select({ id: runCandidate.id })
      .from(runCandidate)
      .where(and(...runWhere))
      .limit(config.batchSize)
      .for("update", { of: runCandidate, skipLocked: true });
    const done =
      config.mode === "delete"
        ? await deps.db.delete(runs).where(inArray(runs.id, dueRuns)).returning({ id: runs.id })
        : await deps.db
            .update(runs)
            .set({ input: {}, output: null, meta: usageOnlyMeta(runs.meta, now) })
            .where(inArray(runs.id, dueRuns))
            .returning({ id: runs.id });
    return done.map((r) => r.id);
  }, run.runIds);

  // A title repeats the student's first words; it goes once the session's start is past the period
  // (the session itself, a learning record with its usage, stays in both modes).
  const titled = alias(sessions, "retention_titled");
  await batches(async () => {
    const dueTitles = deps.db
      .select({ id: titled.id })
      .from(titled)
      .where(and(isNotNull(titled.title), lt(titled.startedAt, newestPossible), due(titled.startedAt, titled.groupId, titled.studentId), inScope(titled.groupId)))
      .limit(config.batchSize)
      .for("update", { of: titled, skipLocked: true });
    const done = await deps.db.update(sessions).set({ title: null }).where(inArray(sessions.id, dueTitles)).returning({ id: sessions.id });
    return done.map((r) => r.id);
  }, run.titledSessionIds);

  const total = run.messageIds.length + run.runIds.length + run.titledSessionIds.length;
  if (total > 0) {
    await recordAudit(
      deps.db,
      { actor: RETENTION_ACTOR, requestId: deps.runId ?? null },
      {
        action: "retention.scrub",
        targetType: "messages",
        details: {
          count: run.messageIds.length,
          runs: run.runIds.length,
          titles: run.titledSessionIds.length,
          mode: config.mode,
          defaultDays: config.defaultDays,
          under13Days: config.under13Days,
          scopeGroupId: opts.scopeGroupId ?? null,
        },
      },
    );
    deps.logger.info("retention scrubbed records", { messages: run.messageIds.length, runs: run.runIds.length, titles: run.titledSessionIds.length, mode: config.mode });
  }
  return run;
}
