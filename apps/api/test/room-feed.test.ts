import { eventually } from "@raptscallions/core/testing";
import { afterAll, describe, expect, test } from "bun:test";
import { type Bus, type BusListener, createMemoryBus, createRedisBus, type FrameListener } from "@raptscallions/bus";
import { createMemoryLogger } from "../src/lib/logger.ts";
import { RoomFeeds } from "../src/realtime/room-feed.ts";
import { FakeTopics, fakeMember } from "./helpers/fake-socket.ts";

const REDIS_URL = process.env.TEST_REDIS_URL || "";
const opened: Bus[] = [];
afterAll(async () => {
  await Promise.all(opened.map((b) => b.close()));
});

/** Two nodes of one deployment: `pub` publishes (instance A), `sub` hosts the watchers (B). */
async function nodes(kind: "memory" | "redis"): Promise<{ pub: Bus; sub: Bus }> {
  if (kind === "memory") {
    const hub = createMemoryBus({ replayLimit: 500 });
    return { pub: hub.node(), sub: hub.node() };
  }
  const prefix = `t${crypto.randomUUID().slice(0, 8)}:bus:`;
  const make = () => createRedisBus({ url: REDIS_URL, keyPrefix: prefix, replayLimit: 500 });
  const pair = { pub: make(), sub: make() };
  opened.push(pair.pub, pair.sub);
  await Promise.all([pair.pub.ready(), pair.sub.ready()]);
  return pair;
}

/** The bus as a watching instance sees it, with its replays and/or its live feed late by `ms`. */
function delayed(bus: Bus, opts: { replayMs?: number; liveMs?: number }): Bus & { subscribes: number } {
  const wrapped = {
    ...bus,
    nodeId: bus.nodeId,
    subscribes: 0,
    publish: bus.publish.bind(bus),
    head: bus.head.bind(bus),
    latestOffset: bus.latestOffset.bind(bus),
    subscribedRooms: bus.subscribedRooms.bind(bus),
    ping: bus.ping.bind(bus),
    close: bus.close.bind(bus),
    async replay(room: string, after: number, epoch?: string | null) {
      const result = await bus.replay(room, after, epoch);
      if (opts.replayMs) await Bun.sleep(opts.replayMs);
      return result;
    },
    async subscribe(room: string, listener: BusListener) {
      wrapped.subscribes += 1;
      if (!opts.liveMs) return bus.subscribe(room, listener);
      // Late but in order, like a slow subscriber connection.
      let chain = Promise.resolve();
      return bus.subscribe(room, (signal) => {
        chain = chain.then(() => Bun.sleep(opts.liveMs ?? 0)).then(() => listener(signal));
      });
    },
    async subscribeFrames(room: string, listener: FrameListener) {
      wrapped.subscribes += 1;
      if (!opts.liveMs) return bus.subscribeFrames(room, listener);
      let chain = Promise.resolve();
      const later = (deliver: () => void) => {
        chain = chain.then(() => Bun.sleep(opts.liveMs ?? 0)).then(deliver);
      };
      return bus.subscribeFrames(room, {
        frame: (epoch, offset, frame) => later(() => listener.frame(epoch, offset, frame)),
        resync: (reason) => later(() => listener.resync(reason)),
      });
    },
  };
  return wrapped;
}

const publishN = async (bus: Bus, room: string, n: number) => {
  for (let i = 0; i < n; i++) await bus.publish(room, { type: "message.delta", payload: { i } });
};

/** Every event of the room from `after + 1` to `last`, each once and in order. */
function expectExact(offsets: number[], after: number, last: number) {
  expect(offsets).toEqual(Array.from({ length: last - after }, (_, i) => after + 1 + i));
}

for (const kind of ["memory", "redis"] as const) {
  describe.skipIf(kind === "redis" && !REDIS_URL)(`room feeds (${kind} bus)`, () => {
    test("joiners at every position, during a slow replay or a lagging feed, get each event once and in order", async () => {
      for (const delays of [{ replayMs: 15 }, { liveMs: 2 }, { replayMs: 10, liveMs: 1 }]) {
        const { pub, sub } = await nodes(kind);
        const bus = delayed(sub, delays);
        const topics = new FakeTopics();
        const feeds = new RoomFeeds(bus, createMemoryLogger(), { tailEvents: 4, waitMs: 50 });
        feeds.setPublisher(topics);
        const room = `session:${crypto.randomUUID()}`;
        const first = await pub.publish(room, { type: "message.delta", payload: { i: -1 } });
        await publishN(pub, room, 9);
        const publishing = publishN(pub, room, 60);
        const joins = [0, 3, 10, 12, 20, 40].map(async (after, i) => {
          await Bun.sleep(i * 7);
          const member = fakeMember(topics, 1 << 20);
          const at = await feeds.join(member, room, { epoch: first.epoch, offset: Math.min(after, 10) });
          return { member, after: Math.min(after, 10), at };
        });
        const live = fakeMember(topics, 1 << 20);
        const head = await feeds.join(live, room, null);
        const joined = await Promise.all(joins);
        await publishing;
        await pub.publish(room, { type: "message.completed", payload: {} });
        const last = 71;
        await eventually(() => [...joined.map((j) => j.member), live].every((m) => m.socket.offsets(room).at(-1) === last), "every member at the last offset", 5000);
        for (const j of joined) {
          expect(j.at).toEqual({ epoch: first.epoch, offset: j.after });
          expectExact(j.member.socket.offsets(room), j.after, last);
        }
        expect(head?.epoch === first.epoch || head?.epoch === null).toBe(true);
        expectExact(live.socket.offsets(room), head?.offset ?? -1, last);
        // One bus subscription and one publish per event for all seven sockets.
        expect(bus.subscribes).toBe(1);
        expect(topics.publishes).toBeLessThanOrEqual(last);
        feeds.close();
      }
    });

    test("a stale epoch or an unknown offset gets a reset, then exactly what follows it", async () => {
      const { pub, sub } = await nodes(kind);
      const topics = new FakeTopics();
      const feeds = new RoomFeeds(sub, createMemoryLogger());
      feeds.setPublisher(topics);
      const room = `class:${crypto.randomUUID()}`;
      await publishN(pub, room, 5);
      const stale = fakeMember(topics);
      await feeds.join(stale, room, { epoch: "an-epoch-long-gone", offset: 3 });
      const ahead = fakeMember(topics);
      const head = await pub.head(room);
      await feeds.join(ahead, room, { epoch: head.epoch, offset: 99 });
      await publishN(pub, room, 2);
      for (const member of [stale, ahead]) {
        await eventually(() => member.socket.offsets(room).length >= 2, "the reset and the live frame", 3000);
        const [reset] = member.socket.frames;
        expect(reset?.type).toBe("reset");
        expect(reset?.latestOffset).toBe(5);
        expect(reset?.reason).toBe(member === stale ? "epoch-changed" : "unknown-offset");
        expect(member.socket.offsets(room)).toEqual([6, 7]);
      }
      feeds.close();
    });

    test("a socket that stops reading is closed when a publish meets backpressure; the others keep everything; the last to leave ends the feed", async () => {
      const { pub, sub } = await nodes(kind);
      const bus = delayed(sub, {});
      const topics = new FakeTopics();
      const feeds = new RoomFeeds(bus, createMemoryLogger());
      feeds.setPublisher(topics);
      const room = `session:${crypto.randomUUID()}`;
      const slow = fakeMember(topics, 100);
      const fast = fakeMember(topics, 100);
      await feeds.join(slow, room, null);
      await feeds.join(fast, room, null);
      await publishN(pub, room, 3);
      slow.socket.buffered = 101;
      await publishN(pub, room, 3);
      await eventually(() => fast.socket.offsets(room).length >= 6, "six frames on the fast member", 3000);
      expect(slow.socket.closedWith?.code).toBe(4008);
      expect(fast.socket.closedWith).toBeNull();
      expectExact(fast.socket.offsets(room), 0, 6);
      expect(feeds.rooms()).toEqual([room]);
      feeds.leave(slow, room);
      feeds.leave(fast, room);
      expect(topics.topics.get(room)?.size ?? 0).toBe(0);
      expect(feeds.rooms()).toEqual([]);
      expect(sub.subscribedRooms()).not.toContain(room);
    });

    test("a feed outlives its last watcher for the grace period: a watcher back within it resumes exactly with no new subscription", async () => {
      const { pub, sub } = await nodes(kind);
      const bus = delayed(sub, {});
      const topics = new FakeTopics();
      const feeds = new RoomFeeds(bus, createMemoryLogger(), { lingerMs: 60_000 });
      feeds.setPublisher(topics);
      const room = `session:${crypto.randomUUID()}`;
      try {
        const first = fakeMember(topics);
        await feeds.join(first, room, null);
        await publishN(pub, room, 3);
        await eventually(() => first.socket.offsets(room).length >= 3, "three frames on the first member", 3000);
        expectExact(first.socket.offsets(room), 0, 3);
        feeds.leave(first, room);
        expect(topics.topics.get(room)?.size ?? 0).toBe(0);
        expect(feeds.lingering()).toEqual([room]);
        expect(sub.subscribedRooms()).toContain(room);

        // Events while nobody watches: the lingering feed keeps following them.
        await publishN(pub, room, 4);
        await Bun.sleep(100);
        const back = fakeMember(topics);
        const epoch = first.socket.frames.find((f) => f.type === "event")?.epoch ?? null;
        const at = await feeds.join(back, room, { epoch, offset: 3 });
        expect(at?.offset).toBe(3);
        expect(bus.subscribes).toBe(1);
        expect(feeds.lingering()).toEqual([]);
        await publishN(pub, room, 2);
        await eventually(() => back.socket.offsets(room).length >= 6, "six frames on the member that came back", 6000);
        expectExact(back.socket.offsets(room), 3, 9);
      } finally {
        feeds.close();
      }
      expect(feeds.rooms()).toEqual([]);
    });

    test("a lingering feed is torn down once its grace period passes with no watcher", async () => {
      const { pub, sub } = await nodes(kind);
      const bus = delayed(sub, {});
      const topics = new FakeTopics();
      const feeds = new RoomFeeds(bus, createMemoryLogger(), { lingerMs: 150 });
      feeds.setPublisher(topics);
      const room = `session:${crypto.randomUUID()}`;
      const member = fakeMember(topics);
      await feeds.join(member, room, null);
      await publishN(pub, room, 1);
      feeds.leave(member, room);
      expect(feeds.rooms()).toEqual([room]);
      await eventually(() => feeds.rooms().length === 0, "the lingering feed to stop", 5000);
      expect(feeds.rooms()).toEqual([]);
      expect(sub.subscribedRooms()).not.toContain(room);
      // The next watcher starts a fresh feed: a new subscription, placed at the room's head.
      const next = fakeMember(topics);
      const head = await feeds.join(next, room, null);
      expect(bus.subscribes).toBe(2);
      expect(head?.offset).toBe(1);
      feeds.close();
    });
  });
}
