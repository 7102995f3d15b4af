/**
 * Rate limits and budgets shared by all API instances. Reserve before calling the AI service,
 * settle to the actual usage afterwards (also when the stream failed or was aborted).
 *
 * Units and windows (the same in every implementation):
 * - requests per minute / per hour: sliding window *counter* — the current fixed window's count
 *   plus the previous window's count weighted by how much of it still overlaps the last minute
 *   (hour). Two counters per window, no boundary burst of 2× as a plain fixed window allows; an
 *   approximation of a true sliding log that errs on the strict side when traffic was front-loaded.
 * - tokens per day: fixed window, the UTC calendar day.
 * - money: integer micro-USD (1 USD = 1 000 000), per group per UTC calendar month.
 * A reservation is admitted only if *every* limit holds after adding it (`used + estimate <=
 * limit`), checked and charged in one atomic step, so concurrent reservations never overshoot;
 * only settling an actual above its estimate can go past a limit, by that difference.
 */

/** Which limit refused a reservation (in `LimitExceededError.details.limit`). */
export type LimitKind = "rpm" | "rph" | "tokens_per_day" | "monthly_budget";

/** Per-user limits; `null`/absent means unlimited (usage is still counted). */
export interface UserLimits {
  requestsPerMinute?: number | null;
  requestsPerHour?: number | null;
  tokensPerDay?: number | null;
}

/** One group of the chain (the user's group, then each ancestor) and its monthly budget. */
export interface GroupBudget {
  groupId: string;
  /** Integer micro-USD per UTC month; `null` = no budget (spend is still counted). */
  monthlyBudgetMicros: number | null;
  /** Fraction of the budget (0 < x <= 1, e.g. 0.8) whose crossing is reported as an alert. */
  alertThreshold?: number | null;
}

/** Input of {@link LimitStore.reserve}. */
export interface ReserveInput {
  userId: string;
  limits: UserLimits;
  /** Nearest group first, then its ancestors; every group is charged and the strictest budget wins. */
  groups: readonly GroupBudget[];
  /** Expected usage: prompt tokens plus the completion allowance, and its cost in micro-USD. */
  estimate: { tokens: number; costMicros: number };
  /** Epoch milliseconds; decides the windows, day and month charged. */
  now: number;
  /**
   * What the call is for (e.g. `answer:<messageId>`), when another instance may have to settle it
   * after the one that made it died: until settled, the store keeps the reservation under this
   * name, written in the same atomic step as the charge ({@link LimitStore.unsettled}). One
   * unsettled reservation per subject: a second one under the same name replaces the first.
   */
  subject?: string | undefined;
}

/** A group's spend crossed its alert threshold (report it; dedupe per group and month). */
export interface BudgetAlert {
  groupId: string;
  budgetMicros: number;
  thresholdMicros: number;
  spentMicros: number;
}

/**
 * What was charged, so it can be settled later, possibly by another instance (the handle is plain
 * JSON: it can be stored with the message and settled by a sweeper).
 */
export interface Reservation {
  id: string;
  userId: string;
  /** UTC day (`YYYY-MM-DD`) and month (`YYYY-MM`) the reservation was charged to. */
  day: string;
  month: string;
  estimate: { tokens: number; costMicros: number };
  groups: readonly { groupId: string; budgetMicros: number | null; alertAtMicros: number | null }[];
  /** Groups whose alert threshold this reservation crossed. */
  alerts: readonly BudgetAlert[];
  reservedAt: number;
  /** The subject it is kept under until settled (see {@link ReserveInput.subject}). */
  subject?: string | undefined;
}

/** Result of {@link LimitStore.settle}. */
export interface SettleResult {
  /** `false` when this reservation had already been settled (settling is idempotent). */
  settled: boolean;
  /** Groups whose alert threshold the correction to actual usage crossed. */
  alerts: readonly BudgetAlert[];
}

/** Current usage, for dashboards and tests. */
export interface UsageSnapshot {
  /** Sliding-window estimates, as compared against the limits. */
  requestsLastMinute: number;
  requestsLastHour: number;
  tokensToday: number;
  spentThisMonthMicros: Record<string, number>;
}

/** Limits and budgets store; see the module comment for windows and units. */
export interface LimitStore {
  /**
   * Atomically checks every limit and charges the estimate. Throws `LimitExceededError`
   * (`RATE_LIMITED` for rpm/rph, `LIMIT_EXCEEDED` for tokens per day, `BUDGET_EXCEEDED` for a
   * group budget) with `retryAfterSeconds` and `details: { limit, userId | groupId, max, used, requested }`;
   * a `ServiceUnavailableError` (503) when the shared store is unreachable.
   */
  reserve(input: ReserveInput): Promise<Reservation>;
  /**
   * Replaces the estimate by the actual usage, and forgets the reservation kept under its subject.
   * Idempotent per reservation id: only the first settle (on any instance) changes the counters.
   */
  settle(reservation: Reservation, actual: { tokens: number; costMicros: number }): Promise<SettleResult>;
  /**
   * The reservation kept under `subject` that nobody has settled yet (its instance died), for
   * another instance to settle; null when there is none (settled, never made with that subject,
   * or expired: kept for 62 days, as long as the month it charged). Alerts are not kept: `alerts` is empty.
   */
  unsettled(subject: string): Promise<Reservation | null>;
  /** Usage at `now` of a user and some groups. */
  usage(input: { userId: string; groupIds: readonly string[]; now: number }): Promise<UsageSnapshot>;
  /**
   * False when the store is known to be unreachable right now, so callers can refuse work before
   * changing anything. A cheap local check (no round trip); `reserve` can still fail afterwards.
   * Absent means always available (in-process stores).
   */
  available?(): boolean;
}
