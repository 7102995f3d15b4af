import { LimitExceededError, type ErrorCode } from "@raptscallions/core";
import type { BudgetAlert, LimitKind, Reservation, ReserveInput } from "./types.ts";

/** Shared arithmetic of the limit stores: window positions, keys of days and months, Retry-After. */

export const MINUTE_MS = 60_000;
export const HOUR_MS = 3_600_000;
export const DAY_MS = 86_400_000;
/** Counters live long enough to be the "previous window" and to be settled late. */
export const TTL = {
  day: 2 * DAY_MS,
  month: 62 * DAY_MS,
  settledMarker: 2 * DAY_MS,
  /** An unsettled reservation is worth recovering as long as the month it charged still counts. */
  kept: 62 * DAY_MS,
} as const;

/**
 * Position of `now` in fixed windows of `size`: index, time into it, time left in it, and the
 * weight of the previous window (`remaining / size`, the share of it still in the sliding window).
 */
export function windowAt(now: number, size: number): { index: number; elapsed: number; remaining: number; prevWeight: number } {
  const index = Math.floor(now / size);
  const elapsed = now - index * size;
  return { index, elapsed, remaining: size - elapsed, prevWeight: (size - elapsed) / size };
}

/** Sliding-window-counter estimate of requests in the last `size` ms (for display). */
export function slidingCount(cur: number, prev: number, prevWeight: number): number {
  return prev * prevWeight + cur;
}

/**
 * Whether one more request would exceed `limit`: `prev * remaining/size + cur + 1 > limit`,
 * multiplied out so it is exact in integers (the Lua script does the same).
 */
export function slidingRefuses(limit: number, cur: number, prev: number, remaining: number, size: number): boolean {
  return prev * remaining + (cur + 1) * size > limit * size;
}

/**
 * Milliseconds until one more request fits, assuming no other request arrives meanwhile:
 * solves `prev' * (1 - t/size) + cur' + 1 <= limit` for the earliest t into a window.
 */
export function slidingRetryAfterMs(limit: number, cur: number, prev: number, elapsed: number, size: number): number {
  if (limit < 1) return size - elapsed;
  if (cur + 1 <= limit) {
    // The current window has room; wait until enough of the previous window has slid out.
    const t = prev > 0 ? Math.ceil((size * (prev - (limit - 1 - cur))) / prev) : 0;
    return Math.max(0, t - elapsed);
  }
  // Wait for the next window, where this window's count becomes the weighted previous one.
  const t = cur > 0 ? Math.ceil((size * (cur - (limit - 1))) / cur) : 0;
  return size - elapsed + Math.max(0, t);
}

function pad(n: number): string {
  return n < 10 ? `0${n}` : String(n);
}
export function utcDay(now: number): string {
  const d = new Date(now);
  return `${d.getUTCFullYear()}-${pad(d.getUTCMonth() + 1)}-${pad(d.getUTCDate())}`;
}
export function utcMonth(now: number): string {
  const d = new Date(now);
  return `${d.getUTCFullYear()}-${pad(d.getUTCMonth() + 1)}`;
}
export function msUntilNextUtcDay(now: number): number {
  return DAY_MS - (now % DAY_MS);
}
export function msUntilNextUtcMonth(now: number): number {
  const d = new Date(now);
  return Date.UTC(d.getUTCFullYear(), d.getUTCMonth() + 1, 1) - now;
}

function count(value: number, name: string): number {
  if (!Number.isFinite(value) || value < 0) throw new RangeError(`${name} must be a non-negative number`);
  // Counters are integers so Redis can INCRBY them; rounding up never under-charges.
  return Math.ceil(value);
}
function limit(value: number | null | undefined, name: string): number | null {
  return value === null || value === undefined ? null : count(value, name);
}

/** A reserve input with every number checked and made an integer, and alert thresholds in micro-USD. */
export interface NormalisedReserve {
  userId: string;
  rpm: number | null;
  rph: number | null;
  tokensPerDay: number | null;
  tokens: number;
  costMicros: number;
  groups: { groupId: string; budgetMicros: number | null; alertAtMicros: number | null }[];
  now: number;
  subject: string | undefined;
}

export function normaliseReserve(input: ReserveInput): NormalisedReserve {
  if (!Number.isFinite(input.now)) throw new RangeError("now must be epoch milliseconds");
  return {
    userId: input.userId,
    rpm: limit(input.limits.requestsPerMinute, "requestsPerMinute"),
    rph: limit(input.limits.requestsPerHour, "requestsPerHour"),
    tokensPerDay: limit(input.limits.tokensPerDay, "tokensPerDay"),
    tokens: count(input.estimate.tokens, "estimate.tokens"),
    costMicros: count(input.estimate.costMicros, "estimate.costMicros"),
    groups: input.groups.map((g) => {
      const budget = limit(g.monthlyBudgetMicros, `monthlyBudgetMicros of ${g.groupId}`);
      const fraction = g.alertThreshold;
      const alertAt = budget !== null && fraction !== null && fraction !== undefined && fraction > 0 && fraction <= 1 ? Math.ceil(budget * fraction) : null;
      return { groupId: g.groupId, budgetMicros: budget, alertAtMicros: alertAt };
    }),
    now: input.now,
    subject: input.subject === undefined || input.subject === "" ? undefined : input.subject,
  };
}

export function normaliseActual(actual: { tokens: number; costMicros: number }): { tokens: number; costMicros: number } {
  return { tokens: count(actual.tokens, "actual.tokens"), costMicros: count(actual.costMicros, "actual.costMicros") };
}

/** The state a refused reservation saw, as both stores report it. */
export type Refusal =
  | { limit: "rpm" | "rph"; cur: number; prev: number }
  | { limit: "tokens_per_day"; used: number }
  | { limit: "monthly_budget"; groupIndex: number; spent: number };

const CODE: Record<LimitKind, ErrorCode> = {
  rpm: "RATE_LIMITED",
  rph: "RATE_LIMITED",
  tokens_per_day: "LIMIT_EXCEEDED",
  monthly_budget: "BUDGET_EXCEEDED",
};

/** The error for a refusal, with Retry-After and details naming the limit and its owner. */
export function limitError(input: NormalisedReserve, refusal: Refusal): LimitExceededError {
  const now = input.now;
  let retryMs: number;
  let details: Record<string, unknown>;
  let message: string;
  switch (refusal.limit) {
    case "rpm":
    case "rph": {
      const size = refusal.limit === "rpm" ? MINUTE_MS : HOUR_MS;
      const max = (refusal.limit === "rpm" ? input.rpm : input.rph) ?? 0;
      const w = windowAt(now, size);
      retryMs = slidingRetryAfterMs(max, refusal.cur, refusal.prev, w.elapsed, size);
      details = { limit: refusal.limit, userId: input.userId, max, used: Math.ceil(slidingCount(refusal.cur, refusal.prev, w.prevWeight)), requested: 1 };
      message = `Too many requests: at most ${max} per ${refusal.limit === "rpm" ? "minute" : "hour"}`;
      break;
    }
    case "tokens_per_day":
      retryMs = msUntilNextUtcDay(now);
      details = { limit: "tokens_per_day", userId: input.userId, max: input.tokensPerDay, used: refusal.used, requested: input.tokens };
      message = "Daily token allowance used up";
      break;
    case "monthly_budget": {
      const group = input.groups[refusal.groupIndex];
      retryMs = msUntilNextUtcMonth(now);
      details = { limit: "monthly_budget", groupId: group?.groupId, max: group?.budgetMicros, used: refusal.spent, requested: input.costMicros };
      message = "Monthly AI budget used up";
      break;
    }
  }
  return new LimitExceededError(message, {
    code: CODE[refusal.limit],
    retryAfterSeconds: Math.max(1, Math.ceil(retryMs / 1000)),
    details,
  });
}

/** The reservation handle before the charge: what a store keeps under its subject (no alerts yet). */
export function reservationBefore(input: NormalisedReserve, id: string): Reservation {
  return {
    id,
    userId: input.userId,
    day: utcDay(input.now),
    month: utcMonth(input.now),
    estimate: { tokens: input.tokens, costMicros: input.costMicros },
    groups: input.groups,
    alerts: [],
    reservedAt: input.now,
    ...(input.subject !== undefined ? { subject: input.subject } : {}),
  };
}

/** The reservation handle returned by both stores: `reservationBefore` with the alerts the charge crossed. */
export function reservationOf(input: NormalisedReserve, before: Reservation, spentAfter: readonly number[]): Reservation {
  const alerts: BudgetAlert[] = [];
  input.groups.forEach((g, i) => {
    const after = spentAfter[i] ?? 0;
    const crossed = g.alertAtMicros !== null && after - input.costMicros < g.alertAtMicros && after >= g.alertAtMicros;
    if (crossed && g.budgetMicros !== null && g.alertAtMicros !== null) {
      alerts.push({ groupId: g.groupId, budgetMicros: g.budgetMicros, thresholdMicros: g.alertAtMicros, spentMicros: after });
    }
  });
  return { ...before, alerts };
}

/**
 * A kept reservation read back from a store (its own JSON, written by `reserve`); null for anything
 * that does not have the handle's shape, so a damaged entry is skipped rather than settled wrongly.
 */
export function parseKeptReservation(json: string): Reservation | null {
  let value: unknown;
  try {
    value = JSON.parse(json);
  } catch {
    return null;
  }
  if (!value || typeof value !== "object") return null;
  const r = value as Partial<Reservation>;
  const isCount = (n: unknown) => typeof n === "number" && Number.isFinite(n) && n >= 0;
  if (typeof r.id !== "string" || typeof r.userId !== "string" || typeof r.day !== "string" || typeof r.month !== "string") return null;
  if (!r.estimate || !isCount(r.estimate.tokens) || !isCount(r.estimate.costMicros) || !Array.isArray(r.groups) || !isCount(r.reservedAt)) return null;
  if (!r.groups.every((g) => g && typeof g.groupId === "string")) return null;
  return { ...(r as Reservation), alerts: [] };
}

/** Alerts of a settle: groups whose spend went from below the threshold to at or above it. */
export function settleAlerts(reservation: Reservation, costDelta: number, spentAfter: readonly number[]): BudgetAlert[] {
  const alerts: BudgetAlert[] = [];
  if (costDelta <= 0) return alerts;
  reservation.groups.forEach((g, i) => {
    const after = spentAfter[i] ?? 0;
    if (g.alertAtMicros !== null && g.budgetMicros !== null && after - costDelta < g.alertAtMicros && after >= g.alertAtMicros) {
      alerts.push({ groupId: g.groupId, budgetMicros: g.budgetMicros, thresholdMicros: g.alertAtMicros, spentMicros: after });
    }
  });
  return alerts;
}
