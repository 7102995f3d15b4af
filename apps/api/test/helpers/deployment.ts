import { afterAll, beforeAll } from "bun:test";
import type { DbHandle } from "@raptscallions/db";
import type { Harness } from "./harness.ts";
import {
  ensureDevModels,
  type Instance,
  type InstanceOptions,
  type Shared,
  type SharedOptions,
  startDevModel,
  startInstance,
  type TransportName,
  transports,
} from "./live.ts";

/**
 * Several API instances acting as one deployment, set up the same way in every suite: on the
 * test's database (the harness's: PGlite, or the Postgres of TEST_DATABASE_URL) and one transport
 * (the in-process bus, the Redis of TEST_REDIS_URL, the cluster of TEST_REDIS_CLUSTER_NODES), with
 * the model server the file started. Instances stop, and the shared parts close, when the
 * deployment does — at the end of the `describe` that declared it.
 */

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
