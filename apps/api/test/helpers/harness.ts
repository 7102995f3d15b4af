import { afterAll, beforeAll } from "bun:test";
import { createDb, type DbHandle } from "@raptscallions/db";
import { createApp } from "../../src/app.ts";
import type { AppDeps } from "../../src/deps.ts";
import type { StudentMessageGate } from "../../src/services/modules/hooks.ts";
import { createTestDb, testDeps } from "./deps.ts";
import { type Caller, type CallResult, call, type Method } from "./security.ts";

/** The app under test, as `createApp` builds it. */
export type TestApp = ReturnType<typeof createApp>;
/** The app's dependencies, with the memory logger tests read lines from. */
export type TestDeps = Awaited<ReturnType<typeof testDeps>>;

/** Overrides of the dependencies: a partial, or a function of the defaults (for config tweaks). */
export type DepsOverrides = Partial<AppDeps> | ((base: TestDeps) => Partial<AppDeps> | Promise<Partial<AppDeps>>);

export interface AppOptions {
  /**
   * The database the app runs on. For `harness()`: use it instead of a fresh one (the harness
   * does not close it). For `withApp()`: another handle on the same data (a limited pool, a
   * wrapper that counts transactions); the harness's own database by default.
   */
  db?: DbHandle;
  deps?: DepsOverrides;
  /** The live path's gate (content modules) instead of the default one. */
  gate?: StudentMessageGate;
}

export type HarnessOptions = AppOptions;

interface RequestOptions {
  body?: unknown;
  headers?: Record<string, string>;
}

/** Calls the app as one caller (or anonymously); JSON bodies in, parsed bodies out. */
export interface Requester {
  request<T = Record<string, unknown>>(method: Method, path: string, opts?: RequestOptions): Promise<CallResult<T>>;
  get<T = Record<string, unknown>>(path: string, opts?: Omit<RequestOptions, "body">): Promise<CallResult<T>>;
  post<T = Record<string, unknown>>(path: string, body?: unknown, opts?: Omit<RequestOptions, "body">): Promise<CallResult<T>>;
  patch<T = Record<string, unknown>>(path: string, body?: unknown, opts?: Omit<RequestOptions, "body">): Promise<CallResult<T>>;
  put<T = Record<string, unknown>>(path: string, body?: unknown, opts?: Omit<RequestOptions, "body">): Promise<CallResult<T>>;
  delete<T = Record<string, unknown>>(path: string, opts?: Omit<RequestOptions, "body">): Promise<CallResult<T>>;
}

export interface Harness {
  /** The test database: PGlite by default, the Postgres of TEST_DATABASE_URL when set. */
  readonly db: DbHandle;
  readonly app: TestApp;
  readonly deps: TestDeps;
  /** Requests signed as `user` (a seeded row or anything with a Clerk id). */
  as(user: Caller): Requester;
  /** Requests without a token. */
  readonly anonymous: Requester;
  /** Another app on the same database with other dependencies (auth modes, config, stores). */
  withApp(opts?: AppOptions): Promise<{ app: TestApp; deps: TestDeps }>;
  /**
   * The same data through a connection pool of its own, as a second process holds it (on
   * Postgres a new pool of `maxConnections`; PGlite lives in this process, so its one handle).
   * Closed with the harness. Pass it to `withApp({ db })` to race two instances.
   */
  otherPool(maxConnections?: number): Promise<DbHandle>;
  /**
   * Registers a step to run when the harness closes, before its apps and database go (last
   * registered first): stopping instances, servers and connections a suite started on it. Use it
   * instead of a suite-level `afterAll`, which bun runs after the harness's own (hooks run in the
   * order they were registered), when the database is already closed.
   */
  beforeClose(step: () => unknown): void;
  close(): Promise<void>;
}

/** TEST_REDIS_URL, or undefined: suites that need real Redis skip themselves without it. */
export const testRedisUrl: string | undefined = process.env.TEST_REDIS_URL || undefined;
/** TEST_DATABASE_URL, or undefined when the suite runs on embedded PGlite. */
export const testDatabaseUrl: string | undefined = process.env.TEST_DATABASE_URL || undefined;

async function buildApp(db: DbHandle, opts: AppOptions): Promise<{ app: TestApp; deps: TestDeps }> {
  const overrides = opts.deps;
  let deps: TestDeps;
  if (typeof overrides === "function") {
    const base = await testDeps(db);
    deps = { ...base, ...(await overrides(base)) } as TestDeps;
  } else {
    deps = await testDeps(db, overrides);
  }
  return { app: createApp(deps, { gate: opts.gate }), deps };
}

function requester(app: TestApp, as?: Caller): Requester {
  const request = <T>(method: Method, path: string, opts: RequestOptions = {}) => call<T>(app, method, path, { ...opts, as });
  return {
    request,
    get: (path, opts) => request("GET", path, opts),
    post: (path, body, opts) => request("POST", path, { ...opts, body }),
    patch: (path, body, opts) => request("PATCH", path, { ...opts, body }),
    put: (path, body, opts) => request("PUT", path, { ...opts, body }),
    delete: (path, opts) => request("DELETE", path, opts),
  };
}

/**
 * Everything a suite needs: a migrated database of its own (or the one given), the app built
 * from test dependencies, and request helpers. Call `close()` when done, or use `useHarness`.
 */
export async function harness(opts: HarnessOptions = {}): Promise<Harness> {
  const ownsDb = opts.db === undefined;
  const db = opts.db ?? (await createTestDb());
  // Every app built here has a realtime hub with timers; close() stops them before the database.
  const apps: TestApp[] = [];
  const steps: (() => unknown)[] = [];
  const pools: DbHandle[] = [];
  const build = async (more: AppOptions) => {
    const built = await buildApp(more.db ?? db, more);
    apps.push(built.app);
    return built;
  };
  try {
    const { app, deps } = await build(opts);
    return {
      db,
      app,
      deps,
      as: (user) => requester(app, user),
      anonymous: requester(app),
      withApp: (more = {}) => build(more),
      async otherPool(maxConnections = 4) {
        if (!testDatabaseUrl || !ownsDb) return db;
        const pool = await createDb({ url: testDatabaseUrl, maxConnections });
        // Closed after the apps built on it shut down (steps run before them, in reverse).
        pools.push(pool);
        return pool;
      },
      beforeClose: (step) => {
        steps.push(step);
      },
      async close() {
        for (const step of steps.splice(0).reverse()) await step();
        for (const a of apps) await a.realtime.shutdown(0);
        for (const p of pools.splice(0)) await p.close();
        if (ownsDb) await db.close();
      },
    };
  } catch (err) {
    if (ownsDb) await db.close();
    throw err;
  }
}

/**
 * A harness for the enclosing file or `describe`: built in `beforeAll`, closed in `afterAll`.
 * Its fields are readable from hooks and tests (not while tests are being declared).
 */
export function useHarness(opts: HarnessOptions | (() => HarnessOptions) = {}, timeoutMs = 120_000): Harness {
  let current: Harness | undefined;
  // Steps registered while tests are being declared, before the harness exists.
  const early: (() => unknown)[] = [];
  const get = (): Harness => {
    if (!current) throw new Error("useHarness: read inside a hook or test, after beforeAll ran");
    return current;
  };
  beforeAll(async () => {
    current = await harness(typeof opts === "function" ? opts() : opts);
    for (const step of early) current.beforeClose(step);
  }, timeoutMs);
  afterAll(async () => {
    const closing = current;
    current = undefined;
    if (closing) await closing.close();
    else for (const step of early.reverse()) await step();
  }, timeoutMs);
  return {
    get db() {
      return get().db;
    },
    get app() {
      return get().app;
    },
    get deps() {
      return get().deps;
    },
    get anonymous() {
      return get().anonymous;
    },
    as: (user) => get().as(user),
    withApp: (more) => get().withApp(more),
    otherPool: (maxConnections) => get().otherPool(maxConnections),
    beforeClose: (step) => (current ? current.beforeClose(step) : early.push(step)),
    close: () => get().close(),
  };
}
