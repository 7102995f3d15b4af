import { createServer, connect, type Server, type Socket } from "node:net";
import { Redis } from "ioredis";
import { eventually } from "@raptscallions/core/testing";
import { createMemoryBus, createRedisBus, type Bus, type RedisBus, type ResumeMessage, subscribeWithResume } from "../src/index.ts";
import { CLUSTER, deleteClusterKeys, requireCluster } from "./cluster.ts";

/** Set in CI: every contract test then runs against real Redis as well. */
// An empty value (CI's embedded pass) means "no Redis", like an unset one.
export const REDIS_URL = process.env.TEST_REDIS_URL || undefined;

export const newRoom = (kind = "session"): string => `${kind}:${crypto.randomUUID()}`;

/** Errors the bus survived, kept instead of printed so tests can inspect them. */
export function errorSink(): { errors: Array<{ error: unknown; context: string }>; onError: (error: unknown, context: string) => void } {
  const errors: Array<{ error: unknown; context: string }> = [];
  return { errors, onError: (error, context) => errors.push({ error, context }) };
}

export interface BusFlavour {
  name: string;
  /** Creates `count` nodes sharing one backend (one memory hub, or one Redis key prefix). */
  nodes(count: number, options?: { replayLimit?: number }): Promise<Bus[]>;
  /** Closes every node created and removes its Redis keys. */
  cleanup(): Promise<void>;
}

/**
 * The backends every contract suite runs on. Redis needs TEST_REDIS_URL; without it `skip` is
 * true, so its suites are reported as skipped rather than left out.
 */
export function busFlavours(): Array<{ name: string; skip: boolean; make: () => BusFlavour }> {
  return [
    { name: "memory", skip: false, make: memoryFlavour },
    { name: "redis", skip: REDIS_URL === undefined, make: () => redisFlavour(requireRedisUrl()) },
    { name: "redis-cluster", skip: CLUSTER === undefined, make: clusterFlavour },
  ];
}

/** TEST_REDIS_URL, for code that only runs when it is set (suites skipped otherwise). */
export function requireRedisUrl(): string {
  if (REDIS_URL === undefined) throw new Error("TEST_REDIS_URL is not set");
  return REDIS_URL;
}

function memoryFlavour(): BusFlavour {
  const created: Bus[] = [];
  return {
    name: "memory",
    async nodes(count, options = {}) {
      const hub = createMemoryBus({ replayLimit: options.replayLimit, onError: () => undefined });
      const nodes = Array.from({ length: count }, () => hub.node());
      created.push(...nodes);
      return nodes;
    },
    async cleanup() {
      await Promise.all(created.map((bus) => bus.close()));
    },
  };
}

function redisFlavour(url: string): BusFlavour {
  const created: RedisBus[] = [];
  const prefixes: string[] = [];
  return {
    name: "redis",
    async nodes(count, options = {}) {
      const keyPrefix = `test:bus:${crypto.randomUUID()}:`;
      prefixes.push(keyPrefix);
      const nodes = Array.from({ length: count }, () => createRedisBus({ url, keyPrefix, replayLimit: options.replayLimit, onError: () => undefined }));
      created.push(...nodes);
      await Promise.all(nodes.map((node) => node.ready()));
      return nodes;
    },
    async cleanup() {
      await Promise.all(created.map((bus) => bus.close()));
      await deleteKeys(url, prefixes);
    },
  };
}

function clusterFlavour(): BusFlavour {
  const created: RedisBus[] = [];
  const prefixes: string[] = [];
  return {
    name: "redis-cluster",
    async nodes(count, options = {}) {
      const keyPrefix = `test:bus:${crypto.randomUUID()}:`;
      prefixes.push(keyPrefix);
      const cluster = requireCluster();
      const nodes = Array.from({ length: count }, () => createRedisBus({ cluster, keyPrefix, replayLimit: options.replayLimit, onError: () => undefined }));
      created.push(...nodes);
      await Promise.all(nodes.map((node) => node.ready()));
      return nodes;
    },
    async cleanup() {
      await Promise.all(created.map((bus) => bus.close()));
      await deleteClusterKeys(prefixes);
    },
  };
}

export async function deleteKeys(url: string, prefixes: readonly string[]): Promise<void> {
  const admin = new Redis(url);
  try {
    for (const prefix of prefixes) {
      const keys = await admin.keys(`${prefix}*`);
      if (keys.length > 0) await admin.del(...keys);
    }
  } finally {
    admin.disconnect();
  }
}

/** Polls until `check` holds; fails the test with `what` after `timeoutMs` (a deadline, not a timing assertion). */
/** Follows `room` on `bus` from its first event (subscribeWithResume); returns what arrives, as it arrives. */
export async function followFromStart(bus: Bus, room: string): Promise<ResumeMessage[]> {
  const messages: ResumeMessage[] = [];
  await subscribeWithResume(bus, room, { afterOffset: 0 }, (m) => messages.push(m));
  return messages;
}

/** `eventually` for a condition (the bus suites' shorter default, polled every 5 ms). */
export async function waitFor(what: string, check: () => boolean | Promise<boolean>, timeoutMs = 5000): Promise<void> {
  await eventually(check, what, timeoutMs, 5);
}

export const range = (from: number, to: number): number[] => Array.from({ length: Math.max(0, to - from + 1) }, (_, i) => from + i);

/** Sees the bytes of one proxied connection each way (e.g. to read a wire protocol), without changing them. */
export interface ProxyTap {
  fromClient?(chunk: Buffer): void;
  fromServer?(chunk: Buffer): void;
}

/**
 * A TCP proxy in front of Redis that the test can cut and restore: a deterministic way to take
 * Redis away from one node while the others keep it. `tap` (called once per connection) lets a
 * caller read what passes, e.g. the bench's Postgres wire counter.
 */
export async function startCuttableProxy(
  target: string,
  options: { tap?: () => ProxyTap } = {},
): Promise<{
  url: string;
  port: number;
  cut(): void;
  restore(): void;
  close(): Promise<void>;
}> {
  const upstream = new URL(target);
  const sockets = new Set<Socket>();
  let open = true;
  const server: Server = createServer((client) => {
    if (!open) {
      client.destroy();
      return;
    }
    const remote = connect(Number(upstream.port || 6379), upstream.hostname);
    sockets.add(client);
    sockets.add(remote);
    const tap = options.tap?.();
    if (tap?.fromClient) client.on("data", tap.fromClient);
    if (tap?.fromServer) remote.on("data", tap.fromServer);
    client.pipe(remote);
    remote.pipe(client);
    const drop = () => {
      client.destroy();
      remote.destroy();
      sockets.delete(client);
      sockets.delete(remote);
    };
    client.on("error", drop);
    remote.on("error", drop);
    client.on("close", drop);
    remote.on("close", drop);
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const address = server.address();
  if (address === null || typeof address === "string") throw new Error("proxy has no port");
  const auth = upstream.password ? `${upstream.username}:${upstream.password}@` : "";
  return {
    url: `redis://${auth}127.0.0.1:${address.port}${upstream.pathname}`,
    port: address.port,
    cut() {
      open = false;
      for (const socket of sockets) socket.destroy();
      sockets.clear();
    },
    restore() {
      open = true;
    },
    close: () =>
      new Promise<void>((resolve) => {
        for (const socket of sockets) socket.destroy();
        server.close(() => resolve());
      }),
  };
}
