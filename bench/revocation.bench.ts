/**
 * Revocation delay across instances: how long after a change of who may see what (made over REST
 * or by a Clerk webhook on instance A) the affected user's socket on instance B loses the room or
 * is closed. Two real `apps/api/src/server.ts` processes share Postgres and Redis, as in
 * live.bench.ts; B also holds BENCH_REVOKE_IDLE sockets of other users, so the hub has more than
 * the one connection to look through.
 *
 * Scenarios, each BENCH_REVOKE_TRIALS times on a fresh school (db factories):
 *   - REST `DELETE /api/classes/:id/members/:teacher` → the teacher's class room dropped on B;
 *   - REST `PATCH /api/groups/:school/members/:admin {role: member}` → the admin's class room dropped;
 *   - Clerk `user.updated` with `banned: true` → the user's socket closed with 4001 on B;
 *   - Clerk `organizationMembership.deleted` → the admin's class room dropped on B.
 * The delay is measured in this one process with performance.now(): from just before the REST call
 * or webhook POST is sent to the error frame / close seen on B ("total"), and from its response to
 * the same moment ("after response": the bus hop and the re-check alone).
 *
 * Needs Postgres (BENCH_DATABASE_URL, default postgres://rapt:rapt@127.0.0.1:5432/rapt; a fresh
 * database per run, dropped after) and Redis (BENCH_REDIS_URL, else one is started on 6396);
 * skipped with a message when either is missing. BENCH_REVOKE_DATABASE_URL instead names an
 * existing database to use as it is (for a role that may not create databases; rows stay).
 *
 *   bun bench/revocation.bench.ts      (or `bun run bench -- revocation`)
 * A trial with no drop or close within BENCH_REVOKE_WAIT_MS counts as missed (reported, not timed).
 * Knobs: BENCH_REVOKE_TRIALS=20 BENCH_REVOKE_IDLE=200 BENCH_REVOKE_WAIT_MS=30000
 */
import { mkdtempSync, rmSync } from "node:fs";
import { cpus, loadavg, tmpdir } from "node:os";
import { join } from "node:path";
import { type DevKeyPair, loadOrCreateDevKeys, mintSessionToken } from "../apps/api/src/auth/dev-keys.ts";
import { clerkMembershipData, clerkUserData, makeWebhookSecret, signedHeaders } from "../apps/api/test/helpers/webhooks.ts";
import { SQL } from "bun";
import { createDb } from "../packages/db/src/index.ts";
import { makeSchoolScene, type SchoolScene } from "../packages/db/src/testing/index.ts";
import { percentile } from "./live/clients.ts";
import { assertLoopback, type BenchDatabase, createBenchDatabase, ensureRedis, type RedisHandle } from "./live/infra.ts";
import { stopAll } from "./live/procs.ts";
import { type Instance, startApp } from "./live/targets.ts";

const num = (name: string, fallback: number) => {
  const v = Number(process.env[name] ?? fallback);
  if (!Number.isFinite(v) || v < 0) throw new Error(`${name} must be a non-negative number`);
  return v;
};
const TRIALS = Math.max(1, num("BENCH_REVOKE_TRIALS", 20));
const IDLE = num("BENCH_REVOKE_IDLE", 200);
const WAIT_MS = num("BENCH_REVOKE_WAIT_MS", 30_000);
const maxOf = (xs: number[]) => (xs.length > 0 ? Math.max(...xs) : Number.NaN);
const log = (msg: string) => console.log(`[revocation] ${msg}`);
const load = () =>
  loadavg()
    .map((n) => n.toFixed(2))
    .join(" ");

type Frame = { type: string; code?: unknown; details?: { room?: string } };

/** A socket on B that records when it lost a room or was closed. */
class Watcher {
  readonly opened: Promise<void>;
  private onRevoked: ((at: number, what: string) => void) | null = null;
  private readonly acks = new Map<string, (f: Frame) => void>();
  readonly helloed: Promise<void>;
  constructor(private readonly ws: WebSocket) {
    let hello = () => {};
    this.helloed = new Promise<void>((resolve) => {
      hello = resolve;
    });
    this.opened = new Promise((resolve, reject) => {
      ws.addEventListener("open", () => resolve(), { once: true });
      ws.addEventListener("error", () => reject(new Error("socket failed to open")), { once: true });
    });
    ws.addEventListener("message", (ev) => {
      const f = JSON.parse(String(ev.data)) as Frame & { id?: string };
      if (f.type === "hello") hello();
      if (f.id && this.acks.has(f.id)) {
        this.acks.get(f.id)?.(f);
        this.acks.delete(f.id);
      } else if (f.type === "error" && f.details?.room) this.onRevoked?.(performance.now(), `room ${String(f.code)}`);
    });
    ws.addEventListener("close", (ev) => this.onRevoked?.(performance.now(), `closed ${ev.code}`));
  }
  request(frame: Record<string, unknown>): Promise<Frame> {
    const id = crypto.randomUUID().slice(0, 8);
    return new Promise((resolve) => {
      this.acks.set(id, resolve);
      this.ws.send(JSON.stringify({ ...frame, id }));
    });
  }
  /** Resolves with the time the room was dropped or the socket closed, or null after WAIT_MS. */
  revoked(): Promise<{ at: number; what: string } | null> {
    return new Promise((resolve) => {
      const t = setTimeout(() => resolve(null), WAIT_MS);
      this.onRevoked = (at, what) => {
        clearTimeout(t);
        this.onRevoked = null;
        resolve({ at, what });
      };
    });
  }
  close() {
    this.ws.close();
  }
}

async function token(keys: DevKeyPair, user: { clerkUserId: string | null }) {
  if (!user.clerkUserId) throw new Error("factory user without a Clerk id");
  return mintSessionToken(keys, { userId: user.clerkUserId, expiresInSeconds: 3600 });
}

async function watch(b: Instance, keys: DevKeyPair, user: { clerkUserId: string | null }, room: string | null): Promise<Watcher> {
  const res = await fetch(`${b.baseUrl}/api/realtime/tickets`, { method: "POST", headers: { authorization: `Bearer ${await token(keys, user)}` } });
  if (res.status !== 201) throw new Error(`ticket: ${res.status} ${await res.text()}`);
  const { ticket } = (await res.json()) as { ticket: string };
  const w = new Watcher(new WebSocket(`${b.wsUrl}/ws?ticket=${encodeURIComponent(ticket)}`));
  await w.opened;
  await w.helloed;
  if (room) {
    const ack = await w.request({ type: "subscribe", room });
    if (ack.type !== "ack") throw new Error(`subscribe ${room}: ${JSON.stringify(ack)}`);
  }
  return w;
}

interface Trial {
  totalMs: number;
  afterResponseMs: number;
  what: string;
}

interface Scenario {
  name: string;
  /** Who watches on B, and which room (null: just connected). */
  watcher(scene: SchoolScene): { user: { clerkUserId: string | null }; room: string | null };
  /** The revoking call on A; resolves with its HTTP status. */
  revoke(scene: SchoolScene, a: Instance): Promise<number>;
  expectStatus: number;
}

function clerkId(user: { clerkUserId: string | null }): string {
  if (!user.clerkUserId) throw new Error("factory user without a Clerk id");
  return user.clerkUserId;
}

async function main(): Promise<number> {
  const workDir = mkdtempSync(join(tmpdir(), "rapt-revoke-bench-"));
  const dataDir = join(workDir, "data");
  let redis: RedisHandle | null = null;
  let db: BenchDatabase | null = null;
  try {
    redis = await ensureRedis(workDir);
    if (!redis) {
      console.log("SKIP revocation bench: no Redis (set BENCH_REDIS_URL, or install redis-server so one can be started on 6396)");
      return 0;
    }
    const existing = process.env.BENCH_REVOKE_DATABASE_URL;
    if (existing) {
      assertLoopback(existing, "BENCH_REVOKE_DATABASE_URL");
      // An existing database (when the role may not create one): migrated, rows left behind, never dropped.
      db = { url: existing, name: new URL(existing).pathname.slice(1), drop: async () => {} };
    } else {
      const created = await createBenchDatabase();
      if ("error" in created) {
        console.log(`SKIP revocation bench: ${created.error} (set BENCH_DATABASE_URL, or BENCH_REVOKE_DATABASE_URL)`);
        return 0;
      }
      db = created;
    }
    const loadBefore = load();
    log(`load before: ${loadBefore} on ${cpus().length} CPUs; database ${db.name}; redis ${redis.url}`);
    const keys = await loadOrCreateDevKeys(dataDir);
    const secret = makeWebhookSecret();
    const handle = await createDb({ url: db.url, maxConnections: 4 });
    await handle.migrate();

    const tokenFor = (user: { clerkUserId: string | null }) => token(keys, user);
    const rest = async (a: Instance, as: { clerkUserId: string | null }, method: string, path: string, body?: unknown) => {
      const res = await fetch(`${a.baseUrl}${path}`, {
        method,
        headers: { authorization: `Bearer ${await tokenFor(as)}`, ...(body ? { "content-type": "application/json" } : {}) },
        body: body ? JSON.stringify(body) : undefined,
      });
      await res.arrayBuffer();
      return res.status;
    };
    const webhook = async (a: Instance, type: string, data: unknown) => {
      const body = JSON.stringify({ object: "event", type, timestamp: Date.now(), data, event_attributes: {} });
      const res = await fetch(`${a.baseUrl}/api/webhooks/clerk`, { method: "POST", headers: signedHeaders(secret, body), body });
      await res.arrayBuffer();
      return res.status;
    };
    const orgOf = new Map<string, string>();

    const scenarios: Scenario[] = [
      {
        name: "REST class member removed → class room dropped",
        watcher: (s) => ({ user: s.teacher, room: `class:${s.cls.id}` }),
        revoke: (s, a) => rest(a, s.schoolAdmin, "DELETE", `/api/classes/${s.cls.id}/members/${s.teacher.id}`),
        expectStatus: 204,
      },
      {
        name: "REST admin demoted to member → class room dropped",
        watcher: (s) => ({ user: s.schoolAdmin, room: `class:${s.cls.id}` }),
        revoke: (s, a) => rest(a, s.districtAdmin, "PATCH", `/api/groups/${s.school.id}/members/${s.schoolAdmin.id}`, { role: "member" }),
        expectStatus: 200,
      },
      {
        name: "Clerk user.updated banned → socket closed (4001)",
        watcher: (s) => ({ user: s.teacher, room: `class:${s.cls.id}` }),
        revoke: (s, a) =>
          webhook(
            a,
            "user.updated",
            clerkUserData({ id: clerkId(s.teacher), first: "T", last: "B", email: `${clerkId(s.teacher)}@bench.test`, banned: true, updatedAt: Date.now() }),
          ),
        expectStatus: 200,
      },
      {
        name: "Clerk organizationMembership.deleted → class room dropped",
        watcher: (s) => ({ user: s.schoolAdmin, room: `class:${s.cls.id}` }),
        revoke: (s, a) => {
          const now = Date.now();
          const orgId = orgOf.get(s.school.id) ?? "";
          return webhook(
            a,
            "organizationMembership.deleted",
            clerkMembershipData({
              id: `orgmem_${crypto.randomUUID().slice(0, 8)}`,
              role: "org:admin",
              org: { id: orgId, name: "School", slug: null, updatedAt: now - 30_000 },
              user: { id: clerkId(s.schoolAdmin), first: "S", last: "A", email: `${clerkId(s.schoolAdmin)}@bench.test` },
              updatedAt: now,
            }),
          );
        },
        expectStatus: 200,
      },
    ];

    const scenes: SchoolScene[][] = [];
    // The schools stand for Clerk organisations, so a membership webhook can name them.
    const sql = new SQL(db.url, { max: 1 });
    for (const _ of scenarios) {
      const list: SchoolScene[] = [];
      for (let i = 0; i < TRIALS; i++) {
        const scene = await makeSchoolScene(handle.db);
        const orgId = `org_${crypto.randomUUID().replaceAll("-", "")}`;
        await sql`update groups set clerk_org_id = ${orgId}, clerk_updated_at = now() - interval '1 hour' where id = ${scene.school.id}`;
        orgOf.set(scene.school.id, orgId);
        list.push(scene);
      }
      scenes.push(list);
    }
    await sql.close();
    await handle.close();
    log(`seeded ${scenarios.length * TRIALS} schools`);

    const app = await startApp({ tag: "revoke", databaseUrl: db.url, redisUrl: redis.url, dataDir, logDir: workDir, env: { CLERK_WEBHOOK_SIGNING_SECRET: secret } });
    const results: { scenario: string; trials: Trial[]; missed: number }[] = [];
    try {
      const idleUsers = scenes.flat().flatMap((s) => [s.student, s.otherStudent]);
      const idle: Watcher[] = [];
      for (let i = 0; i < IDLE && idleUsers.length > 0; i++) idle.push(await watch(app.b, keys, idleUsers[i % idleUsers.length] as SchoolScene["student"], null));
      log(`${idle.length} idle sockets of other users open on B`);

      for (const [k, scenario] of scenarios.entries()) {
        const trials: Trial[] = [];
        let missed = 0;
        for (const scene of scenes[k] ?? []) {
          const { user, room } = scenario.watcher(scene);
          const w = await watch(app.b, keys, user, room);
          const revoked = w.revoked();
          const t0 = performance.now();
          const status = await scenario.revoke(scene, app.a);
          const tResponse = performance.now();
          if (status !== scenario.expectStatus) throw new Error(`${scenario.name}: HTTP ${status}`);
          const seen = await revoked;
          if (seen) trials.push({ totalMs: seen.at - t0, afterResponseMs: seen.at - tResponse, what: seen.what });
          else missed += 1;
          w.close();
        }
        results.push({ scenario: scenario.name, trials, missed });
        const tot = trials.map((t) => t.totalMs);
        const aft = trials.map((t) => t.afterResponseMs);
        log(
          `${scenario.name}: total p50 ${percentile(tot, 0.5).toFixed(1)} ms, p95 ${percentile(tot, 0.95).toFixed(1)} ms, max ${maxOf(tot).toFixed(1)} ms; after response p50 ${percentile(aft, 0.5).toFixed(1)} ms, max ${maxOf(aft).toFixed(1)} ms (${trials[0]?.what ?? "none"}); missed ${missed}`,
        );
      }
      for (const w of idle) w.close();
    } finally {
      await app.stop();
    }

    const rows = results.map((r) => {
      const tot = r.trials.map((t) => t.totalMs);
      const aft = r.trials.map((t) => t.afterResponseMs);
      return {
        scenario: r.scenario,
        trials: r.trials.length + r.missed,
        missed: r.missed,
        totalP50Ms: +percentile(tot, 0.5).toFixed(1),
        totalP95Ms: +percentile(tot, 0.95).toFixed(1),
        totalMaxMs: +maxOf(tot).toFixed(1),
        afterResponseP50Ms: +percentile(aft, 0.5).toFixed(1),
        afterResponseMaxMs: +maxOf(aft).toFixed(1),
      };
    });
    console.log(`\nRevocation delay, A → B (load ${loadBefore} → ${load()}, ${cpus().length} CPUs, ${IDLE} idle sockets on B)\n`);
    console.log(`| scenario | trials | missed (> ${WAIT_MS} ms) | total p50 | total p95 | total max | after response p50 | after response max |`);
    console.log("| --- | --- | --- | --- | --- | --- | --- | --- |");
    for (const r of rows) {
      console.log(
        `| ${r.scenario} | ${r.trials} | ${r.missed} | ${r.totalP50Ms} ms | ${r.totalP95Ms} ms | ${r.totalMaxMs} ms | ${r.afterResponseP50Ms} ms | ${r.afterResponseMaxMs} ms |`,
      );
    }
    const stamp = new Date().toISOString().replace(/[:.]/g, "-");
    const file = join(import.meta.dir, "results", `revocation-${stamp}.json`);
    await Bun.write(
      file,
      `${JSON.stringify({ machine: { cpus: cpus().length, loadBefore, loadAfter: load(), bun: Bun.version }, config: { trials: TRIALS, idle: IDLE, waitMs: WAIT_MS }, rows }, null, 2)}\n`,
    );
    console.log(`\nwritten ${file}`);
    return 0;
  } finally {
    await stopAll();
    if (db) await db.drop().catch((err: Error) => console.error(`could not drop ${db?.name}: ${err.message}`));
    rmSync(workDir, { recursive: true, force: true });
  }
}

try {
  process.exit(await main());
} catch (err) {
  console.error("revocation bench failed:", err);
  await stopAll();
  process.exit(1);
}
