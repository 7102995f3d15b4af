/**
 * The turn bench's system under test: one `apps/api/src/server.ts` process on Postgres (reached
 * through the counting proxy) and Redis, with the dev model in its own process as its AI gateway,
 * and students' sockets that send `message.send` and wait for their answer's `message.completed`.
 */
import { join } from "node:path";
import { type BenchSocket, newRecorder, openSocket, type Recorder } from "../live/clients.ts";
import { type Child, freePort, spawnChild, waitHttp } from "../live/procs.ts";
import type { BenchUser } from "../live/scene.ts";
import { startApiProcess } from "../live/targets.ts";

const ROOT = join(import.meta.dir, "..", "..");

export interface ApiInstance {
  baseUrl: string;
  wsUrl: string;
  child: Child;
}

/** Starts the API; `profileDir` adds Bun's CPU profiler (written when the process exits). */
export async function startApi(opts: {
  databaseUrl: string;
  redisUrl: string;
  gatewayUrl: string;
  dataDir: string;
  logDir: string;
  profileDir?: string | undefined;
  /** Preloads bench/turn/loop-probe.ts, writing the loop's stops to this file. */
  loopProbeFile?: string | undefined;
  /** Settings for the API process alone (BENCH_TURN_APP_ENV). */
  env?: Record<string, string> | undefined;
}): Promise<ApiInstance> {
  const profile = opts.profileDir ? ["--cpu-prof", "--cpu-prof-md", `--cpu-prof-dir=${opts.profileDir}`] : [];
  if (opts.loopProbeFile) profile.push("--preload", join(ROOT, "bench/turn/loop-probe.ts"));
  return startApiProcess({
    childName: "api",
    instanceId: "bench-turn",
    databaseUrl: opts.databaseUrl,
    redisUrl: opts.redisUrl,
    dataDir: opts.dataDir,
    logDir: opts.logDir,
    gatewayUrl: opts.gatewayUrl,
    env: { ...opts.env, ...(opts.loopProbeFile ? { LOOP_PROBE_FILE: opts.loopProbeFile, LOOP_PROBE_INTERVAL_MS: "100" } : {}) },
    bunArgs: profile,
  });
}

/**
 * The floor (bench/turn/floor-server.ts) in place of the API: the least a turn can cost with the
 * same libraries, measured by the same phases. No REST, no tickets: students subscribe at once.
 */
export async function startFloor(opts: {
  databaseUrl: string;
  redisUrl: string;
  gatewayUrl: string;
  logDir: string;
  profileDir?: string | undefined;
}): Promise<ApiInstance> {
  const port = freePort();
  const env: Record<string, string> = {
    FLOOR_PORT: String(port),
    FLOOR_DATABASE_URL: opts.databaseUrl,
    FLOOR_REDIS_URL: opts.redisUrl,
    FLOOR_GATEWAY_URL: opts.gatewayUrl,
  };
  const profile = opts.profileDir ? ["--cpu-prof", "--cpu-prof-md", `--cpu-prof-dir=${opts.profileDir}`] : [];
  const child = spawnChild("floor", [process.execPath, ...profile, join(ROOT, "bench/turn/floor-server.ts")], { env, logDir: opts.logDir, cwd: ROOT });
  const baseUrl = `http://127.0.0.1:${port}`;
  await waitHttp(`${baseUrl}/ready`, child, 60_000);
  return { baseUrl, wsUrl: `ws://127.0.0.1:${port}`, child };
}

/** A floor student: a socket subscribed to a room of its own. */
export async function openFloorStudent(api: ApiInstance): Promise<Student> {
  const sessionId = crypto.randomUUID();
  const recorder = newRecorder();
  const socket = await openSocket(`${api.wsUrl}/ws`, recorder);
  await socket.nextOfType("hello");
  const room = `session:${sessionId}`;
  const ack = await socket.request({ type: "subscribe", room });
  if (ack.type !== "ack") throw new Error(`subscribe: ${JSON.stringify(ack)}`);
  return { sessionId, room, socket, recorder, turns: 0 };
}

/** A student with an open session and a socket subscribed to its room. */
export interface Student {
  sessionId: string;
  room: string;
  socket: BenchSocket;
  /** This student's own frames: `latencies` has one entry per `message.delta`. */
  recorder: Recorder;
  turns: number;
}

export async function openStudent(api: ApiInstance, user: BenchUser, classId: string, toolId: string): Promise<Student> {
  const auth = { authorization: `Bearer ${user.token}` };
  const res = await fetch(`${api.baseUrl}/api/sessions`, {
    method: "POST",
    headers: { ...auth, "content-type": "application/json" },
    body: JSON.stringify({ toolId, classId }),
  });
  if (res.status !== 201) throw new Error(`start session: ${res.status} ${await res.text()}`);
  const sessionId = ((await res.json()) as { session: { id: string } }).session.id;
  const t = await fetch(`${api.baseUrl}/api/realtime/tickets`, { method: "POST", headers: auth });
  if (t.status !== 201) throw new Error(`ticket: ${t.status} ${await t.text()}`);
  const { ticket } = (await t.json()) as { ticket: string };
  const recorder = newRecorder();
  const socket = await openSocket(`${api.wsUrl}/ws?ticket=${encodeURIComponent(ticket)}`, recorder);
  await socket.nextOfType("hello");
  const room = `session:${sessionId}`;
  const ack = await socket.request({ type: "subscribe", room });
  if (ack.type !== "ack") throw new Error(`subscribe: ${JSON.stringify(ack)}`);
  return { sessionId, room, socket, recorder, turns: 0 };
}

const QUESTIONS = [
  "How do fractions work? I never get the denominators right when I add them.",
  "Why is the sky blue during the day but red at sunset?",
  "Can you help me understand photosynthesis for my biology test tomorrow?",
  "What is the difference between a simile and a metaphor in poetry?",
];

/**
 * One turn: sends `message.send` and resolves with the number of `message.delta` frames once the
 * answer's `message.completed` arrived (the student's own socket, on the same instance).
 */
export async function turn(student: Student, timeoutMs: number): Promise<{ deltas: number }> {
  const n = student.turns++;
  const deltasBefore = student.recorder.latencies.length;
  student.socket.done.delete(student.room);
  const completed = student.socket.completed(student.room);
  const ack = await student.socket.request(
    { type: "message.send", sessionId: student.sessionId, clientMessageId: `turn-${n}`, content: `${QUESTIONS[n % QUESTIONS.length]} (turn ${n})` },
    timeoutMs,
  );
  if (ack.type !== "ack") throw new Error(`message.send: ${JSON.stringify(ack).slice(0, 300)}`);
  let timer: ReturnType<typeof setTimeout> | undefined;
  await Promise.race([
    completed,
    new Promise((_, reject) => {
      timer = setTimeout(() => reject(new Error("no message.completed in time")), timeoutMs);
    }),
  ]);
  clearTimeout(timer);
  return { deltas: student.recorder.latencies.length - deltasBefore };
}
