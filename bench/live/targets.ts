/**
 * The systems under test, behind one shape so the scenario code is shared: the app (two real
 * `apps/api/src/server.ts` processes), the bare relay (two `bench/live/relay.ts` processes) and
 * Socket.IO (two Node processes, `bench/live/socketio.ts`). Instance A hosts the students (and, for
 * the baselines, the publisher); instance B the watchers.
 */
import { join } from "node:path";
import { type BenchSocket, type LiveSocket, openSocket, type Recorder } from "./clients.ts";
import type { PublishPlan } from "./frames.ts";
import { RUNTIME_ENV } from "../../apps/api/src/runtime-options.ts";
import { type Child, freePort, spawnChild, waitHttp } from "./procs.ts";
import type { BenchUser } from "./scene.ts";

const ROOT = join(import.meta.dir, "..", "..");

export interface Instance {
  name: string;
  baseUrl: string;
  wsUrl: string;
  child: Child;
}

export type TargetKind = "app" | "relay" | "socket.io";

/** What a client needs of an instance to open sockets on it (the probe process has no `child`). */
export type Endpoint = Pick<Instance, "name" | "baseUrl" | "wsUrl">;

/** An app socket of `user` on `on` (ticket, upgrade, `hello`). */
export async function appSocket(on: Endpoint, user: Pick<BenchUser, "token">, recorder: Recorder | null, timelineRooms?: Set<string>): Promise<BenchSocket> {
  const res = await fetch(`${on.baseUrl}/api/realtime/tickets`, { method: "POST", headers: { authorization: `Bearer ${user.token}` } });
  if (res.status !== 201) throw new Error(`ticket on ${on.name}: ${res.status} ${await res.text()}`);
  const { ticket } = (await res.json()) as { ticket: string };
  const socket = await openSocket(`${on.wsUrl}/ws?ticket=${encodeURIComponent(ticket)}`, recorder, timelineRooms);
  await socket.nextOfType("hello");
  return socket;
}

/** Subscribes `socket` to `room` with one acked `subscribe` (every target speaks it). */
export async function subscribeTo<S extends LiveSocket>(socket: S, room: string, where: string): Promise<S> {
  const ack = await socket.request({ type: "subscribe", room });
  if (ack.type !== "ack") throw new Error(`subscribe ${room} on ${where}: ${JSON.stringify(ack)}`);
  return socket;
}

/** A relay socket (bench/live/relay.ts's `/ws`). */
export const relaySocket: BaselineConnect = (on, recorder, timelineRooms) => openSocket(`${on.wsUrl}/ws`, recorder, timelineRooms);

export interface Target {
  kind: TargetKind;
  a: Instance;
  b: Instance;
  /** An authenticated (app) socket on `on`, subscribed to `room`; resolves after the ack. */
  watch(on: Instance, user: BenchUser | null, room: string, recorder: Recorder | null, timelineRooms?: Set<string>): Promise<LiveSocket>;
  /** A connected socket that subscribes to nothing (idle-memory runs). */
  idle(on: Instance, user: BenchUser | null): Promise<LiveSocket>;
  stop(): Promise<void>;
}

/** A baseline replays an app run: instance A publishes a plan of events to the rooms. */
export interface Baseline extends Target {
  kind: Exclude<TargetKind, "app">;
  publish(plan: PublishPlan): Promise<{ published: number; ms: number }>;
}

/** Sends a plan to a baseline's instance A (`POST /publish`, answered once all is published). */
export async function publishPlan(a: Instance, plan: PublishPlan): Promise<{ published: number; ms: number }> {
  const res = await fetch(`${a.baseUrl}/publish`, { method: "POST", body: JSON.stringify(plan), headers: { "content-type": "application/json" } });
  if (!res.ok) throw new Error(`${a.child.name} publish: ${res.status} ${await res.text()}`);
  return (await res.json()) as { published: number; ms: number };
}

/** Variables that would switch a server away from the embedded dev model and dev auth. */
/**
 * `BENCH_LIVE_APP_ENV=K=V,K=V`: settings for every app instance, for a run with a knob turned
 * (e.g. `MEMORY_REDUCER_QUIET_MS=0` against the default, back to back).
 */
const APP_ENV: Record<string, string> = Object.fromEntries(
  (process.env.BENCH_LIVE_APP_ENV ?? "")
    .split(",")
    .map((kv) => kv.trim())
    .filter(Boolean)
    .map((kv) => [kv.slice(0, kv.indexOf("=")), kv.slice(kv.indexOf("=") + 1)]),
);
/** Settings a bench's API process never inherits from the shell: real keys, S3, metrics, a gateway. */
const CLEARED = ["AI_GATEWAY_URL", "AI_API_KEY", "CLERK_SECRET_KEY", "CLERK_PUBLISHABLE_KEY", "CLERK_JWT_KEY", "S3_ENDPOINT", "S3_BUCKET", "METRICS_TOKEN"];

export interface ApiProcessOptions {
  childName: string;
  instanceId: string;
  databaseUrl: string;
  redisUrl: string;
  dataDir: string;
  logDir: string;
  gatewayUrl?: string | undefined;
  env?: Record<string, string>;
  bunArgs?: string[];
}

/**
 * The environment of a bench's API process: production's runtime options (package.json's `start`,
 * the Dockerfile: apps/api/src/runtime-options.ts), so the figures are the product's; development
 * mode with quiet logs and no seeding; `env` on top (a knob turned, or a runtime option against it).
 */
export function apiProcessEnv(opts: ApiProcessOptions, port: number): Record<string, string> {
  return {
    ...RUNTIME_ENV,
    NODE_ENV: "development",
    HOST: "127.0.0.1",
    PORT: String(port),
    LOG_LEVEL: "warn",
    INSTANCE_ID: opts.instanceId,
    DATA_DIR: opts.dataDir,
    DATABASE_URL: opts.databaseUrl,
    REDIS_URL: opts.redisUrl,
    SEED_ON_EMPTY: "false",
    ...Object.fromEntries(CLEARED.map((k) => [k, ""])),
    ...(opts.gatewayUrl ? { AI_GATEWAY_URL: opts.gatewayUrl } : {}),
    ...opts.env,
  };
}

/**
 * One real `apps/api/src/server.ts` process on a free port ({@link apiProcessEnv}), resolved once its
 * `/ready` answers. `gatewayUrl`: a dev model process as its AI_GATEWAY_URL (else the one it embeds);
 * `bunArgs` before the entry (a profiler).
 */
export async function startApiProcess(opts: ApiProcessOptions): Promise<{ baseUrl: string; wsUrl: string; child: Child }> {
  const port = freePort();
  const child = spawnChild(opts.childName, [process.execPath, ...(opts.bunArgs ?? []), join(ROOT, "apps/api/src/server.ts")], {
    env: apiProcessEnv(opts, port),
    logDir: opts.logDir,
    cwd: ROOT,
  });
  const baseUrl = `http://127.0.0.1:${port}`;
  await waitHttp(`${baseUrl}/ready`, child, 60_000);
  return { baseUrl, wsUrl: `ws://127.0.0.1:${port}`, child };
}

/** Starts API instances `a` and `b` sharing Postgres, Redis and the dev-auth key pair in `dataDir`. */
export async function startApp(opts: {
  tag: string;
  /** A dev model process to use as AI_GATEWAY_URL instead of the one each instance embeds. */
  gatewayUrl?: string | undefined;
  databaseUrl: string;
  redisUrl: string;
  dataDir: string;
  logDir: string;
  env: Record<string, string>;
  /**
   * Runs each instance under `bun --cpu-prof --cpu-prof-md`, its profile written on exit into
   * `<cpuProfDir>/<child name>` (see profiles.ts).
   */
  cpuProfDir?: string | undefined;
}): Promise<Target> {
  const start = async (name: string): Promise<Instance> => {
    const childName = `app-${opts.tag}-${name}`;
    const api = await startApiProcess({
      childName,
      instanceId: `bench-${opts.tag}-${name}`,
      databaseUrl: opts.databaseUrl,
      redisUrl: opts.redisUrl,
      dataDir: opts.dataDir,
      logDir: opts.logDir,
      gatewayUrl: opts.gatewayUrl,
      env: { ...APP_ENV, ...opts.env },
      bunArgs: opts.cpuProfDir ? ["--cpu-prof", "--cpu-prof-md", `--cpu-prof-dir=${join(opts.cpuProfDir, childName)}`] : [],
    });
    return { name, ...api };
  };
  // One after the other: both run the migrator on start (it serialises on an advisory lock anyway).
  const a = await start("a");
  const b = await start("b");

  const connect = async (on: Instance, user: BenchUser | null, recorder: Recorder | null, timelineRooms?: Set<string>) => {
    if (!user) throw new Error("app sockets need a user");
    return appSocket(on, user, recorder, timelineRooms);
  };
  return {
    kind: "app",
    a,
    b,
    idle: (on, user) => connect(on, user, null),
    watch: async (on, user, room, recorder, timelineRooms) => subscribeTo(await connect(on, user, recorder, timelineRooms), room, on.name),
    async stop() {
      await Promise.all([a.child.stop(8000), b.child.stop(8000)]);
    },
  };
}

/** Starts the dev model as its own process; returns its `/v1` base URL. */
export async function startDevModel(opts: { tokensPerSecond: number; logDir: string }): Promise<{ url: string; child: Child }> {
  const port = freePort();
  const child = spawnChild("dev-model", [process.execPath, join(ROOT, "bench/live/dev-model.ts")], {
    env: { DEV_MODEL_PORT: String(port), DEV_MODEL_TPS: String(opts.tokensPerSecond) },
    logDir: opts.logDir,
    cwd: ROOT,
  });
  await waitHttp(`http://127.0.0.1:${port}/health`, child, 30_000);
  return { url: `http://127.0.0.1:${port}/v1`, child };
}

/** How a baseline's client opens one socket on an instance (resolves once it can subscribe). */
export type BaselineConnect = (on: Endpoint, recorder: Recorder | null, timelineRooms?: Set<string>) => Promise<LiveSocket>;

/**
 * Starts a baseline's instances `a` and `b` (`command(port)` each, answering `GET /health`) and
 * wraps them as a target whose sockets subscribe with one acked `subscribe` and whose A publishes plans.
 */
export async function startBaseline(opts: {
  kind: Baseline["kind"];
  logDir: string;
  cwd?: string;
  command: (port: number) => { cmd: string[]; env: Record<string, string> };
  connect: BaselineConnect;
}): Promise<Baseline> {
  const start = async (name: string): Promise<Instance> => {
    const port = freePort();
    const { cmd, env } = opts.command(port);
    const child = spawnChild(`${opts.kind.replace(".", "")}-${name}`, cmd, { env, logDir: opts.logDir, cwd: opts.cwd ?? ROOT });
    const baseUrl = `http://127.0.0.1:${port}`;
    await waitHttp(`${baseUrl}/health`, child, 30_000);
    return { name, baseUrl, wsUrl: `ws://127.0.0.1:${port}`, child };
  };
  const a = await start("a");
  const b = await start("b");
  return {
    kind: opts.kind,
    a,
    b,
    idle: (on) => opts.connect(on, null),
    watch: async (on, _user, room, recorder, timelineRooms) => subscribeTo(await opts.connect(on, recorder, timelineRooms), room, `${opts.kind} ${on.name}`),
    publish: (plan) => publishPlan(a, plan),
    async stop() {
      await Promise.all([a.child.stop(), b.child.stop()]);
    },
  };
}

/** Starts relay processes `a` and `b` on the same Redis. */
export function startRelay(opts: { redisUrl: string; logDir: string }): Promise<Baseline> {
  return startBaseline({
    kind: "relay",
    logDir: opts.logDir,
    command: (port) => ({ cmd: [process.execPath, join(ROOT, "bench/live/relay.ts")], env: { RELAY_PORT: String(port), RELAY_REDIS_URL: opts.redisUrl } }),
    connect: relaySocket,
  });
}
