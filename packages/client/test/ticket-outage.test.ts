import { beforeAll, describe, expect, test } from "bun:test";
import { connectRedis, createMemoryBus, createMemoryKeyValueStore, createMemoryPresence, createRedisKeyValueStore, type KeyValueStore } from "@raptscallions/bus";
import { messages } from "@raptscallions/db";
import { makeSchoolScene, type SchoolScene } from "@raptscallions/db/testing";
import { eq } from "drizzle-orm";
import { useHarness } from "../../../apps/api/test/helpers/harness.ts";
import { useDevModel } from "../../../apps/api/test/helpers/deployment.ts";
import { type Instance, startInstance, unreachableRedisUrl } from "../../../apps/api/test/helpers/live.ts";
import type { RealtimeClient } from "../src/index.ts";
import { clientFor, eventually, seeded } from "./helpers.ts";

/**
 * The ticket store (Redis) unreachable, for real: the instance's key-value store is a Redis client
 * pointed at a port nobody listens on, so `POST /api/realtime/tickets` answers 503 with
 * Retry-After, as in an outage. The client must keep retrying with backoff, show itself offline
 * (never throw), and go live once the store answers again — here, when the deployment's store is
 * switched to a working one (Redis itself when TEST_REDIS_URL is set).
 */
const h = useHarness();
const dev = useDevModel(h, 300);
let instance: Instance;
let scene: SchoolScene;
let store: { down: boolean } = { down: true };
const cleanups: (() => void)[] = [];

function switchable(down: KeyValueStore, up: KeyValueStore, state: { down: boolean }): KeyValueStore {
  const pick = () => (state.down ? down : up);
  return {
    get: (key) => pick().get(key),
    set: (key, value, ttlMs) => pick().set(key, value, ttlMs),
    getDel: (key) => pick().getDel(key),
    del: (keys) => pick().del(keys),
    incr: (key, by, ttlMs) => pick().incr(key, by, ttlMs),
  };
}

beforeAll(async () => {
  const dead = connectRedis(await unreachableRedisUrl(), "commands");
  dead.on("error", () => {});
  cleanups.push(() => dead.disconnect());
  let up: KeyValueStore = createMemoryKeyValueStore();
  const url = process.env.TEST_REDIS_URL;
  if (url) {
    const live = connectRedis(url, "commands");
    cleanups.push(() => live.disconnect());
    up = createRedisKeyValueStore({ redis: live, keyPrefix: `t${crypto.randomUUID().slice(0, 8)}:kv:` });
  }
  store = { down: true };
  instance = await startInstance(h.db, {
    bus: () => createMemoryBus().node(),
    presence: createMemoryPresence(),
    kv: switchable(createRedisKeyValueStore({ redis: dead }), up, store),
    gatewayUrl: dev.url,
  });
  scene = await makeSchoolScene(h.db.db);
}, 60_000);

h.beforeClose(async () => {
  await instance.stop();
  for (const c of cleanups) c();
});

describe("client: tickets refused during a Redis outage", () => {
  test("503s are retried with growing backoff, the client shows offline, then goes live and sends once", async () => {
    const ticketAnswers: number[] = [];
    const at: number[] = [];
    const doFetch = (async (input: RequestInfo | URL, init?: RequestInit) => {
      const res = await fetch(input, init);
      if (String(input).endsWith("/api/realtime/tickets")) {
        ticketAnswers.push(res.status);
        at.push(performance.now());
      }
      return res;
    }) as typeof fetch;
    const client: RealtimeClient = clientFor(scene.student, { baseUrl: instance.baseUrl, fetch: doFetch, random: seeded(7), backoff: { initialMs: 20, maxMs: 400 } });
    const statuses: string[] = [];
    client.connection.subscribe((s) => statuses.push(s.status));
    try {
      client.connect();
      await eventually(() => ticketAnswers.length >= 5, "five refused ticket requests");
      expect(ticketAnswers.every((s) => s === 503)).toBe(true);
      expect(client.connection.get().status).toMatch(/offline|connecting/);
      expect(client.connection.get().lastError).toContain("unavailable");
      expect(client.connection.get().attempt).toBeGreaterThanOrEqual(4);
      // Backoff grows: the wait before the fifth try is longer than the one before the second
      // (each wait is uniform in [cap/2, cap] and the cap doubles: 20 ms, then 160 ms).
      const gaps = at.slice(1).map((t, i) => t - (at[i] ?? t));
      expect(gaps[3] ?? 0).toBeGreaterThan(80);

      store.down = false;
      await eventually(() => client.connection.get().status === "live", "the connection to be live once Redis answers");
      expect(ticketAnswers.at(-1)).toBe(201);
      expect(statuses).toContain("offline");
      expect(client.connection.get()).toMatchObject({ attempt: 0, lastError: null });

      const { session } = await client.rest("startSession", { body: { toolId: scene.tool.id, classId: scene.cls.id } });
      client.session(session.id);
      const sent = await client.sendMessage({ sessionId: session.id, content: "Is it back?", clientMessageId: "after-outage" });
      expect(sent.duplicate).toBe(false);
      const rows = await h.db.db.select().from(messages).where(eq(messages.clientMessageId, "after-outage"));
      expect(rows.filter((r) => r.sessionId === session.id)).toHaveLength(1);
    } finally {
      client.disconnect();
    }
  }, 60_000);
});
