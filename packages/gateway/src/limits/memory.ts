import type { LimitStore, Reservation, ReserveInput, SettleResult, UsageSnapshot } from "./types.ts";
import {
  HOUR_MS,
  MINUTE_MS,
  TTL,
  limitError,
  normaliseActual,
  normaliseReserve,
  reservationBefore,
  reservationOf,
  settleAlerts,
  slidingCount,
  slidingRefuses,
  utcDay,
  utcMonth,
  windowAt,
  type NormalisedReserve,
  type Refusal,
} from "./windows.ts";

interface Counter {
  value: number;
  expiresAt: number;
}

/** Key names shared with the Redis store's layout, so both read the same way. */
export const limitKeys = {
  minute: (userId: string, index: number) => `u:${userId}:rpm:${index}`,
  hour: (userId: string, index: number) => `u:${userId}:rph:${index}`,
  day: (userId: string, day: string) => `u:${userId}:tokens:${day}`,
  month: (groupId: string, month: string) => `g:${groupId}:spend:${month}`,
  settled: (reservationId: string) => `settled:${reservationId}`,
  /** A reservation kept until settled, under its subject (an answer's or a run's id). */
  kept: (subject: string) => `kept:${subject}`,
};

/**
 * Limits held in this process: exact and atomic (every operation runs to completion on the one
 * JavaScript thread), but per instance — use the Redis store when more than one instance runs.
 */
export class MemoryLimitStore implements LimitStore {
  readonly #counters = new Map<string, Counter>();
  /** Unsettled reservations by subject, for recovery after their caller died. */
  readonly #kept = new Map<string, { reservation: Reservation; expiresAt: number }>();
  #operations = 0;

  #get(key: string, now: number): number {
    const c = this.#counters.get(key);
    if (!c) return 0;
    if (c.expiresAt <= now) {
      this.#counters.delete(key);
      return 0;
    }
    return c.value;
  }

  #add(key: string, delta: number, expiresAt: number, now: number): number {
    const value = Math.max(0, this.#get(key, now) + delta);
    const existing = this.#counters.get(key);
    this.#counters.set(key, { value, expiresAt: existing ? Math.max(existing.expiresAt, expiresAt) : expiresAt });
    return value;
  }

  /** Drops expired counters now and then, so idle users do not accumulate. */
  #sweep(now: number): void {
    if (++this.#operations % 1024 !== 0) return;
    for (const [key, c] of this.#counters) if (c.expiresAt <= now) this.#counters.delete(key);
    for (const [subject, k] of this.#kept) if (k.expiresAt <= now) this.#kept.delete(subject);
  }

  #refusal(input: NormalisedReserve): Refusal | null {
    const { now, userId } = input;
    for (const [kind, size, max] of [
      ["rpm", MINUTE_MS, input.rpm],
      ["rph", HOUR_MS, input.rph],
    ] as const) {
      if (max === null) continue;
      const w = windowAt(now, size);
      const key = kind === "rpm" ? limitKeys.minute : limitKeys.hour;
      const cur = this.#get(key(userId, w.index), now);
      const prev = this.#get(key(userId, w.index - 1), now);
      if (slidingRefuses(max, cur, prev, w.remaining, size)) return { limit: kind, cur, prev };
    }
    const used = this.#get(limitKeys.day(userId, utcDay(now)), now);
    if (input.tokensPerDay !== null && used + input.tokens > input.tokensPerDay) return { limit: "tokens_per_day", used };
    const month = utcMonth(now);
    for (const [groupIndex, g] of input.groups.entries()) {
      const spent = this.#get(limitKeys.month(g.groupId, month), now);
      if (g.budgetMicros !== null && spent + input.costMicros > g.budgetMicros) {
        return { limit: "monthly_budget", groupIndex, spent };
      }
    }
    return null;
  }

  async reserve(raw: ReserveInput): Promise<Reservation> {
    const input = normaliseReserve(raw);
    const { now, userId } = input;
    this.#sweep(now);
    const refusal = this.#refusal(input);
    if (refusal) throw limitError(input, refusal);
    const minute = windowAt(now, MINUTE_MS).index;
    const hour = windowAt(now, HOUR_MS).index;
    this.#add(limitKeys.minute(userId, minute), 1, (minute + 1) * MINUTE_MS + MINUTE_MS, now);
    this.#add(limitKeys.hour(userId, hour), 1, (hour + 1) * HOUR_MS + HOUR_MS, now);
    this.#add(limitKeys.day(userId, utcDay(now)), input.tokens, now + TTL.day, now);
    const month = utcMonth(now);
    const after = input.groups.map((g) => this.#add(limitKeys.month(g.groupId, month), input.costMicros, now + TTL.month, now));
    const before = reservationBefore(input, crypto.randomUUID());
    if (input.subject !== undefined) this.#kept.set(input.subject, { reservation: before, expiresAt: now + TTL.kept });
    return reservationOf(input, before, after);
  }

  async unsettled(subject: string): Promise<Reservation | null> {
    return this.#kept.get(subject)?.reservation ?? null;
  }

  async settle(reservation: Reservation, rawActual: { tokens: number; costMicros: number }): Promise<SettleResult> {
    const actual = normaliseActual(rawActual);
    const now = reservation.reservedAt;
    const marker = limitKeys.settled(reservation.id);
    if (this.#counters.has(marker)) return { settled: false, alerts: [] };
    this.#counters.set(marker, { value: 1, expiresAt: now + TTL.settledMarker });
    // Only its own entry: a later reservation under the same subject stays kept.
    if (reservation.subject !== undefined && this.#kept.get(reservation.subject)?.reservation.id === reservation.id) this.#kept.delete(reservation.subject);
    const tokenDelta = actual.tokens - reservation.estimate.tokens;
    const costDelta = actual.costMicros - reservation.estimate.costMicros;
    this.#add(limitKeys.day(reservation.userId, reservation.day), tokenDelta, now + TTL.day, now);
    const after = reservation.groups.map((g) => this.#add(limitKeys.month(g.groupId, reservation.month), costDelta, now + TTL.month, now));
    return { settled: true, alerts: settleAlerts(reservation, costDelta, after) };
  }

  async usage(input: { userId: string; groupIds: readonly string[]; now: number }): Promise<UsageSnapshot> {
    const { userId, now } = input;
    const m = windowAt(now, MINUTE_MS);
    const h = windowAt(now, HOUR_MS);
    const month = utcMonth(now);
    return {
      requestsLastMinute: slidingCount(this.#get(limitKeys.minute(userId, m.index), now), this.#get(limitKeys.minute(userId, m.index - 1), now), m.prevWeight),
      requestsLastHour: slidingCount(this.#get(limitKeys.hour(userId, h.index), now), this.#get(limitKeys.hour(userId, h.index - 1), now), h.prevWeight),
      tokensToday: this.#get(limitKeys.day(userId, utcDay(now)), now),
      spentThisMonthMicros: Object.fromEntries(input.groupIds.map((id) => [id, this.#get(limitKeys.month(id, month), now)])),
    };
  }
}
