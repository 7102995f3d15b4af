import { type Db, groups, messages, sessions } from "@raptscallions/db";
import { and, eq, inArray, isNull, lt, ne, or, type SQL, sql } from "drizzle-orm";
import { alias } from "drizzle-orm/pg-core";
import type { Clock } from "../../lib/clock.ts";
import type { Logger } from "../../lib/logger.ts";
import { recordAudit } from "../audit/record.ts";
import type { RetentionConfig } from "../../lib/retention-config.ts";

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
}

const DAY_MS = 86_400_000;
// A setting of a million days is a typo, not a policy; capping keeps the interval arithmetic sane.
const MAX_DAYS = 36_500;

/** A group's own `settings.retention.days`, when it is a number ≥ 1 (CASE guards the cast). */
const ownDays = (settings: SQL | typeof groups.settings) =>
  sql`case when jsonb_typeof(${settings} #> '{retention,days}') = 'number'
        then least(floor((${settings} #>> '{retention,days}')::numeric), ${MAX_DAYS}) end`;

/**
 * Scrubs message contents past their retention period: the nearest group (the session's group,
 * then up the tree) with `settings.retention.days` decides, else `config.defaultDays`. Safe on
 * several instances at once: each batch is ONE statement whose candidate rows are locked with
 * `FOR UPDATE SKIP LOCKED`, so two jobs take disjoint rows, and a row another job has already
 * scrubbed no longer matches when re-checked under its lock. ai_usage rows are never touched
 * (deleting a message only clears their `message_id`). `scopeGroupId` limits a run to a subtree.
 */
export async function runRetention(deps: RetentionDeps, config: RetentionConfig, opts: { scopeGroupId?: string; signal?: AbortSignal } = {}): Promise<RetentionRun> {
  const now = deps.clock.now();
  const [row] = await deps.db
    .select({ min: sql<string | null>`min(${ownDays(groups.settings)})` })
    .from(groups)
    .where(sql`${ownDays(groups.settings)} >= 1`);
  const overrideMin = row?.min == null ? null : Number(row.min);
  const shortest = [config.defaultDays, overrideMin].filter((d): d is number => d !== null && d >= 1);
  if (shortest.length === 0) return { scrubbed: 0, messageIds: [] };
  // Nothing younger than the shortest period anywhere can be due: lets the created_at index prune.
  const newestPossible = new Date(now.getTime() - Math.min(...shortest) * DAY_MS);

  const candidate = alias(messages, "retention_candidate");
  const effectiveDays = sql`coalesce(
    (select x.d from (
       select ${ownDays(sql`a.settings`)} as d, nlevel(a.path) as depth
       from ${groups} a
       where a.path @> (select g.path from ${groups} g where g.id = ${sessions.groupId})
     ) x where x.d >= 1 order by x.depth desc limit 1),
    ${config.defaultDays}::numeric)`;
  const where: SQL[] = [
    lt(candidate.createdAt, newestPossible),
    sql`${candidate.createdAt} < ${now.toISOString()}::timestamptz - (${effectiveDays}::float8 * interval '1 day')`,
    // A crashed stream is the sweeper's to finalise first.
    or(isNull(candidate.state), ne(candidate.state, "streaming")) as SQL,
  ];
  if (config.mode === "anonymise") where.push(sql`${candidate.meta} -> 'retention' is null`);
  if (opts.scopeGroupId) {
    where.push(sql`${sessions.groupId} in (select s.id from ${groups} s where s.path <@ (select r.path from ${groups} r where r.id = ${opts.scopeGroupId}))`);
  }

  const messageIds: string[] = [];
  // A stop between batches loses nothing: each batch is its own statement, the rest waits for the next run.
  for (let batch = 0; batch < config.maxBatchesPerRun && !opts.signal?.aborted; batch++) {
    const due = deps.db
      .select({ id: candidate.id })
      .from(candidate)
      .innerJoin(sessions, eq(sessions.id, candidate.sessionId))
      .where(and(...where))
      .limit(config.batchSize)
      .for("update", { of: candidate, skipLocked: true });
    const done =
      config.mode === "delete"
        ? await deps.db.delete(messages).where(inArray(messages.id, due)).returning({ id: messages.id })
        : await deps.db
            .update(messages)
            .set({
              content: "",
              // Usage numbers stay for reports; anything that could hold words (errors, custom keys) goes.
              meta: sql`jsonb_strip_nulls(jsonb_build_object(
                'model', ${messages.meta} -> 'model',
                'inputTokens', ${messages.meta} -> 'inputTokens',
                'outputTokens', ${messages.meta} -> 'outputTokens',
                'costUsd', ${messages.meta} -> 'costUsd',
                'ttftMs', ${messages.meta} -> 'ttftMs',
                'latencyMs', ${messages.meta} -> 'latencyMs',
                'estimated', ${messages.meta} -> 'estimated',
                'flags', ${messages.meta} -> 'flags',
                'redacted', ${messages.meta} -> 'redacted',
                'retention', jsonb_build_object('scrubbedAt', ${now.toISOString()}::text, 'mode', 'anonymise')))`,
            })
            .where(inArray(messages.id, due))
            .returning({ id: messages.id });
    messageIds.push(...done.map((r) => r.id));
    if (done.length < config.batchSize) break;
  }

  if (messageIds.length > 0) {
    await recordAudit(
      deps.db,
      { actor: RETENTION_ACTOR, requestId: deps.runId ?? null },
      {
        action: "retention.scrub",
        targetType: "messages",
        details: { count: messageIds.length, mode: config.mode, defaultDays: config.defaultDays, scopeGroupId: opts.scopeGroupId ?? null },
      },
    );
    deps.logger.info("retention scrubbed messages", { count: messageIds.length, mode: config.mode });
  }
  return { scrubbed: messageIds.length, messageIds };
}
