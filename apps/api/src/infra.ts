import { type BlobStore, createDirectoryBlobStore, createS3BlobStore } from "@raptscallions/blob";
import {
  type Bus,
  connectRedis,
  connectRedisCluster,
  createMemoryBus,
  createMemoryKeyValueStore,
  createMemoryPresence,
  createRedisBus,
  createRedisKeyValueStore,
  createRedisPresence,
  type KeyValueStore,
  type Presence,
  type RedisBusOptions,
  type RedisClient,
  type RedisClusterConfig,
  whenReady,
} from "@raptscallions/bus";
import { join } from "node:path";
import type { ReadinessCheck } from "./deps.ts";
import type { Env } from "./env.ts";
import type { Logger } from "./lib/logger.ts";

/** The infrastructure parts chosen from the environment: real when configured, embedded otherwise. */
export interface Infrastructure {
  kv: KeyValueStore;
  bus: Bus;
  presence: Presence;
  blob: BlobStore;
  /** The shared commands connection (one Redis or a Cluster); null on the embedded defaults. */
  redis: RedisClient | null;
  /** True when `redis` is a Redis Cluster: multi-key scripts then need hash-tagged keys. */
  redisCluster: boolean;
  readiness: ReadinessCheck[];
  describe: Record<string, string>;
  close(): Promise<void>;
}

/** Where instances share their state: one Redis (`url`) or a Redis Cluster (`cluster`). */
export type RedisTarget = { url: string; cluster?: undefined } | { cluster: RedisClusterConfig; url?: undefined };

/**
 * The state instances share on one Redis deployment: a commands connection carrying the key-value
 * store and presence, and `bus()` for each instance's bus (a bus owns its publisher and its
 * subscriber connection). `namespace` prefixes every key ("rapt:" by default; a test run uses its
 * own so runs sharing a Redis never meet).
 */
export function connectSharedState(
  target: RedisTarget,
  opts: { connectionName?: string; namespace?: string; onError?: (err: Error) => void } = {},
): {
  redis: RedisClient;
  kv: KeyValueStore;
  presence: Presence;
  bus(options?: Omit<RedisBusOptions, "url" | "cluster" | "keyPrefix">): ReturnType<typeof createRedisBus>;
} {
  const { connectionName, namespace } = opts;
  const redis = target.cluster ? connectRedisCluster(target.cluster, "commands", { connectionName }) : connectRedis(target.url, "commands", { connectionName });
  // ioredis emits 'error' on every failed reconnect; unhandled it would crash the process.
  redis.on("error", opts.onError ?? (() => undefined));
  const keyPrefix = (part: string) => (namespace === undefined ? {} : { keyPrefix: `${namespace}${part}:` });
  return {
    redis,
    kv: createRedisKeyValueStore({ redis, ...keyPrefix("kv") }),
    presence: createRedisPresence({ redis, ...keyPrefix("presence") }),
    bus: (options = {}) => createRedisBus({ ...(target.cluster ? { cluster: target.cluster } : { url: target.url }), ...keyPrefix("bus"), ...options }),
  };
}

export async function buildInfrastructure(env: Env, logger: Logger, instanceId: string): Promise<Infrastructure> {
  const readiness: ReadinessCheck[] = [];
  const closers: (() => Promise<unknown>)[] = [];

  let redis: RedisClient | null = null;
  let kv: KeyValueStore;
  let bus: Bus;
  let presence: Presence;
  const cluster = env.REDIS_CLUSTER_NODES ? { nodes: env.REDIS_CLUSTER_NODES, username: env.REDIS_CLUSTER_USERNAME, password: env.REDIS_CLUSTER_PASSWORD } : undefined;
  if (env.REDIS_URL || cluster) {
    const state = connectSharedState(cluster ? { cluster } : { url: env.REDIS_URL ?? "" }, {
      connectionName: `${instanceId}:commands`,
      onError: (err) => logger.warn("redis error", { err: err.message }),
    });
    redis = state.redis;
    const client = redis;
    kv = state.kv;
    presence = state.presence;
    const redisBus = state.bus({
      nodeId: instanceId,
      replayLimit: env.LIVE_REPLAY_LIMIT,
      onError: (err, where) => logger.warn("bus", { where, err }),
    });
    bus = redisBus;
    // Commands fail fast while a connection is not ready (a Cluster first loads its slot map):
    // wait for it so the first tickets and presence calls are not 503s.
    await whenReady(client, 5000).catch((err) => logger.warn("redis not ready yet; shared state answers 503 until it is", { err }));
    // Serving before the bus is ready would number early events locally and rotate them later.
    await redisBus.ready(5000).catch((err) => logger.warn("redis bus not ready; delivering locally until it is", { err }));
    readiness.push({ name: "redis", check: async () => void (await client.ping()) });
    closers.push(() => redisBus.close());
    closers.push(() => client.quit().catch(() => client.disconnect()));
  } else {
    kv = createMemoryKeyValueStore();
    presence = createMemoryPresence();
    bus = createMemoryBus({ replayLimit: env.LIVE_REPLAY_LIMIT }).node({ nodeId: instanceId });
  }

  let blob: BlobStore;
  if (env.S3_BUCKET) {
    blob = createS3BlobStore({
      endpoint: env.S3_ENDPOINT,
      region: env.S3_REGION,
      bucket: env.S3_BUCKET,
      accessKeyId: env.S3_ACCESS_KEY_ID,
      secretAccessKey: env.S3_SECRET_ACCESS_KEY,
      forcePathStyle: env.S3_FORCE_PATH_STYLE || Boolean(env.S3_ENDPOINT),
      createBucket: env.S3_CREATE_BUCKET,
    });
    const store = blob;
    readiness.push({ name: "s3", check: () => store.ping() });
  } else {
    blob = createDirectoryBlobStore({ root: join(env.DATA_DIR, "blobs") });
  }

  return {
    kv,
    bus,
    presence,
    blob,
    redis,
    redisCluster: cluster !== undefined,
    readiness,
    describe: { redis: cluster ? "redis-cluster" : redis ? "redis" : "in-process", blob: env.S3_BUCKET ? "s3" : "directory" },
    async close() {
      await Promise.allSettled(closers.map((f) => f()));
    },
  };
}
