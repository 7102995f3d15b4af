import { afterAll, beforeAll } from "bun:test";
import { createMemoryBus, createMemoryKeyValueStore, createMemoryPresence, type RedisBus, whenReady } from "@raptscallions/bus";
import type { DbHandle } from "@raptscallions/db";
import { type LimitStore, MemoryLimitStore } from "@raptscallions/gateway";
import { CLUSTER } from "../../../../packages/bus/test/cluster.ts";
import { connectSharedState, type RedisTarget } from "../../src/infra.ts";
import type { Harness } from "./harness.ts";
import { ensureDevModels, type Instance, type InstanceOptions, startDevModel, startInstance } from "./live.ts";

/**
 * Several API instances acting as one deployment, set up the same way in every suite: on the
 * test's database (the harness's: PGlite, or the Postgres of TEST_DATABASE_URL) and one transport
 * (the in-process bus, the Redis of TEST_REDIS_URL, the cluster of TEST_REDIS_CLUSTER_NODES), with
 * the model server the file started. Instances stop, and the shared parts close, when the
 * deployment does — at the end of the `describe` that declared it.
 */

export interface SharedOptions {
  /** Events kept per room for resume (the server's LIVE_REPLAY_LIMIT); 2000. */
  replayLimit?: number;
  /**
   * The AI limits store every instance shares, made with the other shared parts (so a skipped
   * transport never connects): an in-process one by default.
   */
  limits?: () => LimitStore;
}

/** Shared parts for instances that act as one deployment on the in-process bus. */
function memoryShared(gatewayUrl: string, opts: SharedOptions = {}) {
  const hub = createMemoryBus({ replayLimit: opts.replayLimit ?? 2000 });
  return { bus: () => hub.node(), presence: createMemoryPresence(), kv: createMemoryKeyValueStore(), gatewayUrl, limits: opts.limits?.() ?? new MemoryLimitStore() };
}

/** The parts a deployment's instances share, and how to close them. */
export type Shared = ReturnType<typeof memoryShared> & { close(): Promise<void>; ready?: () => Promise<void> };
/** The deployments a cross-instance suite runs on. */
export type TransportName = "in-process bus" | "redis" | "redis-cluster";

/**
 * Bus nodes, presence and key-value store on one Redis deployment (single or cluster), wired as the
 * server wires them (connectSharedState) under a namespace of their own, so runs never collide.
 */
function redisShared(target: RedisTarget, gatewayUrl: string, opts: SharedOptions): Shared {
  const state = connectSharedState(target, { namespace: `t${crypto.randomUUID().slice(0, 8)}:` });
  const nodes: RedisBus[] = [];
  return {
    bus: () => {
      const node = state.bus({ replayLimit: opts.replayLimit ?? 2000 });
      nodes.push(node);
      return node;
    },
    presence: state.presence,
    kv: state.kv,
    gatewayUrl,
    limits: opts.limits?.() ?? new MemoryLimitStore(),
    // As the server does before serving: a Cluster must load its slot map before commands work.
    ready: () => whenReady(state.redis, 10_000),
    async close() {
      await Promise.all(nodes.map((n) => n.close()));
      state.redis.disconnect();
    },
  };
}

/**
 * The deployments a cross-instance test runs on: the in-process bus, real Redis and a Redis
 * Cluster. The third element — skip — is true unless TEST_REDIS_URL (TEST_REDIS_CLUSTER_NODES for
 * the cluster) is set, so those suites are reported as skipped rather than left out.
 */
function transports(gatewayUrl: () => string, opts: SharedOptions = {}): [TransportName, () => Shared, boolean][] {
  const url = process.env.TEST_REDIS_URL ?? "";
  return [
    ["in-process bus", () => ({ ...memoryShared(gatewayUrl(), opts), close: async () => {} }), false],
    ["redis", () => redisShared({ url }, gatewayUrl(), opts), url === ""],
    ["redis-cluster", () => redisShared({ cluster: CLUSTER ?? { nodes: [] } }, gatewayUrl(), opts), CLUSTER === undefined],
  ];
}

/** A model server on its own port (`url`, `stop()`): the dev model, or a suite's scripted upstream. */
export interface Upstream {
  readonly url: string;
  stop(): unknown;
}

/**
 * The file's model server: started now (it only listens), the dev models put in the catalogue
 * before the suites, stopped when the harness closes.
 */
export function useUpstream<U extends Upstream>(h: Harness, upstream: U): U {
  beforeAll(() => ensureDevModels(h.db), 60_000);
  h.beforeClose(() => upstream.stop());
  return upstream;
}

/** The dev model at `tokensPerSecond`, for the file (see useUpstream). */
export function useDevModel(h: Harness, tokensPerSecond?: number): ReturnType<typeof startDevModel> {
  return useUpstream(h, startDevModel(tokensPerSecond));
}

/** An instance's own options, and the database handle it runs on when not the deployment's. */
export interface StartOptions extends InstanceOptions {
  /** Another handle on the same data (Harness.otherPool: a pool of its own, as a second process). */
  db?: DbHandle;
}

export interface Deployment {
  readonly transport: TransportName;
  /** The parts every instance shares (bus, presence, key-value store); made on first use. */
  readonly shared: Shared;
  /** Starts an instance on the shared parts. It stops with the deployment; stopping it sooner is fine. */
  start(opts?: StartOptions): Promise<Instance>;
  /** A step to run before the instances stop (closing clients, stopping dispatchers); last registered first. */
  beforeStop(step: () => unknown): void;
  /** Runs the steps, stops the instances in the order they started, closes the shared parts. */
  close(): Promise<void>;
}

function transportEntry(upstream: { url: string }, transport: TransportName, opts: SharedOptions) {
  const entry = transports(() => upstream.url, opts).find(([name]) => name === transport);
  if (!entry) throw new Error(`no transport ${transport}`);
  return entry;
}

/**
 * A deployment on `db` (read when the first instance starts, so a harness's database can be passed
 * as `() => h.db` while tests are declared). See useDeployment for suites; this is the plain form.
 */
export function startDeployment(
  db: DbHandle | (() => DbHandle),
  upstream: { url: string },
  transport: TransportName = "in-process bus",
  opts: SharedOptions = {},
): Deployment {
  const [, makeShared] = transportEntry(upstream, transport, opts);
  let shared: Shared | undefined;
  const instances: Instance[] = [];
  const steps: (() => unknown)[] = [];
  const database = () => (typeof db === "function" ? db() : db);
  const parts = () => {
    shared ??= makeShared();
    return shared;
  };
  return {
    transport,
    get shared() {
      return parts();
    },
    async start({ db: own, ...opts } = {}) {
      const instance = await startInstance(own ?? database(), parts(), opts);
      // A test may stop an instance itself (a crash, a restart); the deployment's stop is then a no-op.
      let stopping: Promise<void> | undefined;
      const once = { ...instance, stop: () => (stopping ??= instance.stop()) };
      instances.push(once);
      return once;
    },
    beforeStop: (step) => void steps.push(step),
    async close() {
      for (const step of steps.splice(0).reverse()) await step();
      for (const instance of instances.splice(0)) await instance.stop();
      const closing = shared;
      shared = undefined;
      await closing?.close();
    },
  };
}

/**
 * A deployment on one transport (the in-process bus by default) for the enclosing `describe`,
 * closed in its `afterAll`. Declared at a file's top level it closes with the harness instead, as
 * a file-level `afterAll` would run after the database is gone (closing twice is a no-op).
 */
export function useDeployment(h: Harness, upstream: { url: string }, transport: TransportName = "in-process bus", opts: SharedOptions = {}): Deployment {
  const deployment = startDeployment(() => h.db, upstream, transport, opts);
  afterAll(() => deployment.close(), 60_000);
  h.beforeClose(() => deployment.close());
  return deployment;
}

/**
 * The transports a cross-instance suite is declared on (all three, or `only` these), each with
 * whether to skip it: a transport whose server the environment does not name is declared skipped,
 * so the run reports it rather than leaving it out.
 *
 *     for (const [name, skip] of deploymentTransports())
 *       describe.skipIf(skip)(`… (${name})`, () => {
 *         const d = useDeployment(h, dev, name);
 */
export function deploymentTransports(only?: TransportName[]): [TransportName, boolean][] {
  return transports(() => "")
    .filter(([name]) => !only || only.includes(name))
    .map(([name, , skip]) => [name, skip]);
}

/**
 * The transport the run's environment configures: Redis when TEST_REDIS_URL is set, else the
 * cluster when TEST_REDIS_CLUSTER_NODES is, else the in-process bus. For suites that run once, on
 * whatever the run provides (the console's browser tests).
 */
export function backendTransport(): TransportName {
  if (process.env.TEST_REDIS_URL) return "redis";
  if (process.env.TEST_REDIS_CLUSTER_NODES) return "redis-cluster";
  return "in-process bus";
}
