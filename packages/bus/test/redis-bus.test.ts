import { afterEach, describe, expect, test } from "bun:test";
import { Redis } from "ioredis";
import { createRedisBus, roomKeys, subscribeWithResume, type BusSignal, type RedisBus } from "../src/index.ts";
import { REDIS_URL, deleteKeys, errorSink, followFromStart, newRoom, range, startCuttableProxy, waitFor } from "./support.ts";

// Behaviour only real Redis has: channel subscriptions on a connection, dropped connections,
// outages. Runs when TEST_REDIS_URL is set (CI sets it); reported as skipped otherwise.
const url = REDIS_URL ?? "";
describe.skipIf(REDIS_URL === undefined)("redis bus", () => {
  const cleanups: Array<() => Promise<void> | void> = [];
  const prefix = () => {
    const keyPrefix = `test:bus:${crypto.randomUUID()}:`;
    cleanups.push(() => deleteKeys(url, [keyPrefix]));
    return keyPrefix;
  };
  const node = (options: { url?: string; keyPrefix: string; onError?: (e: unknown, c: string) => void }) => {
    const bus = createRedisBus({ url: options.url ?? url, keyPrefix: options.keyPrefix, onError: options.onError ?? (() => undefined), recoveryIntervalMs: 50 });
    cleanups.unshift(() => bus.close());
    return bus;
  };
  const admin = () => {
    const client = new Redis(url);
    cleanups.push(() => client.disconnect());
    return client;
  };
  afterEach(async () => {
    for (const cleanup of cleanups.splice(0)) await cleanup();
  });

  const numsub = async (client: Redis, channel: string): Promise<number> => {
    const reply = (await client.call("PUBSUB", "NUMSUB", channel)) as [string, number];
    return Number(reply[1]);
  };

  test("the subscriber connection holds a room's channel only while local listeners exist", async () => {
    const keyPrefix = prefix();
    const [a, b] = [node({ keyPrefix }), node({ keyPrefix })];
    await Promise.all([a.ready(), b.ready()]);
    const redis = admin();
    const room = newRoom();
    const { channel } = roomKeys(keyPrefix, room);
    expect(await numsub(redis, channel)).toBe(0);

    const stopA1 = await a.subscribe(room, () => undefined);
    const stopA2 = await a.subscribe(room, () => undefined);
    expect(await numsub(redis, channel)).toBe(1);
    const stopB = await b.subscribe(room, () => undefined);
    expect(await numsub(redis, channel)).toBe(2);

    stopA1();
    await waitFor("unsubscribe to settle", async () => (await numsub(redis, channel)) === 2);
    expect(await numsub(redis, channel)).toBe(2);
    stopA2();
    await waitFor("a's channel to go", async () => (await numsub(redis, channel)) === 1);
    stopB();
    await waitFor("b's channel to go", async () => (await numsub(redis, channel)) === 0);
    expect([a.subscribedRooms(), b.subscribedRooms()]).toEqual([[], []]);
  });

  test("the publishes of one loop turn leave as one script call; each resolves with its room's position, and one room's failure leaves the others published", async () => {
    const keyPrefix = prefix();
    const bus = node({ keyPrefix });
    await bus.ready();
    const redis = admin();
    const evalshaCalls = async () => Number(/cmdstat_evalsha:calls=(\d+)/.exec(await redis.info("commandstats"))?.[1] ?? 0);
    const [a, broken, c] = [newRoom(), newRoom(), newRoom()];
    await redis.set(roomKeys(keyPrefix, broken).meta, "not a hash");
    const heard: Array<{ room: string; offset: number }> = [];
    for (const room of [a, broken, c]) await bus.subscribeFrames(room, { frame: (_epoch, offset) => heard.push({ room, offset }), resync: () => undefined });
    await bus.publish(a, { type: "warm", payload: null }); // loads the script (NOSCRIPT → EVAL) outside the count
    const before = await evalshaCalls();
    const settled = await Promise.allSettled([
      bus.publish(a, { type: "t", payload: 1 }),
      bus.publish(broken, { type: "t", payload: 2 }),
      bus.publish(c, { type: "t", payload: 3 }),
      bus.publish(a, { type: "t", payload: 4 }),
    ]);
    expect((await evalshaCalls()) - before).toBe(1);
    const [first, failed, third, fourth] = settled;
    expect(first?.status === "fulfilled" && first.value.offset).toBe(2);
    expect(fourth?.status === "fulfilled" && fourth.value.offset).toBe(3);
    expect(third?.status === "fulfilled" && third.value.offset).toBe(1);
    expect(failed?.status === "rejected" && String(failed.reason)).toContain("WRONGTYPE");
    expect(bus.degraded).toBe(false);
    await waitFor("the published rooms' frames", () => heard.length === 4);
    expect(heard).toEqual([
      { room: a, offset: 1 },
      { room: a, offset: 2 },
      { room: c, offset: 1 },
      { room: a, offset: 3 },
    ]);
    const replay = await bus.replay(a, 0);
    expect(replay.kind === "events" && replay.events.map((e) => e.payload)).toEqual([null, 1, 4]);
  });

  test("a killed subscriber connection resubscribes, signals resync, and resuming listeners lose nothing", async () => {
    const keyPrefix = prefix();
    const [a, b] = [node({ keyPrefix }), node({ keyPrefix })];
    await Promise.all([a.ready(), b.ready()]);
    const redis = admin();
    const room = newRoom();
    const signals: BusSignal[] = [];
    await b.subscribe(room, (signal) => signals.push(signal));
    const offsets: number[] = [];
    await subscribeWithResume(b, room, { afterOffset: 0 }, (m) => m.kind === "event" && offsets.push(m.event.offset));

    await a.publish(room, { type: "n", payload: 1 });
    await waitFor("first event", () => offsets.length === 1);
    const clients = (await redis.client("LIST")) as string;
    const subscriberId = clients
      .split("\n")
      .find((line) => line.includes(`name=rapt-bus-sub-${b.nodeId}`))
      ?.match(/id=(\d+)/)?.[1];
    expect(subscriberId).toBeDefined();
    await redis.client("KILL", "ID", subscriberId ?? "");
    // Published while b's subscriber is down or reconnecting: pub/sub drops these for b.
    for (const i of range(2, 30)) await a.publish(room, { type: "n", payload: i });

    await waitFor("resync signal", () => signals.some((s) => s.kind === "resync" && s.reason === "reconnected"));
    await waitFor("catch-up", () => offsets.length === 30);
    expect(offsets).toEqual(range(1, 30));
    expect(await numsub(redis, roomKeys(keyPrefix, room).channel)).toBe(1);
    await a.publish(room, { type: "n", payload: 31 });
    await waitFor("live again", () => offsets.length === 31);
    expect(offsets).toEqual(range(1, 31));
  });

  test("losing Redis degrades to local delivery without crashing; recovery resets every listener to the shared numbering", async () => {
    const keyPrefix = prefix();
    const proxy = await startCuttableProxy(url);
    cleanups.push(() => proxy.close());
    const sinkB = errorSink();
    const a = node({ keyPrefix });
    const b: RedisBus = node({ keyPrefix, url: proxy.url, onError: sinkB.onError });
    await Promise.all([a.ready(), b.ready()]);
    const room = newRoom();
    const onA = await followFromStart(a, room);
    const onB = await followFromStart(b, room);
    const first = await a.publish(room, { type: "n", payload: "shared" });
    await waitFor("shared event on both", () => onA.length === 1 && onB.length === 1);

    proxy.cut();
    await waitFor("b to lose redis", async () => !(await b.ping()));
    const local = await b.publish(room, { type: "n", payload: "local-1" });
    expect(b.degraded).toBe(true);
    expect(local.epoch.startsWith(`local:${b.nodeId}:`)).toBe(true);
    expect(local.epoch).not.toBe(first.epoch);
    // b's listeners switch to the local numbering through an explicit reset (the client reloads
    // over REST, which includes local-1), then keep receiving local events as they happen.
    await waitFor("reset into local numbering", () => onB.length === 2);
    expect(onB[1]).toEqual({ kind: "reset", room, epoch: local.epoch, latestOffset: 1, reason: "epoch-changed" });
    await b.publish(room, { type: "n", payload: "local-2" });
    await waitFor("local delivery", () => onB.length === 3);
    expect(onB[2]).toMatchObject({ kind: "event", event: { epoch: local.epoch, offset: 2, payload: "local-2" } });
    await a.publish(room, { type: "n", payload: "unseen-by-b" });
    expect(await b.ping()).toBe(false);

    proxy.restore();
    await waitFor("b to recover", () => !b.degraded, 10_000);
    // Other nodes never saw b's local event, so the room's numbering restarts and everyone resets.
    await waitFor("resets", () => onA.at(-1)?.kind === "reset" && onB.at(-1)?.kind === "reset", 10_000);
    const head = await a.head(room);
    expect(head.epoch).not.toBe(first.epoch);
    expect(onA.at(-1)).toEqual({ kind: "reset", room, epoch: head.epoch, latestOffset: 0, reason: "epoch-changed" });
    expect(onB.at(-1)).toEqual({ kind: "reset", room, epoch: head.epoch, latestOffset: 0, reason: "epoch-changed" });

    const after = await b.publish(room, { type: "n", payload: "after" });
    expect(after).toMatchObject({ epoch: head.epoch, offset: 1 });
    await waitFor("live on both", () => onA.at(-1)?.kind === "event" && onB.at(-1)?.kind === "event");
    expect(sinkB.errors.length).toBeGreaterThan(0);
    expect(await b.ping()).toBe(true);
  });

  test("a node that starts while Redis is unreachable serves locally and never throws connection errors", async () => {
    const sink = errorSink();
    const bus = createRedisBus({ url: "redis://127.0.0.1:1", keyPrefix: prefix(), onError: sink.onError });
    cleanups.unshift(() => bus.close());
    const room = newRoom();
    const seen: number[] = [];
    await bus.subscribe(room, (s) => s.kind === "event" && seen.push(s.event.offset));
    const event = await bus.publish(room, { type: "n", payload: 1 });
    expect(event.offset).toBe(1);
    expect(seen).toEqual([1]);
    expect(await bus.replay(room, 0, event.epoch)).toMatchObject({ kind: "events", events: [event] });
    expect(await bus.ping()).toBe(false);
    await expect(bus.ready(100)).rejects.toThrow();
    expect(sink.errors.length).toBeGreaterThan(0);
  });

  test("a room whose Redis state vanished starts a new epoch and resuming listeners reset", async () => {
    const keyPrefix = prefix();
    const [a, b] = [node({ keyPrefix }), node({ keyPrefix })];
    await Promise.all([a.ready(), b.ready()]);
    const redis = admin();
    const room = newRoom();
    for (const i of range(1, 3)) await a.publish(room, { type: "n", payload: i });
    const messages = await followFromStart(b, room);
    const keys = roomKeys(keyPrefix, room);
    await redis.del(keys.meta, keys.log);

    const fresh = await a.publish(room, { type: "n", payload: "fresh" });
    expect(fresh.offset).toBe(1);
    await waitFor("reset", () => messages.some((m) => m.kind === "reset"));
    expect(messages.map((m) => (m.kind === "event" ? m.event.offset : `reset@${m.latestOffset}`))).toEqual([1, 2, 3, "reset@1"]);
    await a.publish(room, { type: "n", payload: "next" });
    await waitFor("next", () => messages.length === 5);
    expect(messages.at(-1)).toMatchObject({ kind: "event", event: { epoch: fresh.epoch, offset: 2 } });
  });
});
