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
  type RedisClient,
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

export async function buildInfrastructure(env: Env, logger: Logger, instanceId: string): Promise<Infrastructure> {
  const readiness: ReadinessCheck[] = [];
  const closers: (() => Promise<unknown>)[] = [];

  let redis: RedisClient | null = null;
  let kv: KeyValueStore;
  let bus: Bus;
  let presence: Presence;
  const cluster = env.REDIS_CLUSTER_NODES ? { nodes: env.REDIS_CLUSTER_NODES, username: env.REDIS_CLUSTER_USERNAME, password: env.REDIS_CLUSTER_PASSWORD } : undefined;
  if (env.REDIS_URL || cluster) {
    const connectionName = `${instanceId}:commands`;
    redis = cluster ? connectRedisCluster(cluster, "commands", { connectionName }) : connectRedis(env.REDIS_URL ?? "", "commands", { connectionName });
    // ioredis emits 'error' on every failed reconnect; unhandled it would crash the process.
    redis.on("error", (err) => logger.warn("redis error", { err: err.message }));
    const client = redis;
    kv = createRedisKeyValueStore({ redis: client });
    presence = createRedisPresence({ redis: client });
    // The bus owns its publisher and its dedicated subscriber connection.
    const redisBus = createRedisBus({
      ...(cluster ? { cluster } : { url: env.REDIS_URL }),
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
