export type { KeySelector, KeyValueStore } from "./types.ts";
export { createMemoryKeyValueStore } from "./memory-kv.ts";
export { createRedisKeyValueStore, type RedisKeyValueStoreOptions } from "./redis-kv.ts";
