import { afterEach, describe, expect, test } from "bun:test";
import { Redis } from "ioredis";
import { createRedisBus, type ResumeMessage, roomKeys, subscribeWithResume } from "../src/index.ts";
import { CLUSTER, deleteClusterKeys, killPrimaryOf, requireCluster } from "./cluster.ts";
import { followFromStart, newRoom, range, waitFor } from "./support.ts";

// Behaviour only a real Redis Cluster has: sharded channels owned by one primary each, and a
// primary dying with its replica taking over. Runs when TEST_REDIS_CLUSTER_NODES is set.
describe.skipIf(CLUSTER === undefined)("redis bus on a cluster", () => {
  const cleanups: Array<() => Promise<void> | void> = [];
  const node = (keyPrefix: string) => {
    const bus = createRedisBus({ cluster: requireCluster(), keyPrefix, onError: () => undefined, recoveryIntervalMs: 50 });
    cleanups.unshift(() => bus.close());
    return bus;
  };
  const prefix = () => {
    const keyPrefix = `test:bus:${crypto.randomUUID()}:`;
    cleanups.push(() => deleteClusterKeys([keyPrefix]));
    return keyPrefix;
  };
  // A killed node's restart waits up to 15 s for it to rejoin as a synced replica (cluster.ts):
  // the hook must outlast that, not Bun's 5 s default, or a slow rejoin fails the next test.
  afterEach(async () => {
    for (const cleanup of cleanups.splice(0)) await cleanup();
  }, 30_000);

  /** Which primary (port) holds the key's slot, and how many shard subscribers its channel has there. */
  const shardOf = async (channel: string): Promise<{ port: number; subscribers: number }> => {
    const seed = requireCluster().nodes[0];
    const admin = new Redis(seed?.port ?? 0, seed?.host ?? "");
    try {
      const slot = Number(await admin.call("CLUSTER", "KEYSLOT", channel));
      const shards = (await admin.call("CLUSTER", "SLOTS")) as Array<[number, number, [string, number, ...unknown[]], ...unknown[]]>;
      const owner = shards.find(([from, to]) => slot >= from && slot <= to);
      const port = owner?.[2][1] ?? 0;
      const direct = new Redis(port, "127.0.0.1");
      try {
        const reply = (await direct.call("PUBSUB", "SHARDNUMSUB", channel)) as [string, number];
        return { port, subscribers: Number(reply[1]) };
      } finally {
        direct.disconnect();
      }
    } finally {
      admin.disconnect();
    }
  };

  test("rooms on every shard are delivered through sharded channels (SSUBSCRIBE on the owning primary only)", async () => {
    const keyPrefix = prefix();
    const [a, b] = [node(keyPrefix), node(keyPrefix)];
    await Promise.all([a.ready(), b.ready()]);
    // Enough rooms that all three primaries own some: with 12 random rooms one primary owned none in
    // about 1 run in 40 (3 × (2/3)^12); with 48, about 1 in 10 million.
    const rooms = range(1, 48).map(() => newRoom());
    const seen = new Map<string, number[]>(rooms.map((room) => [room, []]));
    for (const room of rooms) await b.subscribe(room, (s) => s.kind === "event" && seen.get(room)?.push(s.event.offset));
    const ports = new Set<number>();
    for (const room of rooms) {
      const shard = await shardOf(roomKeys(keyPrefix, room).channel);
      expect(shard.subscribers).toBe(1);
      ports.add(shard.port);
    }
    expect(ports.size).toBe(3);
    for (const room of rooms) for (const i of range(1, 5)) await a.publish(room, { type: "n", payload: i });
    await waitFor("every room's events on the other node", () => rooms.every((room) => seen.get(room)?.length === 5));
    for (const room of rooms) expect(seen.get(room)).toEqual(range(1, 5));
  });

  test("a primary killed mid-stream: its replica takes over, publishing never throws, listeners reset to the new numbering and then follow live", async () => {
    const keyPrefix = prefix();
    const [a, b] = [node(keyPrefix), node(keyPrefix)];
    await Promise.all([a.ready(), b.ready()]);
    const room = newRoom();
    const onA = await followFromStart(a, room);
    const onB = await followFromStart(b, room);
    for (const i of range(1, 10)) await a.publish(room, { type: "n", payload: i });
    await waitFor("first events on both", () => onA.length === 10 && onB.length === 10);
    const before = await a.head(room);

    const killed = await killPrimaryOf(roomKeys(keyPrefix, room).meta);
    cleanups.push(() => killed.restart());
    // Keep publishing through the outage and the promotion, as a streaming answer would.
    let stop = false;
    let published = 0;
    const publisher = (async () => {
      while (!stop) {
        await a.publish(room, { type: "n", payload: `during-${published}` });
        published += 1;
        await Bun.sleep(20);
      }
    })();
    await killed.waitForFailover();
    await waitFor("a back on the shared numbering", () => !a.degraded, 15_000);
    stop = true;
    await publisher;

    // Each node renumbers the room when its own shard subscriber reconnects, which may come a
    // moment after the promotion: probe until one event reaches both listeners live.
    const followed = (messages: ResumeMessage[], probe: { epoch: string; offset: number }) =>
      messages.some((m) => m.kind === "event" && m.event.epoch === probe.epoch && m.event.offset === probe.offset);
    await waitFor(
      "both listeners live on the promoted replica",
      async () => {
        const probe = await a.publish(room, { type: "n", payload: "after" });
        await Bun.sleep(300);
        return followed(onA, probe) && followed(onB, probe);
      },
      20_000,
    );
    expect((await b.head(room)).epoch).not.toBe(before.epoch);
    expect(published).toBeGreaterThan(0);
    // Publishes during the outage went to a's local numbering, so the shared one restarted.
    expect(onA.some((m) => m.kind === "reset")).toBe(true);
    for (const messages of [onA, onB]) {
      // Never a silent gap: within an epoch offsets are dense, and every change of epoch is
      // announced by a reset before the first event of the new numbering.
      let epoch = before.epoch;
      let offset = 0;
      for (const m of messages) {
        if (m.kind === "reset") {
          epoch = m.epoch;
          offset = m.latestOffset;
          continue;
        }
        expect(m.event.epoch).toBe(epoch ?? "");
        expect(m.event.offset).toBe(offset + 1);
        offset = m.event.offset;
      }
    }
  }, 60_000);

  test("a primary killed while every shard streams: only its rooms are renumbered, rooms on the other shards keep their numbering", async () => {
    const keyPrefix = prefix();
    const [a, b] = [node(keyPrefix), node(keyPrefix)];
    await Promise.all([a.ready(), b.ready()]);
    // Enough rooms that every primary owns some; the first room's primary is killed.
    const rooms = range(1, 12).map(() => newRoom());
    const seen = new Map<string, ResumeMessage[]>(rooms.map((room) => [room, []]));
    for (const room of rooms) {
      await subscribeWithResume(b, room, { afterOffset: 0 }, (m) => seen.get(room)?.push(m));
      await a.publish(room, { type: "n", payload: "first" });
    }
    const epochsBefore = new Map<string, string | null>();
    for (const room of rooms) epochsBefore.set(room, (await a.head(room)).epoch);
    const killedRoom = rooms[0] ?? "";
    const killedPort = (await shardOf(roomKeys(keyPrefix, killedRoom).channel)).port;
    const onKilledShard = new Set<string>();
    for (const room of rooms) if ((await shardOf(roomKeys(keyPrefix, room).channel)).port === killedPort) onKilledShard.add(room);
    expect(onKilledShard.size).toBeLessThan(rooms.length);

    const killed = await killPrimaryOf(roomKeys(keyPrefix, killedRoom).meta);
    cleanups.push(() => killed.restart());
    // Every room keeps streaming through the outage and the promotion.
    let stop = false;
    const streams = rooms.map(async (room) => {
      let i = 0;
      while (!stop) {
        await a.publish(room, { type: "n", payload: i++ });
        await Bun.sleep(25);
      }
    });
    await killed.waitForFailover();
    // Both nodes: b's shard subscriber may reconnect to the promoted replica after a is back
    // (under load, seconds later), and b catches up only once it has.
    await waitFor("both nodes back on the shared numbering", () => !a.degraded && !b.degraded, 20_000);
    await Bun.sleep(300);
    stop = true;
    await Promise.all(streams);
    const last = new Map<string, { epoch: string; offset: number }>();
    for (const room of rooms) last.set(room, await a.publish(room, { type: "n", payload: "last" }));
    await waitFor(
      "every room's last event on b",
      () =>
        rooms.every((room) =>
          (seen.get(room) ?? []).some((m) => m.kind === "event" && m.event.offset === last.get(room)?.offset && m.event.epoch === last.get(room)?.epoch),
        ),
      20_000,
    );

    for (const room of rooms) {
      const messages = seen.get(room) ?? [];
      if (onKilledShard.has(room)) continue;
      // Untouched: the same epoch from the first event to the last, every offset once, no reset.
      expect(messages.filter((m) => m.kind === "reset")).toEqual([]);
      expect(last.get(room)?.epoch).toBe(epochsBefore.get(room) ?? "");
      const offsets = messages.flatMap((m) => (m.kind === "event" ? [m.event.offset] : []));
      expect(offsets).toEqual(range(1, offsets.length));
    }
  }, 60_000);

  test("a room whose primary failed over starts a new epoch, so events the replica never got cannot leave a silent gap", async () => {
    const keyPrefix = prefix();
    const [a, b] = [node(keyPrefix), node(keyPrefix)];
    await Promise.all([a.ready(), b.ready()]);
    const room = newRoom();
    const onB = await followFromStart(b, room);
    for (const i of range(1, 5)) await a.publish(room, { type: "n", payload: i });
    await waitFor("events on b", () => onB.length === 5);
    const before = await a.head(room);

    // Nothing is published during the outage: only the failover itself renumbers the room.
    const killed = await killPrimaryOf(roomKeys(keyPrefix, room).meta);
    cleanups.push(() => killed.restart());
    await killed.waitForFailover();
    // A resync that reaches the dead shard before the promotion may put b into local delivery for
    // a moment (a reset into a `local:` epoch); what matters is where it ends up.
    await waitFor("both nodes back on the cluster", () => !a.degraded && !b.degraded, 20_000);
    let head = await a.head(room);
    await waitFor(
      "b reset into the room's new shared epoch",
      async () => {
        head = await a.head(room);
        return onB.some((m) => m.kind === "reset" && m.epoch === head.epoch);
      },
      20_000,
    );
    // b published nothing, so only the failover itself can have renumbered the room.
    expect(head.epoch).not.toBe(before.epoch);
    const next = await a.publish(room, { type: "n", payload: "next" });
    expect(next.epoch).toBe(head.epoch ?? "");
    await waitFor("live after the failover", () => onB.some((m) => m.kind === "event" && m.event.epoch === next.epoch));
  }, 60_000);
});
