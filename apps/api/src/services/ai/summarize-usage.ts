import {
  AppError,
  NotFoundError,
  USAGE_DEFAULT_PERIOD_DAYS,
  USAGE_MAX_PERIOD_DAYS,
  type UsageBucket,
  type UsageGroupBy,
  type UsageSummary,
  type UsageSummaryQuery,
  type UsageTotals,
} from "@raptscallions/core";
import { aiModels, aiUsage, classes, groups, users } from "@raptscallions/db";
import { and, eq, gte, inArray, isNull, lt, or, sql, type SQL } from "drizzle-orm";
import type { Actor } from "../../access/actor.ts";
import { policy } from "../../access/policy.ts";
import type { ServiceContext } from "../context.ts";
import { adminSubtreeSql } from "../../access/policy-sql.ts";
import { requireVisibleGroup } from "../groups/scope.ts";

const DAY_MS = 86_400_000;
/** Buckets returned at most; a district broken down by user can be large. */
export const USAGE_MAX_BUCKETS = 1000;

/**
 * Which usage rows the actor may see, as SQL over `ai_usage` joined to the row's group:
 * system admins everything; group admins rows of groups in their subtrees; teachers rows of the
 * classes they teach (their students' use there); everyone their own rows.
 */
function visibleUsageSql(actor: Actor): SQL {
  if (actor.isSystemAdmin) return sql`true`;
  const conds: SQL[] = [eq(aiUsage.userId, actor.userId), adminSubtreeSql(actor, groups.path)];
  const taught = [...actor.classRoles].filter(([, r]) => r.role === "teacher").map(([id]) => id);
  if (taught.length > 0) conds.push(inArray(aiUsage.classId, taught));
  return or(...conds) ?? sql`false`;
}

/** `[from, to)`: a date-only `to` covers that whole day; `from` defaults to 30 days before `to`. */
function period(input: UsageSummaryQuery, now: Date): { from: Date; to: Date } {
  const parse = (v: string, endOfDay: boolean) => {
    const dateOnly = /^\d{4}-\d{2}-\d{2}$/.test(v);
    const d = new Date(dateOnly ? `${v}T00:00:00Z` : v);
    return dateOnly && endOfDay ? new Date(d.getTime() + DAY_MS) : d;
  };
  const to = input.to ? parse(input.to, true) : now;
  const from = input.from ? parse(input.from, false) : new Date(to.getTime() - USAGE_DEFAULT_PERIOD_DAYS * DAY_MS);
  if (from.getTime() >= to.getTime()) throw new AppError("BAD_REQUEST", "`from` must be before `to`", { details: { from: input.from, to: input.to } });
  if (to.getTime() - from.getTime() > USAGE_MAX_PERIOD_DAYS * DAY_MS) {
    throw new AppError("BAD_REQUEST", `A report covers at most ${USAGE_MAX_PERIOD_DAYS} days`, {
      details: { from: input.from, to: input.to },
    });
  }
  return { from, to };
}

const num = (v: unknown): number => (v === null || v === undefined ? 0 : Number(v));
const numOrNull = (v: unknown): number | null => (v === null || v === undefined ? null : Math.round(Number(v) * 10) / 10);

/** Aggregates shared by the totals and every bucket. */
const aggregates = {
  requests: sql<number>`count(*)::int`,
  inputTokens: sql<string>`coalesce(sum(${aiUsage.inputTokens}), 0)::bigint`,
  outputTokens: sql<string>`coalesce(sum(${aiUsage.outputTokens}), 0)::bigint`,
  costUsd: sql<string>`coalesce(sum(${aiUsage.costUsd}), 0)::text`,
  avgLatencyMs: sql<string | null>`avg(${aiUsage.latencyMs})::float8`,
  avgTtftMs: sql<string | null>`avg(${aiUsage.ttftMs})::float8`,
  estimatedRequests: sql<number>`(count(*) filter (where ${aiUsage.estimated}))::int`,
  complete: sql<number>`(count(*) filter (where ${aiUsage.status} = 'complete'))::int`,
  stopped: sql<number>`(count(*) filter (where ${aiUsage.status} = 'stopped'))::int`,
  failed: sql<number>`(count(*) filter (where ${aiUsage.status} = 'failed'))::int`,
  interrupted: sql<number>`(count(*) filter (where ${aiUsage.status} = 'interrupted'))::int`,
};
type AggregateRow = { [K in keyof typeof aggregates]: unknown };

function totalsOf(row: AggregateRow | undefined): UsageTotals {
  return {
    requests: num(row?.requests),
    inputTokens: num(row?.inputTokens),
    outputTokens: num(row?.outputTokens),
    // Summed as exact numeric in SQL; rounded to the column's micro-dollar scale for JSON.
    costUsd: Math.round(num(row?.costUsd) * 1e6) / 1e6,
    avgLatencyMs: numOrNull(row?.avgLatencyMs),
    avgTtftMs: numOrNull(row?.avgTtftMs),
    estimatedRequests: num(row?.estimatedRequests),
    byStatus: {
      complete: num(row?.complete),
      stopped: num(row?.stopped),
      failed: num(row?.failed),
      interrupted: num(row?.interrupted),
    },
  };
}

/** The key and label of each breakdown, and the table the label comes from. */
function dimension(groupBy: UsageGroupBy): { key: SQL<string | null>; label: SQL<string | null> } {
  switch (groupBy) {
    case "model":
      return { key: sql`${aiUsage.model}`, label: sql`max(${aiModels.displayName})` };
    case "user":
      return { key: sql`${aiUsage.userId}::text`, label: sql`max(${users.name})` };
    case "class":
      return { key: sql`${aiUsage.classId}::text`, label: sql`max(${classes.name})` };
    case "group":
      return { key: sql`${aiUsage.groupId}::text`, label: sql`max(${groups.name})` };
    case "day":
      return { key: sql`to_char(${aiUsage.createdAt} at time zone 'UTC', 'YYYY-MM-DD')`, label: sql`null::text` };
  }
}

/**
 * Usage totals (requests, tokens, cost, average latency and time to first token) over a period,
 * optionally broken down by model, user, class, group or day, for the rows the caller may see.
 * An explicit group or class the caller may not see is a 404; a user filter only narrows.
 */
export async function summarizeUsage({ ctx, input }: { ctx: ServiceContext; input: UsageSummaryQuery }): Promise<UsageSummary> {
  const { db, actor } = ctx;
  const { from, to } = period(input, ctx.clock.now());

  const where: SQL[] = [visibleUsageSql(actor), gte(aiUsage.createdAt, from), lt(aiUsage.createdAt, to)];
  if (input.groupId) {
    const group = await requireVisibleGroup(ctx, input.groupId);
    where.push(sql`${groups.path} <@ ${group.path}::ltree`);
  }
  if (input.classId) {
    const [cls] = await db
      .select({ id: classes.id, groupPath: groups.path })
      .from(classes)
      .innerJoin(groups, eq(groups.id, classes.groupId))
      .where(and(eq(classes.id, input.classId), isNull(groups.deletedAt)));
    if (!cls || !policy.canViewClass(actor, cls)) throw new NotFoundError("Class");
    where.push(eq(aiUsage.classId, cls.id));
  }
  if (input.userId) where.push(eq(aiUsage.userId, input.userId));
  const condition = and(...where);

  const [totalsRow] = await db.select(aggregates).from(aiUsage).leftJoin(groups, eq(groups.id, aiUsage.groupId)).where(condition);

  let buckets: UsageBucket[] = [];
  let truncated = false;
  if (input.groupBy) {
    const dim = dimension(input.groupBy);
    let query = db
      .select({ key: dim.key, label: dim.label, ...aggregates })
      .from(aiUsage)
      .leftJoin(groups, eq(groups.id, aiUsage.groupId))
      .$dynamic();
    if (input.groupBy === "model") query = query.leftJoin(aiModels, eq(aiModels.id, aiUsage.model));
    if (input.groupBy === "user") query = query.leftJoin(users, eq(users.id, aiUsage.userId));
    if (input.groupBy === "class") query = query.leftJoin(classes, eq(classes.id, aiUsage.classId));
    const rows = await query
      .where(condition)
      .groupBy(dim.key)
      .orderBy(...(input.groupBy === "day" ? [sql`1 asc`] : [sql`sum(${aiUsage.costUsd}) desc`, sql`count(*) desc`, sql`1 asc`]))
      .limit(USAGE_MAX_BUCKETS + 1);
    truncated = rows.length > USAGE_MAX_BUCKETS;
    buckets = rows.slice(0, USAGE_MAX_BUCKETS).map((r) => ({
      key: r.key === null ? null : String(r.key),
      label: r.label === null ? null : String(r.label),
      ...totalsOf(r),
    }));
  }

  return {
    from: from.toISOString(),
    to: to.toISOString(),
    filters: { groupId: input.groupId ?? null, classId: input.classId ?? null, userId: input.userId ?? null },
    groupBy: input.groupBy ?? null,
    totals: totalsOf(totalsRow),
    buckets,
    truncated,
  };
}
