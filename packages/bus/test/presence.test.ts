import { afterEach, describe, expect, test } from "bun:test";
import { AppError } from "@raptscallions/core";
import { Cluster, Redis } from "ioredis";
import { createMemoryPresence, createRedisPresence, type Presence } from "../src/index.ts";
import { REDIS_URL, deleteKeys, newRoom, requireRedisUrl } from "./support.ts";
import { CLUSTER, deleteClusterKeys, requireCluster } from "./cluster.ts";

interface PresenceFlavour {
  name: string;
  /** Redis needs TEST_REDIS_URL; without it the suite is reported as skipped. */
  skip?: boolean;
  /** Two handles on one store, as two API instances would hold, sharing a controllable clock. */
  make(clock: { now: number }): { instances: [Presence, Presence]; cleanup(): Promise<void> };
}

const flavours: PresenceFlavour[] = [
  {
    name: "memory",
    make(clock) {
      const store = createMemoryPresence({ now: () => clock.now });
      return { instances: [store, store], cleanup: async () => undefined };
    },
  },
  {
    name: "redis",
    skip: REDIS_URL === undefined,
    make(clock) {
      const redisUrl = requireRedisUrl();
      const keyPrefix = `test:presence:${crypto.randomUUID()}:`;
      const clients = [new Redis(redisUrl), new Redis(redisUrl)];
      const instances = clients.map((redis) => createRedisPresence({ redis, keyPrefix, now: () => clock.now })) as [Presence, Presence];
      return {
        instances,
        async cleanup() {
          for (const client of clients) client.disconnect();
          await deleteKeys(redisUrl, [keyPrefix]);
        },
      };
    },
  },
  {
    name: "redis-cluster",
    skip: CLUSTER === undefined,
    make(clock) {
      const { nodes } = requireCluster();
      const keyPrefix = `test:presence:${crypto.randomUUID()}:`;
      const clients = [new Cluster([...nodes]), new Cluster([...nodes])];
      const instances = clients.map((redis) => createRedisPresence({ redis, keyPrefix, now: () => clock.now })) as [Presence, Presence];
      return {
        instances,
        async cleanup() {
          for (const client of clients) client.disconnect();
          await deleteClusterKeys([keyPrefix]);
        },
      };
    },
  },
];

for (const flavour of flavours) {
  describe.skipIf(flavour.skip ?? false)(`presence (${flavour.name})`, () => {
    const clock = { now: 1_700_000_000_000 };
    let cleanup: () => Promise<void> = async () => undefined;
    const setup = () => {
      const made = flavour.make(clock);
      cleanup = made.cleanup;
      return made.instances;
    };
    afterEach(async () => {
      await cleanup();
    });

    const teacher = { userId: "u-teacher", connectionId: "c-t1", role: "teacher", name: "Ms Frizzle" };
    const student = { userId: "u-student", connectionId: "c-s1", role: "student" };

    test("join and leave report the user's status change once, across instances and tabs", async () => {
      const [one, two] = setup();
      const room = newRoom("class");
      expect(await one.join(room, teacher, 30_000)).toEqual({
        userId: "u-teacher",
        online: true,
        changed: true,
        snapshot: { members: [{ userId: "u-teacher", role: "teacher", name: "Ms Frizzle", connections: 1 }], expired: [] },
      });
      // A second tab, handled by another instance: same user, no status change.
      expect(await two.join(room, { ...teacher, connectionId: "c-t2" }, 30_000)).toEqual({ userId: "u-teacher", online: true, changed: false });
      expect(await two.join(room, student, 30_000)).toMatchObject({ changed: true });

      const listed = await one.list(room);
      expect(listed).toEqual({
        members: [
          { userId: "u-student", role: "student", connections: 1 },
          { userId: "u-teacher", role: "teacher", name: "Ms Frizzle", connections: 2 },
        ],
        expired: [],
      });

      expect(await one.leave(room, "c-t2")).toEqual({ userId: "u-teacher", online: true, changed: false });
      expect(await two.leave(room, "c-t1")).toEqual({
        userId: "u-teacher",
        online: false,
        changed: true,
        snapshot: { members: [{ userId: "u-student", role: "student", connections: 1 }], expired: [] },
      });
      expect(await two.leave(room, "c-t1")).toBeNull();
      expect((await one.list(room)).members.map((m) => m.userId)).toEqual(["u-student"]);
    });

    test("a crashed instance's users drop out after the TTL, reported by exactly one read", async () => {
      const [one, two] = setup();
      const room = newRoom("session");
      await one.join(room, student, 30_000);
      await two.join(room, teacher, 90_000);
      clock.now += 29_000;
      await two.heartbeat(room, teacher, 90_000);
      expect((await one.list(room)).members.map((m) => m.userId)).toEqual(["u-student", "u-teacher"]);

      clock.now += 2_000; // the student's instance died: no heartbeat, no leave
      const reads = await Promise.all([one.list(room), two.list(room)]);
      expect(reads.map((r) => r.members.map((m) => m.userId))).toEqual([["u-teacher"], ["u-teacher"]]);
      expect(reads.flatMap((r) => r.expired)).toEqual(["u-student"]);
      expect((await one.list(room)).expired).toEqual([]);

      // Coming back is a status change again.
      expect(await one.heartbeat(room, student, 30_000)).toMatchObject({ changed: true });
    });

    test("an expired tab does not take a user offline while another tab lives", async () => {
      const [one] = setup();
      const room = newRoom("session");
      await one.join(room, student, 10_000);
      clock.now += 5_000;
      await one.join(room, { ...student, connectionId: "c-s2" }, 10_000);
      clock.now += 6_000;
      expect(await one.list(room)).toEqual({ members: [{ userId: "u-student", role: "student", connections: 1 }], expired: [] });
      clock.now += 5_000;
      expect(await one.list(room)).toEqual({ members: [], expired: ["u-student"] });
    });

    test("a status change carries the room's listing, with users who expired meanwhile reported once", async () => {
      const [one, two] = setup();
      const room = newRoom("class");
      await one.join(room, student, 10_000);
      clock.now += 11_000; // the student's instance died
      // The teacher's join is the read that finds the student gone: it reports them, and only it.
      const joined = await two.join(room, teacher, 30_000);
      expect(joined.snapshot).toEqual({ members: [{ userId: "u-teacher", role: "teacher", name: "Ms Frizzle", connections: 1 }], expired: ["u-student"] });
      expect((await one.list(room)).expired).toEqual([]);
      // No change, no listing: a second tab and a heartbeat cost one step and carry none.
      expect((await one.join(room, { ...teacher, connectionId: "c-t2" }, 30_000)).snapshot).toBeUndefined();
      expect((await two.heartbeat(room, teacher, 30_000)).snapshot).toBeUndefined();
      expect((await one.leave(room, "c-t2"))?.snapshot).toBeUndefined();
      expect((await two.leave(room, "c-t1"))?.snapshot).toEqual({ members: [], expired: [] });
    });

    test("invalid members and TTLs are refused", async () => {
      const [one] = setup();
      const room = newRoom("session");
      await expect(one.join(room, { ...student, userId: "" }, 1000)).rejects.toBeInstanceOf(AppError);
      await expect(one.join(room, student, 0)).rejects.toBeInstanceOf(AppError);
      await expect(one.join("bad room", student, 1000)).rejects.toBeInstanceOf(AppError);
    });
  });
}
