import { isRedisUnavailable, ServiceUnavailableError } from "@raptscallions/core";
import { createHash } from "node:crypto";
import type Redis from "ioredis";
import { Cluster } from "ioredis";
import { RESERVE_SCRIPT, SETTLE_SCRIPT, UNSETTLED_SCRIPT, USAGE_SCRIPT } from "./lua.ts";
import { limitKeys } from "./memory.ts";
import type { LimitStore, Reservation, ReserveInput, SettleResult, UsageSnapshot } from "./types.ts";
import {
  HOUR_MS,
  MINUTE_MS,
  TTL,
  limitError,
  normaliseActual,
  normaliseReserve,
  parseKeptReservation,
  reservationBefore,
  reservationOf,
  settleAlerts,
  slidingCount,
  utcDay,
  utcMonth,
  windowAt,
  type Refusal,
} from "./windows.ts";

/** The ioredis client methods the store uses (a `Redis` or `Cluster` instance). */
export type RedisScriptClient = Pick<Redis, "evalsha" | "eval"> & { readonly status?: string };

/** Options of {@link RedisLimitStore}. */
export interface RedisLimitStoreOptions {
  /**
   * Prefix of every key (default `rapt:limits:`). A script touches the user's and all the groups'
   * keys at once, so on Redis Cluster the prefix must carry a hash tag (e.g. `rapt:{limits}:`) that
   * keeps them in one slot; a `Cluster` client with an untagged prefix is refused.
   */
  keyPrefix?: string;
}

function toNumber(value: unknown): number {
  const n = typeof value === "number" ? value : Number(value);
  if (!Number.isFinite(n)) throw new Error(`Unexpected reply from the limit script: ${String(value)}`);
  return n;
}

/**
 * Limits shared by every instance through Redis. Each reserve/settle is one Lua script run
 * (atomic on the server), invoked by SHA with a fallback to EVAL after a restart or failover.
 */
export class RedisLimitStore implements LimitStore {
  readonly #redis: RedisScriptClient;
  readonly #prefix: string;
  constructor(redis: RedisScriptClient, opts: RedisLimitStoreOptions = {}) {
    this.#redis = redis;
    this.#prefix = opts.keyPrefix ?? "rapt:limits:";
    if (redis instanceof Cluster && !/\{[^{}]+\}/.test(this.#prefix)) {
      throw new Error(`RedisLimitStore on a Redis Cluster needs a hash-tagged keyPrefix such as "rapt:{limits}:" (got "${this.#prefix}")`);
    }
  }

  async #run(script: string, keys: string[], args: (string | number)[]): Promise<unknown[]> {
    const sha = shaOf(script);
    let reply: unknown;
    try {
      try {
        reply = await this.#redis.evalsha(sha, keys.length, ...keys, ...args);
      } catch (err) {
        if (!(err instanceof Error) || !err.message.includes("NOSCRIPT")) throw err;
        reply = await this.#redis.eval(script, keys.length, ...keys, ...args);
      }
    } catch (err) {
      // No local stand-in can enforce limits shared across instances (a fresh counter would let
      // every instance spend a whole budget), so an outage refuses the call: a 503 with a retry hint.
      if (isRedisUnavailable(err)) throw new ServiceUnavailableError("Rate limits and budgets cannot be checked right now; retry shortly", { cause: err });
      throw err;
    }
    if (!Array.isArray(reply)) throw new Error("Unexpected reply from the limit script");
    return reply;
  }

  /** False while the connection is known to be down (a reserve would fail without trying). */
  available(): boolean {
    const status = this.#redis.status;
    return status === undefined || status === "ready";
  }

  #key(key: string): string {
    return this.#prefix + key;
  }

  /** The user's current and previous minute/hour windows, today, and each group's month — in the scripts' order. */
  #windowKeys(userId: string, groupIds: readonly string[], now: number) {
    const m = windowAt(now, MINUTE_MS);
    const h = windowAt(now, HOUR_MS);
    const month = utcMonth(now);
    const keys = [
      limitKeys.minute(userId, m.index),
      limitKeys.minute(userId, m.index - 1),
      limitKeys.hour(userId, h.index),
      limitKeys.hour(userId, h.index - 1),
      limitKeys.day(userId, utcDay(now)),
      ...groupIds.map((id) => limitKeys.month(id, month)),
    ].map((k) => this.#key(k));
    return { keys, m, h };
  }

  async reserve(raw: ReserveInput): Promise<Reservation> {
    const input = normaliseReserve(raw);
    const { keys, m, h } = this.#windowKeys(
      input.userId,
      input.groups.map((g) => g.groupId),
      input.now,
    );
    const before = reservationBefore(input, crypto.randomUUID());
    // The kept reservation's key sits between the user's keys and the groups' (see RESERVE_SCRIPT).
    keys.splice(5, 0, this.#key(limitKeys.kept(input.subject ?? "")));
    const args = [
      input.rpm ?? -1,
      m.remaining,
      MINUTE_MS,
      input.rph ?? -1,
      h.remaining,
      HOUR_MS,
      input.tokensPerDay ?? -1,
      TTL.day,
      input.tokens,
      input.costMicros,
      TTL.month,
      input.subject === undefined ? "" : JSON.stringify(before),
      TTL.kept,
      ...input.groups.map((g) => g.budgetMicros ?? -1),
    ];
    const reply = await this.#run(RESERVE_SCRIPT, keys, args);
    const [status, a, b] = reply;
    if (status !== "ok") {
      let refusal: Refusal;
      if (status === "rpm" || status === "rph") refusal = { limit: status, cur: toNumber(a), prev: toNumber(b) };
      else if (status === "tokens_per_day") refusal = { limit: status, used: toNumber(a) };
      else if (status === "monthly_budget") refusal = { limit: status, groupIndex: toNumber(a) - 1, spent: toNumber(b) };
      else throw new Error(`Unexpected reply from the limit script: ${String(status)}`);
      throw limitError(input, refusal);
    }
    return reservationOf(input, before, reply.slice(1).map(toNumber));
  }

  async settle(reservation: Reservation, rawActual: { tokens: number; costMicros: number }): Promise<SettleResult> {
    const actual = normaliseActual(rawActual);
    const tokenDelta = actual.tokens - reservation.estimate.tokens;
    const costDelta = actual.costMicros - reservation.estimate.costMicros;
    const keys = [
      limitKeys.settled(reservation.id),
      limitKeys.kept(reservation.subject ?? ""),
      limitKeys.day(reservation.userId, reservation.day),
      ...reservation.groups.map((g) => limitKeys.month(g.groupId, reservation.month)),
    ].map((k) => this.#key(k));
    const keptId = reservation.subject === undefined ? "" : reservation.id;
    const reply = await this.#run(SETTLE_SCRIPT, keys, [TTL.settledMarker, tokenDelta, costDelta, TTL.day, TTL.month, keptId]);
    if (toNumber(reply[0]) === 0) return { settled: false, alerts: [] };
    return { settled: true, alerts: settleAlerts(reservation, costDelta, reply.slice(1).map(toNumber)) };
  }

  async unsettled(subject: string): Promise<Reservation | null> {
    const [json] = await this.#run(UNSETTLED_SCRIPT, [this.#key(limitKeys.kept(subject))], []);
    return typeof json === "string" && json !== "" ? parseKeptReservation(json) : null;
  }

  async usage(input: { userId: string; groupIds: readonly string[]; now: number }): Promise<UsageSnapshot> {
    const { keys, m, h } = this.#windowKeys(input.userId, input.groupIds, input.now);
    const v = (await this.#run(USAGE_SCRIPT, keys, [])).map(toNumber);
    return {
      requestsLastMinute: slidingCount(v[0] ?? 0, v[1] ?? 0, m.prevWeight),
      requestsLastHour: slidingCount(v[2] ?? 0, v[3] ?? 0, h.prevWeight),
      tokensToday: v[4] ?? 0,
      spentThisMonthMicros: Object.fromEntries(input.groupIds.map((id, i) => [id, v[5 + i] ?? 0])),
    };
  }
}

const shas = new Map<string, string>();
function shaOf(script: string): string {
  let sha = shas.get(script);
  if (!sha) {
    sha = createHash("sha1").update(script).digest("hex");
    shas.set(script, sha);
  }
  return sha;
}
