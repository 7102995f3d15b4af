import { createHash } from "node:crypto";
import diagnosticsChannel from "node:diagnostics_channel";
import { isRedisUnavailable, ServiceUnavailableError } from "@raptscallions/core";
import { Cluster, type ClusterOptions, Redis } from "ioredis";

// ioredis traces a command unless its tracing channel says `hasSubscribers === false`. Node's
// TracingChannel has that getter; Bun 1.4's has not (undefined), so without it every command on
// every connection was wrapped in a traced promise and had its arguments copied into a context
// nobody reads. The getter as Node defines it: any of the five channels has a subscriber.
const tracingChannelPrototype = Object.getPrototypeOf(diagnosticsChannel.tracingChannel("rapt:probe")) as object;
if (!("hasSubscribers" in tracingChannelPrototype)) {
  Object.defineProperty(tracingChannelPrototype, "hasSubscribers", {
    configurable: true,
    get(this: Partial<Record<"start" | "end" | "asyncStart" | "asyncEnd" | "error", { hasSubscribers: boolean }>>) {
      return Boolean(
        this.start?.hasSubscribers || this.end?.hasSubscribers || this.asyncStart?.hasSubscribers || this.asyncEnd?.hasSubscribers || this.error?.hasSubscribers,
      );
    },
  });
}

/** A connection that runs commands: one Redis server, or a Redis Cluster (keys routed by slot). */
export type RedisClient = Redis | Cluster;

/**
 * Where a Redis Cluster is: some of its nodes (the client discovers the rest) and the
 * credentials every node shares.
 */
export interface RedisClusterConfig {
  nodes: ReadonlyArray<{ host: string; port: number }>;
  username?: string;
  password?: string;
}

/** A Lua script run by SHA, loading it only when Redis answers NOSCRIPT (e.g. after a restart). */
export interface LuaScript {
  readonly source: string;
  readonly sha: string;
}

export function defineScript(source: string): LuaScript {
  return { source, sha: createHash("sha1").update(source).digest("hex") };
}

export async function runScript(redis: RedisClient, script: LuaScript, keys: readonly string[], args: ReadonlyArray<string | number>): Promise<unknown> {
  try {
    return await redis.evalsha(script.sha, keys.length, ...keys, ...args);
  } catch (error) {
    if (error instanceof Error && error.message.startsWith("NOSCRIPT")) {
      return await redis.eval(script.source, keys.length, ...keys, ...args);
    }
    throw error;
  }
}

/**
 * True for failures that mean Redis is unreachable or unable to serve, false for errors in the
 * command itself, which must surface instead of being papered over by local delivery.
 */
export const isUnavailable = isRedisUnavailable;

/**
 * Runs a Redis call for a store with no local fallback (key-value, presence): an outage becomes
 * a 503 `SERVICE_UNAVAILABLE` with a retry hint instead of a raw connection error (a 500).
 */
export async function orUnavailable<T>(what: string, call: () => Promise<T>): Promise<T> {
  try {
    return await call();
  } catch (error) {
    if (isRedisUnavailable(error)) throw new ServiceUnavailableError(`${what} is unavailable right now; retry shortly`, { cause: error });
    throw error;
  }
}

/**
 * Opens a connection configured the way the bus relies on:
 * - no offline queue and no resend after a reconnect: while disconnected a command fails at once
 *   (so a publish degrades to local delivery instead of hanging) and is never executed twice;
 * - no automatic re-subscribe: the bus re-subscribes itself, so it knows when the channel set
 *   is effective again and can then tell listeners to resync;
 * - `commands` connections get a command timeout, so a hung Redis also counts as unavailable.
 * Both retry the connection forever with capped back-off. Share one `commands` connection
 * between the bus, presence and the key-value store; the `subscriber` is the bus' alone.
 * `autoPipelining` batches a `commands` connection's writes per event-loop turn (the bus
 * publisher turns it on: many answers stream at once, each publishing every few tens of ms);
 * `autoPipeliningIgnoredCommands` are sent at once instead (commands the caller batches itself).
 */
export function connectRedis(
  url: string,
  role: "commands" | "subscriber",
  options: { connectionName?: string; commandTimeoutMs?: number; autoPipelining?: boolean; autoPipeliningIgnoredCommands?: string[] } = {},
): Redis {
  return new Redis(url, {
    connectionName: options.connectionName,
    // Commands issued in one turn of the event loop leave in one write (one syscall) instead of
    // one each; replies still resolve each command on its own, in order.
    enableAutoPipelining: options.autoPipelining === true && role === "commands",
    autoPipeliningIgnoredCommands: options.autoPipeliningIgnoredCommands ?? [],
    enableOfflineQueue: false,
    autoResendUnfulfilledCommands: false,
    autoResubscribe: false,
    maxRetriesPerRequest: 0,
    commandTimeout: role === "commands" ? (options.commandTimeoutMs ?? 2000) : undefined,
    retryStrategy: (attempt) => Math.min(50 * 2 ** Math.min(attempt, 6), 2000),
  });
}

/**
 * `connectRedis` for a Redis Cluster, with the same failure behaviour. Commands are routed to the
 * primary of their key's slot, so every multi-key command or script must name keys of one slot
 * (the callers hash-tag them). A `subscriber` uses sharded pub/sub: one subscriber connection per
 * primary, SSUBSCRIBE/SMESSAGE, so a message only travels inside the shard that owns its channel.
 */
export function connectRedisCluster(
  config: RedisClusterConfig,
  role: "commands" | "subscriber",
  options: { connectionName?: string; commandTimeoutMs?: number } = {},
): Cluster {
  const clusterOptions: ClusterOptions = {
    // Subscriptions wait for the shard's connection; commands fail at once while it is down.
    enableOfflineQueue: role === "subscriber",
    shardedSubscribers: role === "subscriber",
    clusterRetryStrategy: (attempt) => Math.min(50 * 2 ** Math.min(attempt, 6), 2000),
    // A primary that died answers CLUSTERDOWN until its replica is promoted (about the node
    // timeout): give up quickly and let the caller degrade, rather than retrying for seconds.
    maxRedirections: 4,
    retryDelayOnFailover: 100,
    retryDelayOnClusterDown: 100,
    retryDelayOnTryAgain: 100,
    slotsRefreshTimeout: 1000,
    redisOptions: {
      connectionName: options.connectionName,
      username: config.username,
      password: config.password,
      autoResendUnfulfilledCommands: false,
      autoResubscribe: false,
      maxRetriesPerRequest: 0,
      commandTimeout: role === "commands" ? (options.commandTimeoutMs ?? 2000) : undefined,
    },
  };
  return new Cluster(
    config.nodes.map((node) => ({ host: node.host, port: node.port })),
    clusterOptions,
  );
}

/** Resolves when the connection is ready, rejects after `timeoutMs`. */
export function whenReady(redis: RedisClient, timeoutMs: number): Promise<void> {
  if (redis.status === "ready") return Promise.resolve();
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      redis.off("ready", onReady);
      reject(new Error(`Redis not ready after ${timeoutMs} ms (status ${redis.status})`));
    }, timeoutMs);
    const onReady = () => {
      clearTimeout(timer);
      resolve();
    };
    redis.once("ready", onReady);
  });
}

/** Closes a connection we own without throwing, whatever state it is in. */
export async function closeQuietly(redis: RedisClient): Promise<void> {
  if (redis.status === "end") return;
  if (redis.status !== "ready") {
    redis.disconnect();
    return;
  }
  try {
    await redis.quit();
  } catch {
    redis.disconnect();
  }
}

/**
 * Parses `host:port,host:port` (the form of `REDIS_CLUSTER_NODES`) into cluster nodes; throws a
 * RangeError naming the first bad entry. IPv6 hosts go in brackets: `[::1]:7000`.
 */
export function parseClusterNodes(text: string): Array<{ host: string; port: number }> {
  const entries = text
    .split(",")
    .map((entry) => entry.trim())
    .filter(Boolean);
  if (entries.length === 0) throw new RangeError("no cluster nodes given");
  return entries.map((entry) => {
    const match = /^(\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9.-]+):(\d{1,5})$/.exec(entry);
    const port = Number(match?.[2]);
    if (!match?.[1] || !Number.isInteger(port) || port < 1 || port > 65535) throw new RangeError(`"${entry.slice(0, 100)}" is not host:port`);
    return { host: match[1].replace(/^\[|\]$/g, ""), port };
  });
}
