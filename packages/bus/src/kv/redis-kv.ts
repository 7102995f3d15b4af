import { Cluster, type Redis } from "ioredis";
import { defineScript, orUnavailable, type RedisClient, runScript } from "../redis-support.ts";
import { assertKeyPrefix } from "../room.ts";
import { assertKvInput } from "./validate.ts";
import type { KeySelector, KeyValueStore } from "./types.ts";

// INCRBY and the "only when created" expiry in one step, so a crash between them cannot leave a
// rate-limit counter that never expires.
const INCR = defineScript(`
local created = redis.call('EXISTS', KEYS[1]) == 0
local value = redis.call('INCRBY', KEYS[1], ARGV[1])
if created and tonumber(ARGV[2]) > 0 then redis.call('PEXPIRE', KEYS[1], ARGV[2]) end
return value
`);

const WHAT = "The shared key-value store (Redis)";

export interface RedisKeyValueStoreOptions {
  /** A commands connection (can be the bus publisher), to one Redis or a Cluster. Not closed by this store. */
  redis: RedisClient;
  /** Prepended to every key. Default `rapt:kv:`. */
  keyPrefix?: string;
}

/** Key-value store on Redis; `getDel` is Redis' atomic GETDEL. While Redis is unreachable every call throws a 503 `ServiceUnavailableError`. */
export function createRedisKeyValueStore(options: RedisKeyValueStoreOptions): KeyValueStore {
  const { redis } = options;
  const prefix = options.keyPrefix ?? "rapt:kv:";
  assertKeyPrefix(prefix);

  return {
    async get(key) {
      assertKvInput(key);
      return await orUnavailable(WHAT, () => redis.get(prefix + key));
    },
    async set(key, value, ttlMs) {
      assertKvInput(key, ttlMs);
      await orUnavailable(WHAT, () => (ttlMs === undefined ? redis.set(prefix + key, value) : redis.set(prefix + key, value, "PX", ttlMs)));
    },
    async getDel(key) {
      assertKvInput(key);
      return await orUnavailable(WHAT, () => redis.getdel(prefix + key));
    },
    async del(selector: KeySelector) {
      if (typeof selector === "object" && "prefix" in selector) {
        assertKvInput(selector.prefix);
        return await orUnavailable(WHAT, () => deleteByPrefix(redis, prefix + selector.prefix));
      }
      const keys = typeof selector === "string" ? [selector] : [...selector];
      for (const key of keys) assertKvInput(key);
      if (keys.length === 0) return 0;
      return await orUnavailable(WHAT, () =>
        deleteKeys(
          redis,
          keys.map((key) => prefix + key),
        ),
      );
    },
    async incr(key, by = 1, ttlMs) {
      assertKvInput(key, ttlMs);
      if (!Number.isSafeInteger(by)) throw new RangeError("incr amount must be an integer");
      return Number(await orUnavailable(WHAT, () => runScript(redis, INCR, [prefix + key], [by, ttlMs ?? 0])));
    },
  };
}

// On a Cluster a multi-key DEL must stay inside one slot (CROSSSLOT otherwise), and the keys of a
// selector are unrelated: delete them one by one (ioredis pipelines the calls per node).
async function deleteKeys(redis: RedisClient, keys: string[]): Promise<number> {
  if (!(redis instanceof Cluster)) return await redis.del(...keys);
  const counts = await Promise.all(keys.map((key) => redis.del(key)));
  return counts.reduce((sum, n) => sum + n, 0);
}

/** SCAN + UNLINK in batches: never KEYS, which blocks Redis on a large keyspace. On a Cluster, every primary in turn. */
async function deleteByPrefix(redis: RedisClient, fullPrefix: string): Promise<number> {
  const pattern = `${fullPrefix.replace(/[*?[\]\\]/g, "\\$&")}*`;
  if (!(redis instanceof Cluster)) return await scanAndUnlink(redis, pattern, false);
  let removed = 0;
  for (const primary of redis.nodes("master")) removed += await scanAndUnlink(primary, pattern, true);
  return removed;
}

async function scanAndUnlink(redis: Redis, pattern: string, clusterNode: boolean): Promise<number> {
  let cursor = "0";
  let removed = 0;
  do {
    const [next, keys] = await redis.scan(cursor, "MATCH", pattern, "COUNT", 500);
    cursor = next;
    if (keys.length === 0) continue;
    // A cluster node refuses a multi-key UNLINK across slots (CROSSSLOT): one key per call there.
    if (clusterNode) removed += (await Promise.all(keys.map((key) => redis.unlink(key)))).reduce((sum, n) => sum + n, 0);
    else removed += await redis.unlink(...keys);
  } while (cursor !== "0");
  return removed;
}
