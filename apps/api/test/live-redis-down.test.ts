import { beforeAll, describe, expect, test } from "bun:test";
import { connectRedis, createMemoryBus, createMemoryKeyValueStore, createMemoryPresence, createRedisKeyValueStore, createRedisPresence } from "@raptscallions/bus";
import { messages } from "@raptscallions/db";
import { makeSchoolScene, makeSession, type SchoolScene } from "@raptscallions/db/testing";
import { RedisLimitStore } from "@raptscallions/gateway";
import { and, eq } from "drizzle-orm";
import { authHeader } from "./helpers/auth.ts";
import { useHarness } from "./helpers/harness.ts";
import { useDevModel } from "./helpers/deployment.ts";
import { connect, type Instance, restCall, startInstance, unreachableRedisUrl } from "./helpers/live.ts";

/**
 * Redis unreachable for an instance's shared state (key-value store, presence, limits): every
 * route either degrades or answers 503 SERVICE_UNAVAILABLE with Retry-After and
 * `details.retryAfterSeconds` — never a 500 — and a refused turn stores nothing. Runs on every
 * pass: the outage is a Redis URL nobody listens on (the bus stays in-process; losing the bus is
 * live-redis-loss.test.ts).
 */
const h = useHarness();
const dev = useDevModel(h, 300);
let a: Instance;
let scene: SchoolScene;
const connections: ReturnType<typeof connectRedis>[] = [];

beforeAll(async () => {
  const down = await unreachableRedisUrl();
  const redis = connectRedis(down, "commands");
  redis.on("error", () => {});
  connections.push(redis);
  a = await startInstance(h.db, {
    bus: () => createMemoryBus().node(),
    kv: createRedisKeyValueStore({ redis }),
    presence: createRedisPresence({ redis }),
    limits: new RedisLimitStore(redis),
    gatewayUrl: dev.url,
  });
  scene = await makeSchoolScene(h.db.db);
}, 60_000);

h.beforeClose(async () => {
  await a.stop();
  for (const c of connections) c.disconnect();
});

function expectUnavailable(res: { status: number; headers: Headers; body: Record<string, unknown> }) {
  expect(res.status).toBe(503);
  expect(res.headers.get("retry-after")).toBe("2");
  expect(res.body.error).toMatchObject({ code: "SERVICE_UNAVAILABLE", details: { retryAfterSeconds: 2 } });
}

describe("Redis unreachable", () => {
  test("a WebSocket ticket is refused with 503 and a retry hint, and so is redeeming one", async () => {
    expectUnavailable(await restCall(a, scene.student, "POST", "/api/realtime/tickets"));
    const res = await fetch(`${a.baseUrl}/ws?ticket=${"t".repeat(32)}`, {
      headers: { upgrade: "websocket", connection: "upgrade", "sec-websocket-key": "dGhlIHNhbXBsZSBub25jZQ==", "sec-websocket-version": "13" },
    });
    expectUnavailable({ status: res.status, headers: res.headers, body: (await res.json()) as Record<string, unknown> });
    // Still authenticated first: no token is a 401, not a 503.
    expect((await fetch(`${a.baseUrl}/api/realtime/tickets`, { method: "POST" })).status).toBe(401);
  });

  test("a student message is refused before anything is stored, and goes through once Redis is back", async () => {
    const session = await makeSession(h.db.db, { toolId: scene.tool.id, studentId: scene.student.id, groupId: scene.department.id, classId: scene.cls.id });
    const sent = await restCall(a, scene.student, "POST", `/api/sessions/${session.id}/messages`, { clientMessageId: "down-1", content: "What is a cell?" });
    expectUnavailable(sent);
    const stored = await h.db.db.select().from(messages).where(eq(messages.sessionId, session.id));
    expect(stored).toHaveLength(0);
    // Resending the same clientMessageId later is a first send, not a duplicate of a failure.
    const healthy = await startInstance(h.db, {
      bus: () => createMemoryBus().node(),
      kv: createMemoryKeyValueStore(),
      presence: createMemoryPresence(),
      gatewayUrl: dev.url,
    });
    try {
      const again = await restCall(healthy, scene.student, "POST", `/api/sessions/${session.id}/messages`, { clientMessageId: "down-1", content: "What is a cell?" });
      expect(again.status).toBe(201);
      expect(again.body).toMatchObject({ duplicate: false, retried: false });
      await healthy.app.realtime.runner.settled((again.body.answer as { id: string }).id);
      const [answer] = await h.db.db
        .select()
        .from(messages)
        .where(and(eq(messages.sessionId, session.id), eq(messages.role, "assistant")));
      expect(answer?.state).toBe("complete");
    } finally {
      await healthy.stop();
    }
  });

  test("a group's theme still resolves: the cache degrades to the database", async () => {
    const res = await fetch(`${a.baseUrl}/api/groups/${scene.department.id}/theme`, { headers: await authHeader(scene.student) });
    expect(res.status).toBe(200);
  });

  test("presence degrades: with tickets from a working store, watching a class and a session still works", async () => {
    const session = await makeSession(h.db.db, { toolId: scene.tool.id, studentId: scene.student.id, groupId: scene.department.id, classId: scene.cls.id });
    const ticketsOk = await startInstance(h.db, {
      bus: () => createMemoryBus().node(),
      kv: createMemoryKeyValueStore(),
      presence: a.deps.presence,
      gatewayUrl: dev.url,
    });
    try {
      const teacher = await connect(ticketsOk, scene.teacher);
      expect((await teacher.request({ type: "subscribe", room: `class:${scene.cls.id}` })).type).toBe("ack");
      const student = await connect(ticketsOk, scene.student);
      expect((await student.request({ type: "subscribe", room: `session:${session.id}`, lastOffset: 0 })).type).toBe("ack");
      expect(ticketsOk.deps.logger.lines.some((l) => l.msg === "presence join failed")).toBe(true);
      expect(teacher.closed).toBeNull();
      expect(student.closed).toBeNull();
      teacher.close();
      student.close();
    } finally {
      await ticketsOk.stop();
    }
  });

  test("a session's snapshot is still served over REST", async () => {
    const session = await makeSession(h.db.db, { toolId: scene.tool.id, studentId: scene.student.id, groupId: scene.department.id, classId: scene.cls.id });
    const snapshot = await restCall(a, scene.teacher, "GET", `/api/sessions/${session.id}/snapshot`);
    expect(snapshot.status).toBe(200);
    expect(snapshot.body).toMatchObject({ room: `session:${session.id}`, offset: 0, payload: { messages: [], streamingMessageId: null } });
  });
});
