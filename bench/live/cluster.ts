/**
 * Goal 7 on a real Redis Cluster: a local one (three primaries, three replicas, from the
 * repository's .ci/redis-cluster.sh, the same one CI runs the cluster suites on) started and stopped
 * by the bench. The instances run on it with REDIS_CLUSTER_NODES (sharded pub/sub); the fan-out
 * run is the same app run as on single Redis; then the failover: answers streaming from A to
 * watchers on B, the primary that owns one of the rooms' slots killed mid-answer (the cluster
 * tests' own `killPrimaryOf`), its replica promoted, and afterwards Postgres asked whether every
 * acknowledged message and every answer is stored, final and non-empty.
 */
import { join } from "node:path";
import { SQL } from "bun";
import { Redis } from "ioredis";
import { parseClusterNodes } from "../../packages/bus/src/index.ts";
import { killPrimaryOf } from "../../packages/bus/test/cluster.ts";
import { StormClient, type StormTally } from "../storm/client.ts";
import { pool } from "./clients.ts";
import { createSessions } from "./fanout-runs.ts";
import { atExit } from "./procs.ts";
import type { Scene } from "./scene.ts";
import type { Target } from "./targets.ts";

const SCRIPT = join(import.meta.dir, "..", "..", ".ci", "redis-cluster.sh");

export interface LocalCluster {
  nodes: string;
  stop(): void;
}

/** Starts six nodes on `firstPort`…`firstPort + 5` (anything already there is shut down first). */
export function startCluster(firstPort: number, dir: string): LocalCluster {
  const run = (action: string) => Bun.spawnSync(["bash", SCRIPT, action, String(firstPort), dir], { stdout: "pipe", stderr: "pipe" });
  const started = run("start");
  const nodes = /TEST_REDIS_CLUSTER_NODES=(\S+)/.exec(started.stdout.toString())?.[1];
  if (started.exitCode !== 0 || !nodes) throw new Error(`the Redis Cluster did not start: ${started.stderr.toString().trim()}`);
  let stopped = false;
  const stop = () => {
    if (stopped) return;
    stopped = true;
    run("stop");
  };
  // Its nodes are daemons, not our children: stop them however the bench ends.
  atExit(stop);
  return { nodes, stop };
}

export interface FailoverRun {
  answers: number;
  lostMessages: number;
  roomsReset: number;
  /** Rooms whose slot the killed primary owned; resets of the other rooms are needless. */
  roomsOnKilledShard: number;
  roomsResetElsewhere: number;
  silentGaps: number;
  /** Assistant rows by state after the failover. */
  states: Record<string, number>;
  /** Watchers whose socket B closed and that resumed on a new one. */
  reconnected: number;
  /** Watchers that could not resume (their reconnect failed). */
  unresumed: number;
  errors: string[];
  /** Kill → replica promoted, ms. */
  failoverMs: number;
  fromMs: number;
  toMs: number;
}

const newTally = (): StormTally => ({ events: 0, duplicates: 0, gaps: 0, resets: 0, errors: [] });

/** The port of the primary that owns each room's slot (the bus hash-tags a room's keys `{room}`). */
async function ownerPorts(nodes: string, rooms: string[]): Promise<number[]> {
  const [seed] = parseClusterNodes(nodes);
  if (!seed) throw new Error("no cluster node");
  const admin = new Redis(seed.port, seed.host);
  try {
    const shards = (await admin.call("CLUSTER", "SLOTS")) as Array<[number, number, [string, number, ...unknown[]], ...unknown[]]>;
    const owners: number[] = [];
    for (const room of rooms) {
      const slot = Number(await admin.call("CLUSTER", "KEYSLOT", `{${room}}`));
      owners.push(shards.find(([from, to]) => slot >= from && slot <= to)?.[2][1] ?? 0);
    }
    return owners;
  } finally {
    admin.disconnect();
  }
}

/** Waits until `check` holds or `timeoutMs` passed; returns whether it held. */
async function until(check: () => boolean | Promise<boolean>, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await check()) return true;
    await Bun.sleep(100);
  }
  return check();
}

/**
 * `sessions` answers from `toolId` (a slow model, so they stream through the failover) started on
 * A over REST, each watched on B by `watchers` teachers; the primary of the first room's slot is
 * killed once every room has streamed a little.
 */
export async function failover(opts: {
  app: Target;
  scene: Scene;
  nodes: string;
  databaseUrl: string;
  sessions: number;
  watchers: number;
  toolId: string;
  timeoutMs: number;
  log: (msg: string) => void;
}): Promise<FailoverRun> {
  const { app } = opts;
  const students = opts.scene.students.slice(0, opts.sessions);
  const sessionIds = await createSessions(app.a, students, opts.toolId);
  const rooms = sessionIds.map((id) => `session:${id}`);
  const tallies = rooms.map(() => newTally());
  const watchers = students.flatMap((s, i) => s.teachers.slice(0, opts.watchers).map((t) => new StormClient(t.token, rooms[i] ?? "", tallies[i] ?? newTally())));
  await pool(watchers, 16, (w) => w.connect(app.b.baseUrl, app.b.wsUrl, opts.timeoutMs));
  const fromMs = Date.now();
  await pool(students, 8, async (s, i) => {
    const res = await fetch(`${app.a.baseUrl}/api/sessions/${sessionIds[i]}/messages`, {
      method: "POST",
      headers: { authorization: `Bearer ${s.user.token}`, "content-type": "application/json" },
      body: JSON.stringify({ clientMessageId: `failover-${i}`, content: `Explain how vaccines work, question ${i}.` }),
    });
    if (res.status !== 201) throw new Error(`send: ${res.status} ${await res.text()}`);
  });
  // Mid-answer: every room has streamed a few events to its watchers.
  await until(() => tallies.every((t) => t.events >= 3 * opts.watchers), opts.timeoutMs);

  const owners = await ownerPorts(opts.nodes, rooms);
  const killedAt = Date.now();
  const killed = await killPrimaryOf(`{${rooms[0]}}`, { nodes: parseClusterNodes(opts.nodes) });
  await killed.waitForFailover(30_000);
  const failoverMs = Date.now() - killedAt;
  opts.log(`cluster: primary on ${killed.port} killed mid-answer, replica promoted in ${failoverMs} ms`);

  const sql = new SQL(opts.databaseUrl, { max: 1 });
  try {
    const answersFinal = async () =>
      Number((await sql`select count(*)::int as n from messages where session_id in ${sql(sessionIds)} and role = 'assistant' and state <> 'streaming'`)[0]?.n ?? 0) >=
      sessionIds.length;
    await until(answersFinal, opts.timeoutMs);
    // Sockets B closed resume on a new one from where they were (as clients do).
    let reconnected = 0;
    const errors: string[] = [];
    for (const w of watchers) {
      if (w.ws) continue;
      try {
        await w.connect(app.b.baseUrl, app.b.wsUrl, opts.timeoutMs);
        reconnected++;
      } catch (err) {
        errors.push((err as Error).message);
      }
    }
    // Watchers settle once no one's position moved for two seconds.
    let last = "";
    await until(async () => {
      const now = watchers.map((w) => `${w.position?.epoch}:${w.position?.offset}`).join(",");
      if (now === last) return true;
      last = now;
      await Bun.sleep(1900);
      return false;
    }, opts.timeoutMs);
    const toMs = Date.now();

    const rows = await sql`select session_id, role, state, length(content)::int as len from messages where session_id in ${sql(sessionIds)}`;
    const states: Record<string, number> = {};
    let lost = 0;
    for (const id of sessionIds) {
      const mine = rows.filter((r: { session_id: string }) => r.session_id === id) as { role: string; state: string | null; len: number }[];
      // Each acknowledged send: its user row, and an answer stored final with text.
      if (!mine.some((r) => r.role === "user")) lost++;
      const answer = mine.find((r) => r.role === "assistant");
      if (answer) states[answer.state ?? "null"] = (states[answer.state ?? "null"] ?? 0) + 1;
      if (!answer || answer.state === "streaming" || answer.len === 0) lost++;
    }
    for (const w of watchers) w.close();
    return {
      answers: sessionIds.length,
      lostMessages: lost,
      roomsReset: tallies.filter((t) => t.resets > 0).length,
      roomsOnKilledShard: owners.filter((port) => port === killed.port).length,
      roomsResetElsewhere: tallies.filter((t, i) => t.resets > 0 && owners[i] !== killed.port).length,
      silentGaps: tallies.reduce((a, t) => a + t.gaps + t.duplicates, 0),
      states,
      reconnected,
      unresumed: errors.length,
      errors: [...new Set([...errors, ...tallies.flatMap((t) => t.errors)])].slice(0, 10),
      failoverMs,
      fromMs,
      toMs,
    };
  } finally {
    await sql.close();
  }
}
