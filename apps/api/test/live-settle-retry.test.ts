import { describe, expect, test } from "bun:test";
import { aiUsage, limitSettleRetries, messages } from "@raptscallions/db";
import { makeSchoolScene, makeSession, type SchoolScene } from "@raptscallions/db/testing";
import { type LimitStore, MemoryLimitStore, RedisLimitStore } from "@raptscallions/gateway";
import { eq } from "drizzle-orm";
import Redis from "ioredis";
import { reservationSubject } from "../src/lib/ai-service.ts";
import { sweepInterruptedStreams } from "../src/services/live/sweeper.ts";
import { generationRequest } from "./ai-fixtures.ts";
import { createTestAiService, pinDevModel } from "./helpers/ai.ts";
import { testRedisUrl, useHarness } from "./helpers/harness.ts";
import { makeStaleAnswer } from "./helpers/live.ts";

/**
 * The limit store is out of reach when a sweep finalises a crashed answer (Redis down): the settle
 * of its reservation fails after the row is finalised, so no later sweep finds the answer again. The
 * figures are kept and the next sweep, once the store answers, settles them — once, even when two
 * sweepers retry at the same time. On the in-process store, and on Redis when TEST_REDIS_URL is set.
 */
const h = useHarness();
const connections: Redis[] = [];
h.beforeClose(async () => {
  await Promise.all(connections.map((c) => c.quit()));
});

const STALE_AFTER_MS = 1_000;

/** A limit store that fails every call while `down`, as one whose Redis is unreachable does. */
function storeWithOutage(inner: LimitStore): LimitStore & { down: boolean } {
  const unreachable = () => Promise.reject(new Error("Connection is closed."));
  const store: LimitStore & { down: boolean } = {
    down: false,
    reserve: (input) => (store.down ? unreachable() : inner.reserve(input)),
    settle: (reservation, actual) => (store.down ? unreachable() : inner.settle(reservation, actual)),
    unsettled: (subject) => (store.down ? unreachable() : inner.unsettled(subject)),
    usage: (input) => (store.down ? unreachable() : inner.usage(input)),
  };
  return store;
}

function sharedStore(): LimitStore {
  if (!testRedisUrl) return new MemoryLimitStore();
  const connection = new Redis(testRedisUrl, { maxRetriesPerRequest: 1 });
  connections.push(connection);
  return new RedisLimitStore(connection, { keyPrefix: `t${crypto.randomUUID().slice(0, 8)}:{limits}:` });
}

describe(`a crashed call's settle that fails during a sweep (${testRedisUrl ? "redis" : "in-process"} limit store)`, () => {
  test("is retried by the next sweep once the store answers, and counted once by two sweepers at once", async () => {
    const scene: SchoolScene = await makeSchoolScene(h.db.db);
    const model = await pinDevModel(h.db.db, scene.district.id);
    const limits = storeWithOutage(sharedStore());
    // Two instances' AI services on the one limit store, as two API instances share Redis.
    const first = createTestAiService(h.db, { limits });
    const second = createTestAiService(h.db, { limits });
    const sweep = (ai: typeof first.ai) => {
      const { bus, clock, logger, kv } = h.deps;
      return sweepInterruptedStreams({ db: h.db.db, bus, clock, logger, ai, kv, staleAfterMs: STALE_AFTER_MS });
    };
    const figures = () => limits.usage({ userId: scene.student.id, groupIds: [scene.school.id, scene.district.id], now: Date.now() });

    // What a dead instance leaves: an answer that streamed a little, stale, and the reservation it made.
    const session = await makeSession(h.db.db, { toolId: scene.tool.id, studentId: scene.student.id, groupId: scene.department.id, classId: scene.cls.id });
    await h.db.db.insert(messages).values({ sessionId: session.id, seq: 1, role: "user", content: "What is a cell wall?" });
    const answerId = (
      await makeStaleAnswer(h.db.db, { sessionId: session.id, seq: 2, content: "A cell wall is a rigid layer outside the membrane", meta: { model: model.id } })
    ).id;
    const subject = reservationSubject({ messageId: answerId }) ?? "";
    await first.ai.start(generationRequest(scene, { scope: { sessionId: session.id, messageId: answerId } }));
    const reserved = await figures();
    expect(reserved.tokensToday).toBeGreaterThan(512);

    // The store goes down: the sweep finalises the answer and writes its usage, but cannot settle.
    limits.down = true;
    expect(await sweep(first.ai)).toBe(1);
    const [row] = await h.db.db.select().from(messages).where(eq(messages.id, answerId));
    expect(row?.state).toBe("interrupted");
    const [usage] = await h.db.db.select().from(aiUsage).where(eq(aiUsage.messageId, answerId));
    if (!usage) throw new Error("no usage row");
    const actual = { tokens: usage.inputTokens + usage.outputTokens, costMicros: Math.round(usage.costUsd * 1e6) };
    expect(await h.db.db.select().from(limitSettleRetries).where(eq(limitSettleRetries.subject, subject))).toMatchObject([{ ...actual, attempts: 1 }]);
    // Still down at the next sweep: the figures stay kept, one more attempt counted.
    expect(await sweep(second.ai)).toBe(0);
    expect(await h.db.db.select().from(limitSettleRetries).where(eq(limitSettleRetries.subject, subject))).toMatchObject([{ attempts: 2 }]);
    limits.down = false;
    expect(await figures()).toMatchObject({ tokensToday: reserved.tokensToday });

    // The store is back: two sweepers at once retry it; the day and month hold the call's usage, once.
    await Promise.all([sweep(first.ai), sweep(second.ai)]);
    const recovered = await figures();
    expect(recovered.tokensToday).toBe(actual.tokens);
    expect(recovered.spentThisMonthMicros[scene.school.id]).toBe(actual.costMicros);
    expect(recovered.spentThisMonthMicros[scene.district.id]).toBe(actual.costMicros);
    expect(await h.db.db.select().from(limitSettleRetries).where(eq(limitSettleRetries.subject, subject))).toHaveLength(0);
    expect(await limits.unsettled(subject)).toBeNull();

    // Later sweeps, and the dead instance's own late settle, change nothing.
    await sweep(first.ai);
    expect(await second.ai.settleAbandoned(subject, { tokens: 0, costMicros: 0 })).toBeNull();
    expect(await figures()).toMatchObject({ tokensToday: recovered.tokensToday, spentThisMonthMicros: recovered.spentThisMonthMicros });
  }, 60_000);

  test("a kept settle whose reservation was settled meanwhile (the call's instance came back) is dropped without a second count", async () => {
    const scene = await makeSchoolScene(h.db.db);
    await pinDevModel(h.db.db, scene.district.id);
    const limits = storeWithOutage(sharedStore());
    const { ai } = createTestAiService(h.db, { limits });
    const messageId = crypto.randomUUID();
    const subject = reservationSubject({ messageId }) ?? "";
    const call = await ai.start(generationRequest(scene, { scope: { messageId } }));
    // A settle a sweep could not make, kept with figures of its own.
    await h.db.db.insert(limitSettleRetries).values({ subject, tokens: 7, costMicros: 3 });
    // The call's own instance finishes it first: its settle is the one that counts.
    let text = "";
    for await (const ev of call.events) if (ev.type === "delta") text += ev.text;
    const result = await call.finish("complete", text);
    const { bus, clock, logger, kv } = h.deps;
    await sweepInterruptedStreams({ db: h.db.db, bus, clock, logger, ai, kv, staleAfterMs: STALE_AFTER_MS });
    expect(await h.db.db.select().from(limitSettleRetries).where(eq(limitSettleRetries.subject, subject))).toHaveLength(0);
    const after = await limits.usage({ userId: scene.student.id, groupIds: [scene.district.id], now: Date.now() });
    expect(after.tokensToday).toBe(result.inputTokens + result.outputTokens);
  }, 60_000);
});
