import { afterEach, describe, expect, test } from "bun:test";
import { ServiceUnavailableError } from "@raptscallions/core";
import { Cluster, Redis } from "ioredis";
import { createMemoryKeyValueStore, createRedisKeyValueStore, type KeyValueStore } from "../src/index.ts";
import { REDIS_URL, deleteKeys, range, requireRedisUrl, waitFor } from "./support.ts";
import { CLUSTER, deleteClusterKeys, requireCluster } from "./cluster.ts";

interface KvFlavour {
  name: string;
  /** Redis needs TEST_REDIS_URL; without it the suite is reported as skipped. */
  skip?: boolean;
  make(): { stores: [KeyValueStore, KeyValueStore]; pttl(key: string): Promise<number>; cleanup(): Promise<void> };
}

const flavours: KvFlavour[] = [
  {
    name: "memory",
    make() {
      const store = createMemoryKeyValueStore();
      return { stores: [store, store], pttl: async () => -1, cleanup: async () => undefined };
    },
  },
  {
    name: "redis",
    skip: REDIS_URL === undefined,
    make() {
      const redisUrl = requireRedisUrl();
      const keyPrefix = `test:kv:${crypto.randomUUID()}:`;
      const clients = [new Redis(redisUrl), new Redis(redisUrl)];
      return {
        stores: clients.map((redis) => createRedisKeyValueStore({ redis, keyPrefix })) as [KeyValueStore, KeyValueStore],
        pttl: (key) => (clients[0] as Redis).pttl(keyPrefix + key),
        async cleanup() {
          for (const client of clients) client.disconnect();
          await deleteKeys(redisUrl, [keyPrefix]);
        },
      };
    },
  },
  {
    // Keys of one store land on different shards: multi-key deletes and prefix deletes must cope.
    name: "redis-cluster",
    skip: CLUSTER === undefined,
    make() {
      const { nodes } = requireCluster();
      const keyPrefix = `test:kv:${crypto.randomUUID()}:`;
      const clients = [new Cluster([...nodes]), new Cluster([...nodes])];
      return {
        stores: clients.map((redis) => createRedisKeyValueStore({ redis, keyPrefix })) as [KeyValueStore, KeyValueStore],
        pttl: (key) => (clients[0] as Cluster).pttl(keyPrefix + key),
        async cleanup() {
          for (const client of clients) client.disconnect();
          await deleteClusterKeys([keyPrefix]);
        },
      };
    },
  },
];

for (const flavour of flavours) {
  describe.skipIf(flavour.skip ?? false)(`key-value store (${flavour.name})`, () => {
    let cleanup: () => Promise<void> = async () => undefined;
    const setup = () => {
      const made = flavour.make();
      cleanup = made.cleanup;
      return made;
    };
    afterEach(async () => {
      await cleanup();
    });

    test("get, set, overwrite and expiry", async () => {
      const {
        stores: [kv],
      } = setup();
      expect(await kv.get("missing")).toBeNull();
      await kv.set("theme:g1", '{"accent":"#123"}');
      expect(await kv.get("theme:g1")).toBe('{"accent":"#123"}');
      await kv.set("theme:g1", "v2", 60_000);
      expect(await kv.get("theme:g1")).toBe("v2");
      await kv.set("short", "x", 20);
      await waitFor("expiry", async () => (await kv.get("short")) === null);
      expect(await kv.getDel("short")).toBeNull();
    });

    test("getDel is single-use: of many concurrent claims across instances exactly one wins", async () => {
      const {
        stores: [one, two],
      } = setup();
      for (const round of range(1, 20)) {
        await one.set(`ticket:${round}`, `payload-${round}`, 30_000);
        const claims = await Promise.all(range(1, 10).map((i) => (i % 2 ? one : two).getDel(`ticket:${round}`)));
        expect(claims.filter((c) => c !== null)).toEqual([`payload-${round}`]);
        expect(await two.get(`ticket:${round}`)).toBeNull();
      }
    });

    test("del by key, by list and by prefix", async () => {
      const {
        stores: [kv],
      } = setup();
      for (const key of ["theme:a", "theme:b", "theme:c", "themes", "other:*"]) await kv.set(key, "1");
      expect(await kv.del("theme:a")).toBe(1);
      expect(await kv.del(["theme:b", "nope"])).toBe(1);
      expect(await kv.del([])).toBe(0);
      expect(await kv.del({ prefix: "theme:" })).toBe(1);
      expect(await kv.get("themes")).toBe("1");
      // Glob characters in a prefix are literal.
      expect(await kv.del({ prefix: "other:*" })).toBe(1);
      expect(await kv.del({ prefix: "o" })).toBe(0);
    });

    test("incr counts atomically and sets the TTL only on creation", async () => {
      const {
        stores: [one, two],
        pttl,
      } = setup();
      const results = await Promise.all(range(1, 50).map((i) => (i % 2 ? one : two).incr("rate:u1", 1, 60_000)));
      expect(results.sort((a, b) => a - b)).toEqual(range(1, 50));
      expect(await one.incr("rate:u1", 5)).toBe(55);
      const ttl = await pttl("rate:u1");
      if (flavour.name !== "memory") expect(ttl > 0 && ttl <= 60_000).toBe(true);
      await one.set("text", "abc");
      await expect(one.incr("text")).rejects.toThrow();
    });
  });
}

describe("Redis key-value store with Redis unreachable", () => {
  test("every call is a 503 ServiceUnavailableError, bad input still its own error", async () => {
    // Nothing listens on port 1: the same failures as an outage, on every CI pass.
    const redis = new Redis("redis://127.0.0.1:1", { enableOfflineQueue: false, maxRetriesPerRequest: 0, retryStrategy: () => 1000 });
    redis.on("error", () => {});
    try {
      const store = createRedisKeyValueStore({ redis });
      for (const call of [() => store.get("k"), () => store.set("k", "v", 1000), () => store.getDel("k"), () => store.incr("k"), () => store.del({ prefix: "k" })]) {
        const err = await call().catch((e: unknown) => e);
        expect(err).toBeInstanceOf(ServiceUnavailableError);
        expect(err).toMatchObject({ code: "SERVICE_UNAVAILABLE", retryAfterSeconds: 2 });
      }
      expect(await store.get("").catch((e: unknown) => e)).not.toBeInstanceOf(ServiceUnavailableError);
    } finally {
      redis.disconnect();
    }
  });
});
