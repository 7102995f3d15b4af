/**
 * What each thing an idle authenticated connection keeps costs, item by item: `BENCH_IDLE_ITEMS`
 * (default 50,000) of each are built the way the server builds them, and the heap (`bun:jsc`
 * `heapStats`, cells only) and RSS (cells, string payloads, Map tables: everything) are read after
 * full collections before and after. Bun's native part of a socket is not built here: the live
 * bench's bare relay measures it (about 1 KB).
 *   bun bench/idle/items.ts
 */
import { heapStats } from "bun:jsc";
import { createHash } from "node:crypto";
import { createRequire } from "node:module";
import { join } from "node:path";
import type { Actor } from "../../apps/api/src/access/actor.ts";
import { classRoleMap } from "../../apps/api/src/access/class-roles.ts";
import { remembered } from "../../apps/api/src/auth/clerk.ts";
import { generateDevKeyPair, mintSessionToken } from "../../apps/api/src/auth/dev-keys.ts";
import { Connection, type ConnectionHost } from "../../apps/api/src/realtime/connection.ts";
import { SharedActors } from "../../apps/api/src/realtime/shared-actors.ts";
import type { RealtimeSocket } from "../../apps/api/src/realtime/socket.ts";

// The app's own lru-cache (a dependency of apps/api, not of the bench).
interface TtlCache<V> {
  set(key: string, value: V): unknown;
}
const { LRUCache } = createRequire(join(import.meta.dir, "../../apps/api/package.json"))("lru-cache") as {
  LRUCache: new <V>(options: { max: number; ttl: number; ttlAutopurge: boolean }) => TtlCache<V>;
};
const N = Number(process.env.BENCH_IDLE_ITEMS ?? 50_000);

function settled() {
  for (let i = 0; i < 3; i++) Bun.gc(true);
  return { heap: heapStats().heapSize, rss: process.memoryUsage().rss };
}

/** Bytes per item of what `build` returns, kept alive until measured. */
function measure(name: string, build: (i: number) => unknown): { name: string; heap: number; rss: number } {
  const kept: unknown[] = new Array(N);
  const before = settled();
  for (let i = 0; i < N; i++) kept[i] = build(i);
  const after = settled();
  const row = { name, heap: (after.heap - before.heap) / N, rss: (after.rss - before.rss) / N };
  kept.length = 0;
  return row;
}

const uuid = () => crypto.randomUUID();
// The claims object a verification yields (the payload segment decoded and parsed).
const claimsOf = (jwt: string) => JSON.parse(Buffer.from(jwt.split(".")[1] ?? "", "base64url").toString("utf8")) as Record<string, unknown>;
// An actor as loadActor builds it from its one row (strings parsed out of JSON, as the driver hands
// them): a student has no group roles (one shared frozen list) and no record districts (absent).
const NO_GROUP_ROLES = Object.freeze([]) as unknown as Actor["groupRoles"];
function studentActor(i: number): Actor {
  const row = JSON.parse(
    JSON.stringify({
      id: uuid(),
      clerkUserId: `user_${uuid().replaceAll("-", "")}`,
      classRoles: [{ classId: uuid(), role: "student", groupId: uuid(), groupPath: "d1.s1.dep1" }],
    }),
  ) as { id: string; clerkUserId: string; classRoles: { classId: string; role: "student"; groupId: string; groupPath: string }[] };
  return {
    kind: "user",
    userId: row.id,
    clerkUserId: row.clerkUserId,
    isSystemAdmin: i < 0,
    groupRoles: NO_GROUP_ROLES,
    classRoles: classRoleMap(row.classRoles),
    activeGroupId: null,
  };
}
// Its fields as they were (the methods, on the prototype, cost nothing per object).
class OneClassRoleBefore {
  constructor(
    readonly classId: string,
    readonly entry: object,
  ) {}
}
// The same before 2026-12-01 evening: empty arrays of its own, and its class role's entry an object of its own.
function studentActorBefore(i: number): Actor {
  const a = studentActor(i);
  const [[classId, e]] = [...a.classRoles] as [[string, { role: "student"; groupId: string; groupPath: string }]];
  const entry = { role: e.role, groupId: `${e.groupId}`, groupPath: e.groupPath };
  const classRoles = new OneClassRoleBefore(classId, entry) as unknown as Actor["classRoles"];
  return { ...a, groupRoles: [], classRoles, recordDistricts: [] };
}

const socket: RealtimeSocket = { send: () => 1, close: () => {}, getBufferedAmount: () => 0, readyState: 1, subscribe: () => {}, unsubscribe: () => {} };
const host = {} as ConnectionHost;
const sharedActor = studentActor(0);
const keys = await generateDevKeyPair("items");
const token = await mintSessionToken(keys, { userId: "user_2abcdefghijklmnopqrstuvwxyz", expiresInSeconds: 3600 });

const rows = [
  measure("a UUID string (a connection's id until 2026-12-02; now formed when asked for)", () => uuid()),
  measure("Connection object (fields only; actor shared)", () => new Connection(socket, sharedActor, host)),
  (() => {
    const set = new Set<unknown>();
    const values = Array.from({ length: N }, () => ({}));
    const r = measure("hub's connections Set entry", (i) => set.add(values[i]));
    return r;
  })(),
  measure("Actor of a student (one class role), per user (before)", (i) => studentActorBefore(i)),
  measure("Actor of a student (one class role), per user (after)", (i) => studentActor(i)),
  (() => {
    const rows = Array.from({ length: N }, () => ({ classId: uuid(), role: "student" as const, groupId: uuid(), groupPath: "d1.s1.dep1" }));
    return measure("a student's class roles as a Map (before)", (i) => {
      const r = rows[i] as (typeof rows)[number];
      return new Map([[r.classId, { role: r.role, groupId: r.groupId, groupPath: r.groupPath }]]);
    });
  })(),
  (() => {
    const rows = Array.from({ length: N }, () => ({ classId: uuid(), role: "student" as const, groupId: uuid(), groupPath: "d1.s1.dep1" }));
    return measure("a student's class roles, one entry (after)", (i) => classRoleMap([rows[i] as (typeof rows)[number]]));
  })(),
  (() => {
    const shared = new SharedActors();
    const actors = Array.from({ length: N }, (_, i) => studentActor(i));
    return measure("shared-actor entry, a user with one socket", (i) => shared.adopt(actors[i] as Actor));
  })(),
  (() => {
    const shared = new SharedActors();
    const actors = Array.from({ length: N }, (_, i) => studentActor(i));
    for (const a of actors) shared.adopt(a);
    return measure("… its second socket (a counted entry then)", (i) => shared.adopt(actors[i] as Actor));
  })(),
  (() => {
    const cache = new LRUCache<unknown>({ max: N + 1, ttl: 600_000, ttlAutopurge: false });
    return measure("verified-token entry keyed by the token (before)", (i) => {
      const claims = claimsOf(token);
      cache.set(`${token}${i}`, { clerkUserId: String(claims.sub), sessionId: String(claims.sid), org: null, claims });
    });
  })(),
  (() => {
    const cache = new LRUCache<unknown>({ max: N + 1, ttl: 600_000, ttlAutopurge: false });
    return measure("verified-token entry keyed by its SHA-256 (after)", (i) => {
      const claims = claimsOf(token);
      cache.set(createHash("sha256").update(`${token}${i}`).digest("base64"), { clerkUserId: String(claims.sub), sessionId: String(claims.sid), org: null, claims });
    });
  })(),
  (() => {
    const cache = new LRUCache<unknown>({ max: N + 1, ttl: 600_000, ttlAutopurge: false });
    return measure("verified-token entry: exp and profile claims only (after)", (i) => {
      const claims = claimsOf(token);
      const kept = { exp: claims.exp };
      cache.set(createHash("sha256").update(`${token}${i}`).digest("base64"), {
        clerkUserId: String(claims.sub),
        sessionId: String(claims.sid),
        org: null,
        claims: kept,
      });
    });
  })(),
  (() => {
    const cache = new LRUCache<unknown>({ max: N + 1, ttl: 600_000, ttlAutopurge: false });
    return measure("verified-token entry: one object, no session id (2026-12-02)", (i) => {
      const claims = claimsOf(token);
      const identity = { clerkUserId: String(claims.sub), org: null, claims };
      cache.set(createHash("sha256").update(`${token}${i}`).digest("base64"), remembered(identity, Number(claims.exp)));
    });
  })(),
  (() => {
    const principals = new LRUCache<unknown>({ max: N + 1, ttl: 5_000, ttlAutopurge: false });
    const byUser = new LRUCache<unknown>({ max: N + 1, ttl: 5_000, ttlAutopurge: false });
    const actors = Array.from({ length: N }, (_, i) => studentActor(i));
    return measure("setup caches' entries, per user (before; swept after 5–10 s)", (i) => {
      const a = actors[i] as Actor;
      principals.set(String(a.clerkUserId), { userId: a.userId, activeGroupId: null, clerkUserId: a.clerkUserId });
      byUser.set(a.userId, a);
    });
  })(),
  (() => {
    const principals = new LRUCache<unknown>({ max: N + 1, ttl: 5_000, ttlAutopurge: false });
    const byUser = new LRUCache<unknown>({ max: N + 1, ttl: 5_000, ttlAutopurge: false });
    const actors = Array.from({ length: N }, (_, i) => studentActor(i));
    return measure("setup caches' entries, per user (after: the principal is the actor)", (i) => {
      const a = actors[i] as Actor;
      principals.set(String(a.clerkUserId), a);
      byUser.set(a.userId, a);
    });
  })(),
];
console.log(`[idle-items] ${N} of each, bytes per item after full collections (heap: GC cells; RSS: everything, a few tens of bytes of noise)`);
for (const r of rows) console.log(`[idle-items] ${r.name.padEnd(58)} heap ${r.heap.toFixed(0).padStart(5)} B   RSS ${r.rss.toFixed(0).padStart(5)} B`);
