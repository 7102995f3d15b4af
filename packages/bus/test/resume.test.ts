import { afterEach, beforeEach, describe, expect, test } from "bun:test";
import {
  type Bus,
  type BusListener,
  decodeEventFrame,
  type FrameListener,
  followRoomFrames,
  type ResumeFrom,
  type ResumeMessage,
  subscribeWithResume,
} from "../src/index.ts";
import { busFlavours, newRoom, range, waitFor, type BusFlavour } from "./support.ts";

/** What a resuming client would render: offsets applied, and resets seen, in arrival order. */
function recorder() {
  const log: string[] = [];
  const offsets: number[] = [];
  const resets: Array<Extract<ResumeMessage, { kind: "reset" }>> = [];
  const listener = (message: ResumeMessage) => {
    if (message.kind === "event") {
      offsets.push(message.event.offset);
      log.push(`e${message.event.offset}`);
    } else {
      resets.push(message);
      log.push(`reset@${message.latestOffset}`);
    }
  };
  return { log, offsets, resets, listener };
}

/**
 * Wraps a real bus so that its live feed loses chosen events, the way pub/sub loses whatever is
 * published while a subscriber reconnects. Replay still comes from the real buffer.
 */
function lossyLiveFeed(bus: Bus, drop: (offset: number) => boolean): Bus & { resync(room: string): void } {
  const listeners = new Map<string, Set<BusListener>>();
  const frameListeners = new Map<string, Set<FrameListener>>();
  return {
    ...bus,
    nodeId: bus.nodeId,
    publish: (room, input) => bus.publish(room, input),
    replay: (room, after, epoch) => bus.replay(room, after, epoch),
    head: (room) => bus.head(room),
    latestOffset: (room) => bus.latestOffset(room),
    subscribedRooms: () => bus.subscribedRooms(),
    ping: () => bus.ping(),
    close: () => bus.close(),
    async subscribe(room, listener) {
      const set = listeners.get(room) ?? new Set();
      set.add(listener);
      listeners.set(room, set);
      const stop = await bus.subscribe(room, (signal) => {
        if (signal.kind === "event" && drop(signal.event.offset)) return;
        listener(signal);
      });
      return () => {
        set.delete(listener);
        stop();
      };
    },
    async subscribeFrames(room, listener) {
      const set = frameListeners.get(room) ?? new Set();
      set.add(listener);
      frameListeners.set(room, set);
      const stop = await bus.subscribeFrames(room, {
        frame: (epoch, offset, frame) => {
          if (!drop(offset)) listener.frame(epoch, offset, frame);
        },
        resync: (reason) => listener.resync(reason),
      });
      return () => {
        set.delete(listener);
        stop();
      };
    },
    resync(room) {
      for (const listener of listeners.get(room) ?? []) listener({ kind: "resync", room, reason: "reconnected" });
      for (const listener of frameListeners.get(room) ?? []) listener.resync("reconnected");
    },
  };
}

/**
 * Both ways of following a room: `subscribeWithResume` (decoded events) and `followRoomFrames`
 * (wire frames), the latter's frames decoded back so one recorder checks both the same way.
 */
type Resume = (bus: Bus, room: string, from: ResumeFrom, listener: (message: ResumeMessage) => void) => Promise<() => void>;
const resumeModes: Array<[string, Resume]> = [
  ["events", subscribeWithResume],
  [
    "frames",
    async (bus, room, from, listener) => {
      const follower = await followRoomFrames(bus, room, from, {
        frame: (offset, frame) => {
          const parsed = JSON.parse(frame) as { room: string; epoch: string; offset: number };
          if (parsed.room !== room || parsed.offset !== offset) throw new Error(`frame ${frame} delivered as ${room}@${offset}`);
          listener({ kind: "event", event: decodeEventFrame(room, parsed.epoch, offset, frame) });
        },
        reset: listener,
      });
      return follower.close;
    },
  ],
];

for (const [mode, subscribeWithResume] of resumeModes)
  for (const { name, skip, make: makeFlavour } of busFlavours()) {
    describe.skipIf(skip)(`resuming a room, ${mode} (${name})`, () => {
      let flavour: BusFlavour;
      beforeEach(() => {
        flavour = makeFlavour();
      });
      afterEach(async () => {
        await flavour.cleanup();
      });

      test("resumes with the missed events then the live tail, exactly once and in order, while publishing continues", async () => {
        const [a, b] = await flavour.nodes(2);
        if (!a || !b) throw new Error("no nodes");
        const room = newRoom();
        for (const i of range(1, 10)) await a.publish(room, { type: "n", payload: i });
        const { epoch } = await a.head(room);
        const total = 200;

        // Two publishers keep going while several clients resume from different points.
        const publishing = (async () => {
          await Promise.all([
            (async () => {
              for (const i of range(1, (total - 10) / 2)) await a.publish(room, { type: "a", payload: i });
            })(),
            (async () => {
              for (const i of range(1, (total - 10) / 2)) await b.publish(room, { type: "b", payload: i });
            })(),
          ]);
        })();
        const clients = [0, 3, 7, 10].map((after) => ({ after, ...recorder() }));
        const stops = await Promise.all(
          clients.map((client, i) => subscribeWithResume(i % 2 === 0 ? a : b, room, { afterOffset: client.after, epoch }, client.listener)),
        );
        await publishing;
        await waitFor("every client at the head", () => clients.every((c) => c.offsets.at(-1) === total));
        for (const client of clients) {
          expect(client.resets).toEqual([]);
          expect(client.offsets).toEqual(range(client.after + 1, total));
        }
        for (const stop of stops) stop();
      });

      test("an event published while the replay is in flight arrives even when nothing follows it", async () => {
        const [a, b] = await flavour.nodes(2);
        if (!a || !b) throw new Error("no nodes");
        const room = newRoom();
        for (const i of range(1, 3)) await a.publish(room, { type: "n", payload: i });
        // The replay snapshot is taken, then event 4 is published before the replay returns: only
        // a live subscription taken before the replay can deliver it.
        const racing: Bus = {
          ...b,
          nodeId: b.nodeId,
          subscribe: (r, l) => b.subscribe(r, l),
          subscribeFrames: (r, l) => b.subscribeFrames(r, l),
          head: (r) => b.head(r),
          async replay(r, after, epoch) {
            const result = await b.replay(r, after, epoch);
            await a.publish(room, { type: "n", payload: 4 });
            return result;
          },
        };
        const client = recorder();
        const stop = await subscribeWithResume(racing, room, { afterOffset: 1 }, client.listener);
        await waitFor("event 4", () => client.offsets.length === 3);
        expect(client.offsets).toEqual([2, 3, 4]);
        stop();
      });

      test("a client joining mid-stream from the tail sees only what follows, without gaps", async () => {
        const [a, b] = await flavour.nodes(2);
        if (!a || !b) throw new Error("no nodes");
        const room = newRoom();
        for (const i of range(1, 5)) await a.publish(room, { type: "n", payload: i });
        const client = recorder();
        const publishing = Promise.all(range(1, 50).map((i) => a.publish(room, { type: "n", payload: i })));
        const stop = await subscribeWithResume(b, room, {}, client.listener);
        await publishing;
        // The tail may begin anywhere from 6 to 56 depending on interleaving; 56 always arrives.
        await a.publish(room, { type: "n", payload: 56 });
        await waitFor("head", () => client.offsets.at(-1) === 56);
        const first = client.offsets[0] ?? 0;
        expect(first).toBeGreaterThan(5);
        expect(client.offsets).toEqual(range(first, 56));
        expect(client.resets).toEqual([]);
        stop();
      });

      test("a resume point older than the buffer yields an explicit reset, then the live tail", async () => {
        const [a, b] = await flavour.nodes(2, { replayLimit: 10 });
        if (!a || !b) throw new Error("no nodes");
        const room = newRoom();
        for (const i of range(1, 300)) await a.publish(room, { type: "n", payload: i });
        const { epoch } = await a.head(room);
        const client = recorder();
        const stop = await subscribeWithResume(b, room, { afterOffset: 5, epoch }, client.listener);
        expect(client.resets).toEqual([{ kind: "reset", room, epoch, latestOffset: 300, reason: "trimmed" }]);
        await a.publish(room, { type: "n", payload: 301 });
        await waitFor("live event", () => client.offsets.length === 1);
        expect(client.log).toEqual(["reset@300", "e301"]);
        stop();
      });

      test("a resume point from another epoch is reset, never replayed", async () => {
        const [a] = await flavour.nodes(1);
        if (!a) throw new Error("no node");
        const room = newRoom();
        for (const i of range(1, 4)) await a.publish(room, { type: "n", payload: i });
        const client = recorder();
        const stop = await subscribeWithResume(a, room, { afterOffset: 2, epoch: "stale-epoch" }, client.listener);
        expect(client.log).toEqual(["reset@4"]);
        stop();
      });

      test("gaps in the live feed are filled from the replay buffer, in order", async () => {
        const [a, base] = await flavour.nodes(2);
        if (!a || !base) throw new Error("no nodes");
        const lossy = lossyLiveFeed(base, (offset) => offset % 3 === 0 || (offset > 20 && offset < 26));
        const room = newRoom();
        const client = recorder();
        const stop = await subscribeWithResume(lossy, room, { afterOffset: 0 }, client.listener);
        for (const i of range(1, 40)) await a.publish(room, { type: "n", payload: i });
        await waitFor("head", () => client.offsets.at(-1) === 40);
        expect(client.offsets).toEqual(range(1, 40));
        stop();
      });

      test("a resync signal catches up events lost at the end of the feed", async () => {
        const [a, base] = await flavour.nodes(2);
        if (!a || !base) throw new Error("no nodes");
        const lossy = lossyLiveFeed(base, (offset) => offset > 5);
        const room = newRoom();
        const client = recorder();
        const stop = await subscribeWithResume(lossy, room, { afterOffset: 0 }, client.listener);
        for (const i of range(1, 8)) await a.publish(room, { type: "n", payload: i });
        await waitFor("first five", () => client.offsets.length === 5);
        lossy.resync(room);
        await waitFor("catch-up", () => client.offsets.length === 8);
        expect(client.offsets).toEqual(range(1, 8));
        stop();
      });

      test("after unsubscribe nothing more is delivered", async () => {
        const [a] = await flavour.nodes(1);
        if (!a) throw new Error("no node");
        const room = newRoom();
        const client = recorder();
        const stop = await subscribeWithResume(a, room, { afterOffset: 0 }, client.listener);
        await a.publish(room, { type: "n", payload: 1 });
        await waitFor("first", () => client.offsets.length === 1);
        stop();
        expect(a.subscribedRooms()).toEqual([]);
        await a.publish(room, { type: "n", payload: 2 });
        const control = recorder();
        const stopControl = await subscribeWithResume(a, room, { afterOffset: 0 }, control.listener);
        expect(control.offsets).toEqual([1, 2]);
        expect(client.offsets).toEqual([1]);
        stopControl();
      });
    });
  }
