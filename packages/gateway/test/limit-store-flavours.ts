import Redis, { Cluster } from "ioredis";
import { type LimitStore, MemoryLimitStore, RedisLimitStore } from "../src/index.ts";

/** TEST_REDIS_URL: the Redis the Redis flavour runs on (unset: skipped). */
export const redisUrl = process.env.TEST_REDIS_URL || undefined;
/** `host:port,…` of a Redis Cluster (CI's cluster pass): the cluster flavour runs on it (unset: skipped). */
export const clusterNodes = (process.env.TEST_REDIS_CLUSTER_NODES || "")
  .split(",")
  .filter(Boolean)
  .map((entry) => ({ host: entry.slice(0, entry.lastIndexOf(":")), port: Number(entry.slice(entry.lastIndexOf(":") + 1)) }));

const connections: Array<Redis | Cluster> = [];

/** A connection to TEST_REDIS_URL, closed by {@link closeLimitStoreConnections}. */
export function redisConnection(): Redis {
  const redis = new Redis(redisUrl ?? "", { maxRetriesPerRequest: 1 });
  connections.push(redis);
  return redis;
}

/** A connection to the test cluster, closed by {@link closeLimitStoreConnections}. */
export function clusterConnection(): Cluster {
  const cluster = new Cluster(clusterNodes, { redisOptions: { maxRetriesPerRequest: 1 } });
  connections.push(cluster);
  return cluster;
}

/** Closes every connection this module opened (a suite's last step). */
export async function closeLimitStoreConnections(): Promise<void> {
  await Promise.all(connections.splice(0).map((c) => c.quit()));
}

/**
 * The limit stores a suite runs on, each as a factory of "instances" sharing one backing store: the
 * in-process store is one object; Redis and a Redis Cluster get one connection per instance, as
 * separate API processes would (up to three, made on first use), under a fresh hash-tagged prefix (a reservation's user and group
 * counters in one cluster slot). `skip` is set for a server the environment does not name, so the
 * run reports the flavour as skipped rather than leaving it out.
 */
export function limitStoreFlavours(): { name: string; instances: () => (instance: number) => LimitStore; skip: boolean }[] {
  const shared = (connect: () => Redis | Cluster) => () => {
    const prefix = `test:{${crypto.randomUUID()}}:`;
    // Connected on first use, so a suite that needs one instance opens one connection.
    const stores: LimitStore[] = [];
    return (instance: number) => (stores[instance % 3] ??= new RedisLimitStore(connect(), { keyPrefix: prefix }));
  };
  return [
    {
      name: "memory",
      instances: () => {
        const store = new MemoryLimitStore();
        return () => store;
      },
      skip: false,
    },
    { name: "redis", instances: shared(redisConnection), skip: !redisUrl },
    { name: "redis-cluster", instances: shared(clusterConnection), skip: clusterNodes.length === 0 },
  ];
}
