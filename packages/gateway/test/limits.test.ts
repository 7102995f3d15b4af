import { afterAll, describe, expect, test } from "bun:test";
import { LimitExceededError, ServiceUnavailableError } from "@raptscallions/core";
import Redis, { Cluster } from "ioredis";
import { MemoryLimitStore, RedisLimitStore, type LimitStore, type ReserveInput } from "../src/index.ts";
import { closeLimitStoreConnections, clusterConnection, clusterNodes, limitStoreFlavours, redisConnection, redisUrl } from "./limit-store-flavours.ts";

afterAll(closeLimitStoreConnections);

describe.skipIf(clusterNodes.length === 0)("RedisLimitStore on a cluster", () => {
  test("refuses a prefix without a hash tag, whose keys would span slots", () => {
    const cluster = new Cluster(clusterNodes, { lazyConnect: true });
    expect(() => new RedisLimitStore(cluster, { keyPrefix: "rapt:limits:" })).toThrow(/hash-tagged/);
    expect(() => new RedisLimitStore(cluster)).toThrow(/hash-tagged/);
    expect(new RedisLimitStore(cluster, { keyPrefix: "rapt:{limits}:" })).toBeInstanceOf(RedisLimitStore);
    cluster.disconnect();
  });
});

const T0 = Date.UTC(2031, 4, 14, 10, 0, 0); // start of a minute and of an hour
const id = (what: string) => `${what}-${crypto.randomUUID()}`;

function input(overrides: Partial<ReserveInput> & { userId: string }): ReserveInput {
  return { limits: {}, groups: [], estimate: { tokens: 100, costMicros: 100 }, now: T0, ...overrides };
}

async function refusal(p: Promise<unknown>): Promise<LimitExceededError> {
  try {
    await p;
  } catch (err) {
    if (err instanceof LimitExceededError) return err;
    throw err;
  }
  throw new Error("expected the reservation to be refused");
}

for (const { name, instances: makeStores, skip } of limitStoreFlavours()) {
  describe.skipIf(skip)(`${name} limit store`, () => {
    test("requests per minute: the limit holds, then RATE_LIMITED naming rpm and the user", async () => {
      const store = makeStores()(0);
      const userId = id("user");
      for (let i = 0; i < 3; i++) await store.reserve(input({ userId, limits: { requestsPerMinute: 3 } }));
      const err = await refusal(store.reserve(input({ userId, limits: { requestsPerMinute: 3 } })));
      expect(err.code).toBe("RATE_LIMITED");
      expect(err.status).toBe(429);
      expect(err.details).toMatchObject({ limit: "rpm", userId, max: 3, used: 3 });
      // Next minute the 3 still weigh 3 × (1 - t/60): one more fits from t = 20 s, 80 s from now.
      expect(err.retryAfterSeconds).toBe(80);
    });

    test("the minute window slides: half the previous minute still counts", async () => {
      const store = makeStores()(0);
      const userId = id("user");
      const limits = { requestsPerMinute: 3 };
      for (let i = 0; i < 3; i++) await store.reserve(input({ userId, limits }));
      // 90 s later: 3 requests × 0.5 overlap = 1.5, so one more fits (2.5 <= 3) but not two.
      const later = T0 + 90_000;
      await store.reserve(input({ userId, limits, now: later }));
      const err = await refusal(store.reserve(input({ userId, limits, now: later })));
      expect(err.details).toMatchObject({ limit: "rpm" });
      // 3 × (1 - t/60) + 1 + 1 <= 3 once t >= 40 s into the window, i.e. 10 s from now.
      expect(err.retryAfterSeconds).toBe(10);
      await store.reserve(input({ userId, limits, now: later + 10_000 }));
    });

    test("requests per hour are limited independently of the minute", async () => {
      const store = makeStores()(0);
      const userId = id("user");
      const limits = { requestsPerMinute: 10, requestsPerHour: 2 };
      await store.reserve(input({ userId, limits }));
      await store.reserve(input({ userId, limits, now: T0 + 5 * 60_000 }));
      const err = await refusal(store.reserve(input({ userId, limits, now: T0 + 10 * 60_000 })));
      expect(err.code).toBe("RATE_LIMITED");
      expect(err.details).toMatchObject({ limit: "rph", userId, max: 2 });
    });

    test("tokens per day: estimate reserved, settle returns the unused part, next UTC day resets", async () => {
      const store = makeStores()(0);
      const userId = id("user");
      const limits = { tokensPerDay: 1000 };
      const first = await store.reserve(input({ userId, limits, estimate: { tokens: 600, costMicros: 0 } }));
      const err = await refusal(store.reserve(input({ userId, limits, estimate: { tokens: 600, costMicros: 0 } })));
      expect(err.code).toBe("LIMIT_EXCEEDED");
      expect(err.details).toMatchObject({ limit: "tokens_per_day", userId, max: 1000, used: 600, requested: 600 });
      expect(err.retryAfterSeconds).toBe(14 * 3600);
      await store.settle(first, { tokens: 100, costMicros: 0 });
      await store.reserve(input({ userId, limits, estimate: { tokens: 600, costMicros: 0 } }));
      expect((await store.usage({ userId, groupIds: [], now: T0 })).tokensToday).toBe(700);
      const tomorrow = Date.UTC(2031, 4, 15, 0, 0, 1);
      await store.reserve(input({ userId, limits, estimate: { tokens: 1000, costMicros: 0 }, now: tomorrow }));
    });

    test("monthly budgets: every group of the chain is charged and the strictest refuses", async () => {
      const store = makeStores()(0);
      const [cls, school, district] = [id("class"), id("school"), id("district")];
      const groups = [
        { groupId: cls, monthlyBudgetMicros: null },
        { groupId: school, monthlyBudgetMicros: 5_000 },
        { groupId: district, monthlyBudgetMicros: 1_000_000 },
      ];
      const reserve = (userId: string) => store.reserve(input({ userId, groups, estimate: { tokens: 10, costMicros: 2_000 } }));
      await reserve(id("u"));
      await reserve(id("u"));
      const err = await refusal(reserve(id("u")));
      expect(err.code).toBe("BUDGET_EXCEEDED");
      expect(err.details).toMatchObject({ limit: "monthly_budget", groupId: school, max: 5_000, used: 4_000, requested: 2_000 });
      expect(err.retryAfterSeconds).toBe(Math.ceil((Date.UTC(2031, 5, 1) - T0) / 1000));
      const usage = await store.usage({ userId: "nobody", groupIds: [cls, school, district], now: T0 });
      expect(usage.spentThisMonthMicros).toEqual({ [cls]: 4_000, [school]: 4_000, [district]: 4_000 });
      // Next month starts from zero.
      await store.reserve(input({ userId: id("u"), groups, estimate: { tokens: 10, costMicros: 5_000 }, now: Date.UTC(2031, 5, 1) }));
    });

    test("crossing the alert threshold is flagged once, on reserve and on settle", async () => {
      const store = makeStores()(0);
      const groupId = id("school");
      const groups = [{ groupId, monthlyBudgetMicros: 10_000, alertThreshold: 0.5 }];
      const reserve = (costMicros: number) => store.reserve(input({ userId: id("u"), groups, estimate: { tokens: 1, costMicros } }));
      expect((await reserve(3_000)).alerts).toEqual([]);
      expect((await reserve(3_000)).alerts).toEqual([{ groupId, budgetMicros: 10_000, thresholdMicros: 5_000, spentMicros: 6_000 }]);
      expect((await reserve(1_000)).alerts).toEqual([]);

      const other = id("dept");
      const small = await store.reserve(
        input({ userId: id("u"), groups: [{ groupId: other, monthlyBudgetMicros: 10_000, alertThreshold: 0.9 }], estimate: { tokens: 1, costMicros: 1_000 } }),
      );
      expect(small.alerts).toEqual([]);
      const settled = await store.settle(small, { tokens: 1, costMicros: 9_500 });
      expect(settled.alerts).toEqual([{ groupId: other, budgetMicros: 10_000, thresholdMicros: 9_000, spentMicros: 9_500 }]);
    });

    test("settling is idempotent and an aborted stream gives back the unused estimate", async () => {
      const stores = makeStores();
      const groupId = id("school");
      const userId = id("u");
      const reservation = await stores(0).reserve(input({ userId, groups: [{ groupId, monthlyBudgetMicros: 100_000 }], estimate: { tokens: 2_000, costMicros: 5_000 } }));
      // Plain JSON: another instance (or a sweeper) can settle it.
      const copy = JSON.parse(JSON.stringify(reservation)) as typeof reservation;
      expect((await stores(1).settle(copy, { tokens: 300, costMicros: 1_000 })).settled).toBe(true);
      expect((await stores(2).settle(copy, { tokens: 300, costMicros: 1_000 })).settled).toBe(false);
      expect((await stores(0).settle(reservation, { tokens: 0, costMicros: 0 })).settled).toBe(false);
      const usage = await stores(0).usage({ userId, groupIds: [groupId], now: T0 });
      expect(usage.tokensToday).toBe(300);
      expect(usage.spentThisMonthMicros[groupId]).toBe(1_000);
    });

    test("a reservation with a subject is kept until settled: another instance finds it and settles it once, however many try", async () => {
      const stores = makeStores();
      const groupId = id("school");
      const userId = id("u");
      const subject = id("answer");
      const reservation = await stores(0).reserve(
        input({ userId, groups: [{ groupId, monthlyBudgetMicros: 100_000, alertThreshold: 0.01 }], estimate: { tokens: 2_000, costMicros: 5_000 }, subject }),
      );
      expect(reservation.subject).toBe(subject);
      // The instance that reserved is gone; what the others find is the handle, without its alerts.
      const kept = await stores(1).unsettled(subject);
      expect(kept).toEqual({ ...reservation, alerts: [] });
      expect(await stores(1).unsettled(id("answer"))).toBeNull();
      // Two recoverers at once, and the original instance coming back late: one settle counts.
      const found = await Promise.all([stores(1).unsettled(subject), stores(2).unsettled(subject)]);
      const settles = await Promise.all(found.map((r, i) => (r ? stores(i + 1).settle(r, { tokens: 400, costMicros: 900 }) : null)));
      expect(settles.filter((s) => s?.settled)).toHaveLength(1);
      expect((await stores(0).settle(reservation, { tokens: 1_900, costMicros: 4_900 })).settled).toBe(false);
      expect(await stores(2).unsettled(subject)).toBeNull();
      const usage = await stores(0).usage({ userId, groupIds: [groupId], now: T0 });
      expect(usage.tokensToday).toBe(400);
      expect(usage.spentThisMonthMicros[groupId]).toBe(900);
    });

    test("a normal settle forgets the kept reservation; a reservation without a subject keeps nothing; a stale settle leaves a newer one kept", async () => {
      const stores = makeStores();
      const userId = id("u");
      const subject = id("run");
      const first = await stores(0).reserve(input({ userId, subject }));
      expect((await stores(0).settle(first, { tokens: 10, costMicros: 10 })).settled).toBe(true);
      expect(await stores(1).unsettled(subject)).toBeNull();
      // Same subject again (one unsettled reservation per subject): the newer one replaces it.
      const older = await stores(0).reserve(input({ userId, subject: id("run") }));
      const again = await stores(0).reserve(input({ userId, subject: older.subject }));
      expect((await stores(1).unsettled(older.subject ?? ""))?.id).toBe(again.id);
      // The older one's settle (its marker is its own) must not drop the newer one's record.
      expect((await stores(0).settle(older, { tokens: 0, costMicros: 0 })).settled).toBe(true);
      expect((await stores(1).unsettled(older.subject ?? ""))?.id).toBe(again.id);
      const plain = await stores(0).reserve(input({ userId }));
      expect(plain.subject).toBeUndefined();
      expect((await stores(1).settle(plain, { tokens: 0, costMicros: 0 })).settled).toBe(true);
    });

    test("bad numbers are refused before touching any counter", async () => {
      const store = makeStores()(0);
      await expect(store.reserve(input({ userId: id("u"), estimate: { tokens: -1, costMicros: 0 } }))).rejects.toThrow(RangeError);
      await expect(store.reserve(input({ userId: id("u"), estimate: { tokens: 1, costMicros: Number.NaN } }))).rejects.toThrow(RangeError);
    });

    test("concurrent reservations never overshoot a small budget or a small rpm limit", async () => {
      const stores = makeStores();
      const groupId = id("school");
      const budget = 10_000;
      const estimate = 1_000;
      const groups = [{ groupId, monthlyBudgetMicros: budget }];
      const results = await Promise.allSettled(
        Array.from({ length: 60 }, (_, i) => stores(i).reserve(input({ userId: id("u"), groups, estimate: { tokens: 1, costMicros: estimate } }))),
      );
      const admitted = results.filter((r) => r.status === "fulfilled");
      const refused = results.filter((r) => r.status === "rejected");
      for (const r of refused) expect((r.reason as LimitExceededError).code).toBe("BUDGET_EXCEEDED");
      const spent = (await stores(0).usage({ userId: "x", groupIds: [groupId], now: T0 })).spentThisMonthMicros[groupId] ?? 0;
      expect(spent).toBe(admitted.length * estimate);
      // Never past the budget, and short of it by less than one reservation (nothing wasted).
      expect(spent).toBeLessThanOrEqual(budget);
      expect(budget - spent).toBeLessThan(estimate);
      expect(admitted.length).toBe(10);

      const userId = id("user");
      const rpmResults = await Promise.allSettled(Array.from({ length: 40 }, (_, i) => stores(i).reserve(input({ userId, limits: { requestsPerMinute: 5 } }))));
      expect(rpmResults.filter((r) => r.status === "fulfilled").length).toBe(5);
      expect((await stores(0).usage({ userId, groupIds: [], now: T0 })).requestsLastMinute).toBe(5);
    });
  });
}

test.skipIf(!redisUrl)("the Redis store reloads its scripts after SCRIPT FLUSH (restart or failover)", async () => {
  const redis = redisConnection();
  const store = new RedisLimitStore(redis, { keyPrefix: `test:${crypto.randomUUID()}:` });
  await store.reserve(input({ userId: "u" }));
  await redis.script("FLUSH");
  await store.reserve(input({ userId: "u" }));
  expect((await store.usage({ userId: "u", groupIds: [], now: T0 })).requestsLastMinute).toBe(2);
});

test("with Redis unreachable the store says so up front, and refuses with a 503 rather than a connection error", async () => {
  // Nothing listens on port 1: the same failures as an outage, on every CI pass.
  const redis = new Redis("redis://127.0.0.1:1", { enableOfflineQueue: false, maxRetriesPerRequest: 0, lazyConnect: false, retryStrategy: () => 1000 });
  redis.on("error", () => {});
  try {
    const store = new RedisLimitStore(redis);
    expect(store.available()).toBe(false);
    const refused = await store.reserve(input({ userId: "u" })).catch((err: unknown) => err);
    expect(refused).toBeInstanceOf(ServiceUnavailableError);
    expect(refused).toMatchObject({ status: 503, retryAfterSeconds: 2, details: { retryAfterSeconds: 2 } });
    const memory: LimitStore = new MemoryLimitStore();
    expect(memory.available?.() ?? true).toBe(true);
  } finally {
    redis.disconnect();
  }
});

// Counters get their TTL when created (not on every charge): every key a reserve or a settle
// leaves behind must still expire, also one a settle creates again after it expired.
const ttlTargets: [string, () => Redis | Cluster, string, boolean][] = [
  ["redis", () => redisConnection(), `test:${crypto.randomUUID()}:`, !redisUrl],
  ["redis-cluster", clusterConnection, `test:{${crypto.randomUUID()}}:`, clusterNodes.length === 0],
];
for (const [name, connect, prefix, skip] of ttlTargets) {
  test.skipIf(skip)(`${name}: every counter a reserve or settle writes expires, none lives on`, async () => {
    const redis = connect();
    const store = new RedisLimitStore(redis, { keyPrefix: prefix });
    const userId = id("u");
    const groupId = id("g");
    const now = Date.now();
    const minute = Math.floor(now / 60_000);
    const hour = Math.floor(now / 3_600_000);
    const day = new Date(now).toISOString().slice(0, 10);
    const month = day.slice(0, 7);
    const keys = {
      rpm: `${prefix}u:${userId}:rpm:${minute}`,
      rph: `${prefix}u:${userId}:rph:${hour}`,
      tokens: `${prefix}u:${userId}:tokens:${day}`,
      spend: `${prefix}g:${groupId}:spend:${month}`,
    };
    const ttls = async () => Object.fromEntries(await Promise.all(Object.entries(keys).map(async ([k, key]) => [k, await redis.pttl(key)] as const)));
    const estimate = { tokens: 1_000, costMicros: 2_000 };
    const first = await store.reserve({ userId, limits: { requestsPerMinute: 100 }, groups: [{ groupId, monthlyBudgetMicros: 1_000_000 }], estimate, now });
    let t = await ttls();
    expect(t.rpm).toBeGreaterThan(60_000);
    expect(t.rpm).toBeLessThanOrEqual(120_000);
    expect(t.rph).toBeGreaterThan(3_600_000);
    expect(t.rph).toBeLessThanOrEqual(7_200_000);
    expect(t.tokens).toBeGreaterThan(0);
    expect(t.spend).toBeGreaterThan(0);
    // A second charge keeps the counters and their TTLs (it does not create them again).
    const second = await store.reserve({ userId, limits: {}, groups: [{ groupId, monthlyBudgetMicros: null }], estimate, now });
    expect(await redis.get(keys.rpm)).toBe("2");
    expect(await redis.get(keys.spend)).toBe("4000");
    t = await ttls();
    for (const v of Object.values(t)) expect(v).toBeGreaterThan(0);
    // The day and month counters expired before the settle: it writes them again, with a TTL,
    // and a correction below zero leaves zero (with a TTL), not a negative or an immortal key.
    await redis.del(keys.tokens, keys.spend);
    expect((await store.settle(first, { tokens: 1_500, costMicros: 500 })).settled).toBe(true);
    expect(await redis.get(keys.tokens)).toBe("500");
    expect(await redis.get(keys.spend)).toBe("0");
    t = await ttls();
    expect(t.tokens).toBeGreaterThan(0);
    expect(t.spend).toBeGreaterThan(0);
    expect((await store.settle(second, { tokens: 0, costMicros: 0 })).settled).toBe(true);
    expect(await redis.get(keys.tokens)).toBe("0");
    t = await ttls();
    for (const v of Object.values(t)) expect(v).toBeGreaterThan(0);
    // A kept reservation expires with the month it charged, and goes when it is settled.
    const subject = id("answer");
    const keptReservation = await store.reserve({ userId, limits: {}, groups: [], estimate, now, subject });
    const keptTtl = await redis.pttl(`${prefix}kept:${subject}`);
    expect(keptTtl).toBeGreaterThan(61 * 86_400_000);
    expect(keptTtl).toBeLessThanOrEqual(62 * 86_400_000);
    expect((await store.settle(keptReservation, { tokens: 0, costMicros: 0 })).settled).toBe(true);
    expect(await redis.exists(`${prefix}kept:${subject}`)).toBe(0);
    // A free call charges nothing: no counter is created for it (absent reads as zero).
    const freeGroup = id("g");
    const free = await store.reserve({ userId, limits: {}, groups: [{ groupId: freeGroup, monthlyBudgetMicros: 10 }], estimate: { tokens: 5, costMicros: 0 }, now });
    expect(await redis.exists(`${prefix}g:${freeGroup}:spend:${month}`)).toBe(0);
    expect((await store.settle(free, { tokens: 5, costMicros: 0 })).settled).toBe(true);
    expect(await redis.exists(`${prefix}g:${freeGroup}:spend:${month}`)).toBe(0);
    expect((await store.usage({ userId, groupIds: [freeGroup, groupId], now })).spentThisMonthMicros).toEqual({ [freeGroup]: 0, [groupId]: 0 });
  });
}
