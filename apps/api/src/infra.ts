import { type BlobStore, createDirectoryBlobStore, createS3BlobStore } from "@raptscallions/blob";
import { connectRedis, createMemoryKeyValueStore, createRedisKeyValueStore, type KeyValueStore } from "@raptscallions/bus";
import type { Redis } from "ioredis";
import { join } from "node:path";
import type { ReadinessCheck } from "./deps.ts";
import type { Env } from "./env.ts";
import type { Logger } from "./lib/logger.ts";

/** The infrastructure parts chosen from the environment: real when configured, embedded otherwise. */
export interface Infrastructure {
  kv: KeyValueStore;
  blob: BlobStore;
  redis: Redis | null;
  readiness: ReadinessCheck[];
  describe: Record<string, string>;
  close(): Promise<void>;
}

export async function buildInfrastructure(env: Env, logger: Logger, instanceId: string): Promise<Infrastructure> {
  const readiness: ReadinessCheck[] = [];
  const closers: (() => Promise<unknown>)[] = [];

  let redis: Redis | null = null;
  let kv: KeyValueStore;
  if (env.REDIS_URL) {
    redis = connectRedis(env.REDIS_URL, "commands", { connectionName: `${instanceId}:commands` });
    // ioredis emits 'error' on every failed reconnect; unhandled it would crash the process.
    redis.on("error", (err) => logger.warn("redis error", { err: err.message }));
    const client = redis;
    kv = createRedisKeyValueStore({ redis: client });
    readiness.push({ name: "redis", check: async () => void (await client.ping()) });
    closers.push(() => client.quit().catch(() => client.disconnect()));
  } else {
    kv = createMemoryKeyValueStore();
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
    blob,
    redis,
    readiness,
    describe: { redis: redis ? "redis" : "in-process", blob: env.S3_BUCKET ? "s3" : "directory" },
    async close() {
      await Promise.allSettled(closers.map((f) => f()));
    },
  };
}
