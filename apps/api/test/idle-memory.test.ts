import { describe, expect, test } from "bun:test";
import { Hono } from "hono";
import { LRUCache } from "lru-cache";
import type { Actor } from "../src/access/actor.ts";
import type { TokenIdentity } from "../src/access/identity.ts";
import { createAuthenticator, DEV_PUBLISHABLE_KEY, DEV_SECRET_KEY, mintSessionToken } from "../src/auth/index.ts";
import { recalled, remembered } from "../src/auth/clerk.ts";
import { generateDevKeyPair } from "../src/auth/dev-keys.ts";
import { type ClassRoleEntry, classRoleMap } from "../src/access/class-roles.ts";
import { staleSweep } from "../src/lib/stale-sweep.ts";
import { Connection, type ConnectionHost } from "../src/realtime/connection.ts";
import { SharedActors, sameRights } from "../src/realtime/shared-actors.ts";
import type { RealtimeSocket } from "../src/realtime/socket.ts";

/**
 * What an idle connection keeps: one Actor per user shared by their sockets (compared by value, no
 * kept signature), setup caches that drop expired entries on their own, and verified tokens
 * remembered by digest — so the very same token hits and no other token does.
 */

function actor(overrides: Partial<Actor> = {}): Actor {
  return {
    kind: "user",
    userId: "u1",
    clerkUserId: "user_1",
    isSystemAdmin: false,
    groupRoles: [
      { groupId: "g1", path: "a.b", role: "teacher" },
      { groupId: "g2", path: "a.c", role: "admin" },
    ],
    classRoles: new Map([["c1", { role: "teacher", groupId: "g1", groupPath: "a.b" }]]),
    activeGroupId: null,
    ...overrides,
  };
}

describe("class roles", () => {
  const row = (classId: string, role: "student" | "teacher" = "student") => ({ classId, role, groupId: `g-${classId}`, groupPath: `d.s.${classId}` });

  test("one membership (a student's) answers every read a Map does, without a Map", () => {
    const one = classRoleMap([row("c1")]);
    expect(one).not.toBeInstanceOf(Map);
    const map = new Map<string, ClassRoleEntry>([["c1", { role: "student", groupId: "g-c1", groupPath: "d.s.c1" }]]);
    expect(one.size).toBe(1);
    expect(one.get("c1")).toEqual(map.get("c1"));
    expect(one.get("c2")).toBeUndefined();
    expect([one.has("c1"), one.has("c2")]).toEqual([true, false]);
    expect([...one]).toEqual([...map]);
    expect([...one.entries()]).toEqual([...map.entries()]);
    expect([...one.keys()]).toEqual(["c1"]);
    expect([...one.values()]).toEqual([...map.values()]);
    const seen: unknown[] = [];
    one.forEach((v, k, m) => {
      seen.push([k, v, m === one]);
    });
    expect(seen).toEqual([["c1", map.get("c1"), true]]);
  });

  test("the one membership is its own entry: no object beside it", () => {
    const one = classRoleMap([row("c1")]);
    expect(one.get("c1") as unknown).toBe(one);
    expect(Object.keys(one.get("c1") ?? {}).sort()).toEqual(["groupId", "groupPath", "role"]);
  });

  test("none is one shared empty map; several are a Map", () => {
    expect(classRoleMap([])).toBe(classRoleMap([]));
    expect(classRoleMap([]).size).toBe(0);
    expect([...classRoleMap([])]).toEqual([]);
    const many = classRoleMap([row("c1"), row("c2", "teacher")]);
    expect(many).toBeInstanceOf(Map);
    expect(many.get("c2")?.role).toBe("teacher");
    expect(many.size).toBe(2);
  });

  test("actors with one membership compare by rights as before", () => {
    const a = actor({ classRoles: classRoleMap([row("c1")]) });
    expect(sameRights(a, actor({ classRoles: classRoleMap([row("c1")]) }))).toBe(true);
    expect(sameRights(a, actor({ classRoles: new Map([["c1", { role: "student", groupId: "g-c1", groupPath: "d.s.c1" }]]) }))).toBe(true);
    expect(sameRights(a, actor({ classRoles: classRoleMap([row("c1", "teacher")]) }))).toBe(false);
    expect(sameRights(a, actor({ classRoles: classRoleMap([row("c2")]) }))).toBe(false);
  });
});

describe("shared actors", () => {
  test("equal loads share the first object; a load with other rights is not merged", () => {
    const shared = new SharedActors();
    const first = shared.adopt(actor());
    // Same rights, groups in another order: one object.
    expect(shared.adopt(actor({ groupRoles: [...actor().groupRoles].reverse() }))).toBe(first);
    const changed = actor({ classRoles: new Map([["c1", { role: "student", groupId: "g1", groupPath: "a.b" }]]) });
    expect(shared.adopt(changed)).toBe(changed);
    // Later equal loads share the newest object.
    expect(shared.adopt(actor({ classRoles: new Map([["c1", { role: "student", groupId: "g1", groupPath: "a.b" }]]) }))).toBe(changed);
    expect(shared.size()).toBe(1);
  });

  test("another active group is another entry; the last release drops the user", () => {
    const shared = new SharedActors();
    const plain = shared.adopt(actor());
    const inGroup = shared.adopt(actor({ activeGroupId: "g2" }));
    expect(inGroup).not.toBe(plain);
    expect(shared.adopt(actor({ activeGroupId: "g2" }))).toBe(inGroup);
    shared.release(plain);
    expect(shared.size()).toBe(1);
    // A re-load that gives up the previous hold.
    expect(shared.adopt(actor({ activeGroupId: "g2" }), inGroup)).toBe(inGroup);
    shared.release(inGroup);
    expect(shared.size()).toBe(1);
    shared.release(inGroup);
    expect(shared.size()).toBe(0);
  });

  test("a user held once is held as their actor itself; a second hold or group makes the counted entry, and the last but one release undoes it", () => {
    const shared = new SharedActors();
    // What the hub keeps for the user: the actor itself, or an entry object.
    const held = () => (shared as unknown as { byUser: Map<string, unknown> }).byUser.get("u1");
    const first = shared.adopt(actor());
    expect(held()).toBe(first);
    expect(shared.adopt(actor())).toBe(first);
    expect(held()).not.toBe(first);
    shared.release(first);
    expect(held()).toBe(first);
    const other = shared.adopt(actor({ activeGroupId: "g2" }));
    expect(held()).not.toBe(other);
    shared.release(first);
    expect(held()).toBe(other);
    // A re-check's equal load keeps the object; one with other rights replaces it, and the old
    // object's release (by a connection that has not re-checked yet) leaves the new one alone.
    expect(shared.adopt(actor({ activeGroupId: "g2" }), other)).toBe(other);
    expect(held()).toBe(other);
    const changed = actor({ activeGroupId: "g2", isSystemAdmin: true });
    expect(shared.adopt(changed)).toBe(changed);
    expect(held()).toBe(changed);
    shared.release(other);
    expect(held()).toBe(changed);
    shared.release(changed);
    expect(shared.size()).toBe(0);
  });

  test("sameRights reads every field an access decision reads, groups as a multiset", () => {
    const a = actor();
    const [g1, g2] = [
      { groupId: "g1", path: "a.b", role: "teacher" as const },
      { groupId: "g2", path: "a.c", role: "admin" as const },
    ];
    expect(sameRights(a, actor())).toBe(true);
    expect(sameRights(a, actor({ isSystemAdmin: true }))).toBe(false);
    expect(sameRights(a, actor({ clerkUserId: "user_2" }))).toBe(false);
    expect(sameRights(a, actor({ groupRoles: [g1, g1] }))).toBe(false);
    expect(sameRights(a, actor({ groupRoles: [{ ...g1, path: "a.x" }, g2] }))).toBe(false);
    expect(sameRights(a, actor({ classRoles: new Map([["c2", { role: "teacher", groupId: "g1", groupPath: "a.b" }]]) }))).toBe(false);
    expect(sameRights(a, actor({ classRoles: new Map() }))).toBe(false);
  });
});

describe("stale sweep", () => {
  test("expired entries go without being read, and the timer stops once the cache is empty", async () => {
    const cache = new LRUCache<string, number>({ max: 100, ttl: 40, ttlAutopurge: false });
    let sweeps = 0;
    const counted = {
      get size() {
        return cache.size;
      },
      purgeStale: () => {
        sweeps += 1;
        return cache.purgeStale();
      },
    };
    const sweep = staleSweep(counted, 30);
    for (let i = 0; i < 10; i++) cache.set(`k${i}`, i);
    sweep.armed();
    sweep.armed();
    expect(cache.size).toBe(10);
    const deadline = Date.now() + 2000;
    while (cache.size > 0 && Date.now() < deadline) await Bun.sleep(10);
    expect(cache.size).toBe(0);
    const after = sweeps;
    await Bun.sleep(120);
    expect(sweeps).toBe(after);
    sweep.stop();
  });

  test("a stopped sweep never runs", async () => {
    const cache = new LRUCache<string, number>({ max: 10, ttl: 10, ttlAutopurge: false });
    const sweep = staleSweep(cache, 10);
    cache.set("k", 1);
    sweep.armed();
    sweep.stop();
    sweep.armed();
    await Bun.sleep(60);
    // Expired but never purged: only a read would drop it now.
    expect(cache.size).toBe(1);
  });
});

describe("verified tokens remembered by digest", () => {
  test("the same token is remembered; a token carrying its signature over other claims is refused", async () => {
    const keys = await generateDevKeyPair(`idle-${crypto.randomUUID().slice(0, 8)}`);
    const auth = createAuthenticator({ mode: "dev", secretKey: DEV_SECRET_KEY, publishableKey: DEV_PUBLISHABLE_KEY, jwtKey: keys.publicPem });
    const app = new Hono();
    app.get("/", async (c) => {
      try {
        const identity = await auth.verify(c);
        return c.json({ clerkUserId: identity.clerkUserId });
      } catch (err) {
        return c.json({ refused: (err as { details?: { reason?: string } }).details?.reason ?? "refused" }, 401);
      }
    });
    const ask = (token: string) => app.request("/", { headers: { authorization: `Bearer ${token}` } });
    const token = await mintSessionToken(keys, { userId: "user_a", expiresInSeconds: 600 });
    for (let i = 0; i < 2; i++) {
      const res = await ask(token);
      expect(res.status).toBe(200);
      expect(((await res.json()) as { clerkUserId: string }).clerkUserId).toBe("user_a");
    }
    const [header, , signature] = token.split(".");
    const other = await mintSessionToken(keys, { userId: "user_b", expiresInSeconds: 600 });
    const forged = `${header}.${other.split(".")[1]}.${signature}`;
    expect((await ask(forged)).status).toBe(401);
    const res = await ask(other);
    expect(res.status).toBe(200);
    expect(((await res.json()) as { clerkUserId: string }).clerkUserId).toBe("user_b");
  });
});

describe("a remembered token keeps what its readers need", () => {
  test("the identity, exp and the profile claims provisioning reads; no other claim", async () => {
    const keys = await generateDevKeyPair(`idle-${crypto.randomUUID().slice(0, 8)}`);
    const auth = createAuthenticator({ mode: "dev", secretKey: DEV_SECRET_KEY, publishableKey: DEV_PUBLISHABLE_KEY, jwtKey: keys.publicPem });
    const seen: TokenIdentity[] = [];
    const app = new Hono();
    app.get("/", async (c) => {
      seen.push(await auth.verify(c));
      return c.json({});
    });
    const token = await mintSessionToken(keys, {
      userId: "user_p",
      sessionId: "sess_p",
      org: { id: "org_p", slug: "p", role: "admin" },
      expiresInSeconds: 600,
      claims: { email: "p@example.test", name: "P Person", favourite: "tea" },
    });
    for (let i = 0; i < 2; i++) expect((await app.request("/", { headers: { authorization: `Bearer ${token}` } })).status).toBe(200);
    const [first, again] = seen;
    expect(first?.claims.favourite).toBe("tea");
    expect(first?.claims.iss).toBeDefined();
    expect(again).not.toBe(first);
    expect({ clerkUserId: again?.clerkUserId, org: again?.org }).toEqual({
      clerkUserId: "user_p",
      org: first?.org ?? null,
    });
    expect(again?.claims).toEqual({ exp: first?.claims.exp, email: "p@example.test", name: "P Person" });
  });

  test("kept as one object: no object beside it for a token without profile claims, one for the profile", () => {
    const identity: TokenIdentity = { clerkUserId: "user_q", org: null, claims: { exp: 2_000_000_000, iss: "x", sid: "sess_q" } };
    const plain = remembered(identity, 2_000_000_000);
    expect(Object.values(plain).filter((v) => typeof v === "object" && v !== null)).toEqual([]);
    expect(recalled(plain)).toEqual({ clerkUserId: "user_q", org: null, claims: { exp: 2_000_000_000 } });
    // One string of its own (the Clerk id); the session id is not kept (nothing reads it).
    expect(Object.values(plain).filter((v) => typeof v === "string")).toEqual(["user_q"]);
    const withProfile = remembered({ ...identity, claims: { ...identity.claims, email: "q@example.test" } }, 2_000_000_000);
    expect(withProfile.profile).toEqual({ email: "q@example.test" });
    const identityAgain = recalled(withProfile);
    expect(identityAgain.claims).toEqual({ email: "q@example.test", exp: 2_000_000_000 });
    // The request's claims object is its own: a reader changing it changes nothing remembered.
    identityAgain.claims.email = "changed";
    expect(recalled(withProfile).claims.email).toBe("q@example.test");
  });
});

describe("a connection's id", () => {
  const socket: RealtimeSocket = { send: () => 1, close: () => {}, getBufferedAmount: () => 0, readyState: 1, subscribe: () => {}, unsubscribe: () => {} };
  const host = {} as ConnectionHost;

  test("is formed when asked for: the same on every read, another for every connection, and no string kept", () => {
    const conns = Array.from({ length: 300 }, () => new Connection(socket, actor(), host));
    const ids = conns.map((c) => c.id);
    expect(new Set(ids).size).toBe(300);
    for (const [i, c] of conns.entries()) {
      expect(c.id).toBe(ids[i] as string);
      expect(c.id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
      expect(Object.values(c).filter((v) => typeof v === "string")).toEqual([]);
    }
  });
});
