import { spawnSync } from "node:child_process";
import { Redis } from "ioredis";
import { connectRedisCluster, parseClusterNodes, type RedisClusterConfig } from "../src/index.ts";

/**
 * A Redis Cluster to run the Redis suites on as well: `TEST_REDIS_CLUSTER_NODES=host:port,…`
 * (CI starts one with `.ci/redis-cluster.sh start`). Unset or empty: cluster suites are skipped.
 */
const nodesText = process.env.TEST_REDIS_CLUSTER_NODES || undefined;
export const CLUSTER: RedisClusterConfig | undefined = nodesText ? { nodes: parseClusterNodes(nodesText) } : undefined;

export function requireCluster(): RedisClusterConfig {
  if (CLUSTER === undefined) throw new Error("TEST_REDIS_CLUSTER_NODES is not set");
  return CLUSTER;
}

/** A commands connection to the test cluster, ready. */
export async function clusterClient(): Promise<ReturnType<typeof connectRedisCluster>> {
  const client = connectRedisCluster(requireCluster(), "commands");
  client.on("error", () => undefined);
  if (client.status !== "ready") await new Promise((resolve) => client.once("ready", resolve));
  return client;
}

/** Deletes every key under the prefixes on every primary (KEYS is fine on a test cluster). */
export async function deleteClusterKeys(prefixes: readonly string[]): Promise<void> {
  const client = await clusterClient();
  try {
    for (const primary of client.nodes("master")) {
      for (const prefix of prefixes) {
        const keys = await primary.keys(`${prefix}*`);
        for (const key of keys) await client.del(key);
      }
    }
  } finally {
    client.disconnect();
  }
}

interface ClusterNode {
  id: string;
  host: string;
  port: number;
  primary: boolean;
  slots: Array<[number, number]>;
}

async function clusterNodes(admin: Redis): Promise<ClusterNode[]> {
  const text = (await admin.call("CLUSTER", "NODES")) as string;
  return text
    .trim()
    .split("\n")
    .map((line) => {
      const [id = "", address = "", flags = "", , , , , , ...slotRanges] = line.split(" ");
      const [hostPort = ""] = address.split("@");
      const colon = hostPort.lastIndexOf(":");
      const slots = slotRanges
        .filter((range) => !range.startsWith("["))
        .map((range) => {
          const [from, to] = range.split("-").map(Number);
          return [from ?? 0, to ?? from ?? 0] as [number, number];
        });
      return { id, host: hostPort.slice(0, colon), port: Number(hostPort.slice(colon + 1)), primary: flags.includes("master") && !flags.includes("fail"), slots };
    });
}

/**
 * Kills (SIGKILL-like: SHUTDOWN NOSAVE, no failover handshake) the primary that owns `key`, and
 * returns how to wait for its replica's promotion and how to bring the old primary back (it
 * rejoins as a replica, so later tests find three primaries with a replica each again).
 * `cluster` defaults to the test cluster (the bench passes the one it started).
 */
export async function killPrimaryOf(
  key: string,
  cluster: RedisClusterConfig = requireCluster(),
): Promise<{ port: number; waitForFailover(timeoutMs?: number): Promise<void>; restart(): Promise<void> }> {
  const seed = cluster.nodes[0];
  if (!seed) throw new Error("no cluster node");
  const admin = new Redis(seed.port, seed.host);
  let victim: ClusterNode | undefined;
  let dir = "";
  let logfile = "";
  let slot = 0;
  try {
    slot = Number(await admin.call("CLUSTER", "KEYSLOT", key));
    victim = (await clusterNodes(admin)).find((node) => node.primary && node.slots.some(([from, to]) => slot >= from && slot <= to));
    if (!victim) throw new Error(`no primary owns slot ${slot}`);
    // No reconnect after the shutdown: it would only report the refused connections.
    const direct = new Redis(victim.port, victim.host, { retryStrategy: () => null });
    direct.on("error", () => undefined);
    try {
      dir = ((await direct.config("GET", "dir")) as string[])[1] ?? "";
      logfile = ((await direct.config("GET", "logfile")) as string[])[1] ?? "";
      await direct.call("SHUTDOWN", "NOSAVE").catch(() => undefined);
    } finally {
      direct.disconnect();
    }
  } finally {
    admin.disconnect();
  }
  const killed = victim;
  return {
    port: killed.port,
    async waitForFailover(timeoutMs = 15_000) {
      const deadline = Date.now() + timeoutMs;
      const other = cluster.nodes.find((node) => node.port !== killed.port) ?? seed;
      for (;;) {
        const probe = new Redis(other.port, other.host, { lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null });
        probe.on("error", () => undefined);
        try {
          await probe.connect();
          const owner = (await clusterNodes(probe)).find((node) => node.primary && node.slots.some(([from, to]) => slot >= from && slot <= to));
          const info = (await probe.call("CLUSTER", "INFO")) as string;
          if (owner && owner.port !== killed.port && info.includes("cluster_state:ok")) return;
        } catch {
          // That node is unreachable too: try again.
        } finally {
          probe.disconnect();
        }
        if (Date.now() > deadline) throw new Error(`no failover of slot ${slot} within ${timeoutMs} ms`);
        await Bun.sleep(100);
      }
    },
    async restart() {
      const args = ["--port", String(killed.port), "--bind", "127.0.0.1", "--cluster-enabled", "yes", "--cluster-config-file", `nodes-${killed.port}.conf`];
      args.push("--cluster-node-timeout", "1000", "--cluster-require-full-coverage", "no", "--save", "", "--appendonly", "no", "--daemonize", "yes", "--dir", dir);
      if (logfile) args.push("--logfile", logfile);
      const started = spawnSync("redis-server", args, { stdio: "ignore" });
      if (started.status !== 0) throw new Error(`redis-server on ${killed.port} did not start`);
      const deadline = Date.now() + 15_000;
      for (;;) {
        const probe = new Redis(killed.port, killed.host, { lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null });
        probe.on("error", () => undefined);
        try {
          await probe.connect();
          const info = (await probe.call("CLUSTER", "INFO")) as string;
          // Back as a replica with its data in sync, so it can take over in a later failover.
          const replication = await probe.info("replication");
          if (info.includes("cluster_state:ok") && replication.includes("role:slave") && replication.includes("master_link_status:up")) return;
        } catch {
          // Still starting.
        } finally {
          probe.disconnect();
        }
        if (Date.now() > deadline) throw new Error(`node ${killed.port} did not rejoin the cluster`);
        await Bun.sleep(100);
      }
    },
  };
}
