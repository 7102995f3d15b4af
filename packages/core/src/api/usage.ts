import { z } from "zod";
import { dateInput, instantInput, isoDateTime } from "./common.ts";

/** Dimensions a usage report can be broken down by. */
export const USAGE_GROUP_BY = ["model", "user", "class", "group", "day"] as const;
export const usageGroupBySchema = z.enum(USAGE_GROUP_BY);
export type UsageGroupBy = z.infer<typeof usageGroupBySchema>;

/** Longest period one report may cover. */
export const USAGE_MAX_PERIOD_DAYS = 400;
/** Period used when `from` is omitted: this many days before `to`. */
export const USAGE_DEFAULT_PERIOD_DAYS = 30;

/** A timestamp with offset, or a calendar date (UTC): `from` = start of that day, `to` = end of it. */
const periodBound = z.union([instantInput, dateInput]);

/**
 * `GET /api/usage/summary`: filters narrow the rows (all of them AND-ed) and are always
 * intersected with what the caller may see. Period `[from, to)`; default the last 30 days.
 */
export const usageSummaryQuerySchema = z.object({
  /** The group and its whole subtree. */
  groupId: z.uuid().optional(),
  classId: z.uuid().optional(),
  userId: z.uuid().optional(),
  from: periodBound.optional(),
  to: periodBound.optional(),
  groupBy: usageGroupBySchema.optional(),
});
export type UsageSummaryQuery = z.infer<typeof usageSummaryQuerySchema>;

export const usageStatusCountsSchema = z.object({
  complete: z.number().int(),
  stopped: z.number().int(),
  failed: z.number().int(),
  interrupted: z.number().int(),
});

export const usageTotalsSchema = z.object({
  requests: z.number().int(),
  inputTokens: z.number().int(),
  outputTokens: z.number().int(),
  costUsd: z.number(),
  /** Averages over the calls that recorded them; null when none did. */
  avgLatencyMs: z.number().nullable(),
  avgTtftMs: z.number().nullable(),
  /** Calls whose tokens were estimated (the stream ended without a usage report). */
  estimatedRequests: z.number().int(),
  byStatus: usageStatusCountsSchema,
});
export type UsageTotals = z.infer<typeof usageTotalsSchema>;

export const usageBucketSchema = usageTotalsSchema.extend({
  /** Model id, user id, class id, group id, or the UTC day `YYYY-MM-DD`; null = no longer known. */
  key: z.string().nullable(),
  /** Model display name, user name, class name or group name; null for days and unknown keys. */
  label: z.string().nullable(),
});
export type UsageBucket = z.infer<typeof usageBucketSchema>;

export const usageSummarySchema = z.object({
  from: isoDateTime,
  to: isoDateTime,
  filters: z.object({ groupId: z.uuid().nullable(), classId: z.uuid().nullable(), userId: z.uuid().nullable() }),
  groupBy: usageGroupBySchema.nullable(),
  totals: usageTotalsSchema,
  /** Empty without `groupBy`. Days ascending; other dimensions by cost, highest first. */
  buckets: z.array(usageBucketSchema),
  /** True when there were more buckets than returned (the totals still cover every row). */
  truncated: z.boolean(),
});
export type UsageSummary = z.infer<typeof usageSummarySchema>;
