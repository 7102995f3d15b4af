import { afterEach, beforeEach, describe, expect, test } from "bun:test";
import { AppError } from "@raptscallions/core";
import type { BusEvent, BusSignal } from "../src/index.ts";
import { busFlavours, newRoom, range, waitFor, type BusFlavour } from "./support.ts";

for (const { name, skip, make: makeFlavour } of busFlavours()) {
  describe.skipIf(skip)(`bus contract (${name})`, () => {
    let flavour: BusFlavour;
    beforeEach(() => {
      flavour = makeFlavour();
    });
    afterEach(async () => {
      await flavour.cleanup();
    });

    test("publish assigns dense offsets per room under one epoch and returns the stored event", async () => {
      const [bus] = await flavour.nodes(1);
      if (!bus) throw new Error("no node");
      const room = newRoom();
      const other = newRoom("class");
      expect(await bus.head(room)).toEqual({ epoch: null, offset: 0 });

      const first = await bus.publish(room, { type: "message.created", payload: { text: "hi", n: 1 } });
      const second = await bus.publish(room, { type: "message.delta", payload: ["a", null] });
      const elsewhere = await bus.publish(other, { type: "session.started", payload: null });

      expect(first).toMatchObject({ room, offset: 1, type: "message.created", payload: { text: "hi", n: 1 } });
      expect(second.offset).toBe(2);
      expect(second.epoch).toBe(first.epoch);
      expect(elsewhere.offset).toBe(1);
      expect(elsewhere.epoch).not.toBe(first.epoch);
      expect(Number.isNaN(Date.parse(first.at))).toBe(false);
      expect(await bus.head(room)).toEqual({ epoch: first.epoch, offset: 2 });
      expect(await bus.latestOffset(room)).toBe(2);
    });

    test("payloads are delivered as JSON, never as shared objects", async () => {
      const [a, b] = await flavour.nodes(2);
      if (!a || !b) throw new Error("no nodes");
      const room = newRoom();
      const seen: BusEvent[] = [];
      await b.subscribe(room, (s) => s.kind === "event" && seen.push(s.event));
      const payload = { when: new Date(0), list: [1] };
      await a.publish(room, { type: "t", payload });
      payload.list.push(2);
      await waitFor("delivery", () => seen.length === 1);
      expect(seen[0]?.payload).toEqual({ when: "1970-01-01T00:00:00.000Z", list: [1] });
    });

    test("two nodes publishing concurrently: every subscriber on both sees 1..N in order", async () => {
      const [a, b] = await flavour.nodes(2);
      if (!a || !b) throw new Error("no nodes");
      const room = newRoom();
      const perNode = 150;
      const received = [[], [], [], []] as number[][];
      const listen = (index: number) => (signal: BusSignal) => {
        if (signal.kind === "event") received[index]?.push(signal.event.offset);
      };
      await a.subscribe(room, listen(0));
      await a.subscribe(room, listen(1));
      await b.subscribe(room, listen(2));
      await b.subscribe(room, listen(3));

      const published = await Promise.all([
        ...range(1, perNode).map((i) => a.publish(room, { type: "a", payload: i })),
        ...range(1, perNode).map((i) => b.publish(room, { type: "b", payload: i })),
      ]);

      const total = perNode * 2;
      expect(published.map((e) => e.offset).sort((x, y) => x - y)).toEqual(range(1, total));
      await waitFor("all deliveries", () => received.every((list) => list.length >= total));
      for (const list of received) expect(list).toEqual(range(1, total));
    });

    test("replay returns exactly the events after an offset, or an explicit reset", async () => {
      const [bus] = await flavour.nodes(1);
      if (!bus) throw new Error("no node");
      const room = newRoom();
      for (const i of range(1, 20)) await bus.publish(room, { type: "n", payload: i });
      const { epoch } = await bus.head(room);

      const middle = await bus.replay(room, 7, epoch);
      expect(middle.kind).toBe("events");
      if (middle.kind !== "events") return;
      expect(middle.events.map((e) => e.offset)).toEqual(range(8, 20));
      expect(middle.events.map((e) => e.payload)).toEqual(range(8, 20));
      expect(middle.events.every((e) => e.epoch === epoch && e.room === room)).toBe(true);

      expect(await bus.replay(room, 0)).toMatchObject({ kind: "events", epoch });
      expect(await bus.replay(room, 20, epoch)).toEqual({ kind: "events", epoch, events: [] });
      expect(await bus.replay(room, 25, epoch)).toEqual({ kind: "reset", epoch, latestOffset: 20, reason: "unknown-offset" });
      expect(await bus.replay(room, 5, "some-other-epoch")).toEqual({ kind: "reset", epoch, latestOffset: 20, reason: "epoch-changed" });
      expect(await bus.replay(newRoom(), 3, epoch)).toEqual({ kind: "reset", epoch: null, latestOffset: 0, reason: "unknown-offset" });
      expect(await bus.replay(newRoom(), 0)).toEqual({ kind: "events", epoch: null, events: [] });
    });

    test("replay resets once the bounded buffer no longer reaches back", async () => {
      const [bus] = await flavour.nodes(1, { replayLimit: 10 });
      if (!bus) throw new Error("no node");
      const room = newRoom();
      // Redis trims `MAXLEN ~` by whole stream nodes (100 entries), so publish well past that.
      for (const i of range(1, 300)) await bus.publish(room, { type: "n", payload: i });
      const { epoch } = await bus.head(room);

      expect(await bus.replay(room, 0, epoch)).toEqual({ kind: "reset", epoch, latestOffset: 300, reason: "trimmed" });
      expect(await bus.replay(room, 150, epoch)).toEqual({ kind: "reset", epoch, latestOffset: 300, reason: "trimmed" });
      const recent = await bus.replay(room, 290, epoch);
      expect(recent.kind === "events" && recent.events.map((e) => e.offset)).toEqual(range(291, 300));
    });

    test("a node subscribes to a room only while it has local listeners", async () => {
      const [a, b] = await flavour.nodes(2);
      if (!a || !b) throw new Error("no nodes");
      const room = newRoom();
      const seen: string[] = [];
      const stopFirst = await b.subscribe(room, (s) => s.kind === "event" && seen.push(`1:${s.event.offset}`));
      const stopSecond = await b.subscribe(room, (s) => s.kind === "event" && seen.push(`2:${s.event.offset}`));
      expect(b.subscribedRooms()).toEqual([room]);
      expect(a.subscribedRooms()).toEqual([]);

      await a.publish(room, { type: "t", payload: 1 });
      await waitFor("both listeners", () => seen.length === 2);
      stopFirst();
      stopFirst();
      expect(b.subscribedRooms()).toEqual([room]);
      await a.publish(room, { type: "t", payload: 2 });
      await waitFor("second listener", () => seen.includes("2:2"));
      stopSecond();
      expect(b.subscribedRooms()).toEqual([]);
      await a.publish(room, { type: "t", payload: 3 });
      // A marker room on the same node proves delivery has caught up past event 3.
      const marker = newRoom();
      let markerSeen = false;
      await b.subscribe(marker, () => (markerSeen = true));
      await a.publish(marker, { type: "t", payload: 0 });
      await waitFor("marker", () => markerSeen);
      expect(seen.sort()).toEqual(["1:1", "2:1", "2:2"]);
    });

    test("a throwing listener does not starve the others", async () => {
      const [bus] = await flavour.nodes(1);
      if (!bus) throw new Error("no node");
      const room = newRoom();
      const seen: number[] = [];
      await bus.subscribe(room, () => {
        throw new Error("listener bug");
      });
      await bus.subscribe(room, (s) => s.kind === "event" && seen.push(s.event.offset));
      await bus.publish(room, { type: "t", payload: null });
      await bus.publish(room, { type: "t", payload: null });
      await waitFor("deliveries", () => seen.length === 2);
      expect(seen).toEqual([1, 2]);
    });

    test("bad rooms, offsets and oversized payloads are refused with app errors", async () => {
      const [bus] = await flavour.nodes(1);
      if (!bus) throw new Error("no node");
      const codeOf = async (p: Promise<unknown>) => {
        try {
          await p;
          return "resolved";
        } catch (error) {
          return error instanceof AppError ? error.code : "other";
        }
      };
      expect(await codeOf(bus.publish("session:{x}", { type: "t", payload: 1 }))).toBe("BAD_REQUEST");
      expect(await codeOf(bus.publish("", { type: "t", payload: 1 }))).toBe("BAD_REQUEST");
      expect(await codeOf(bus.subscribe("has space", () => undefined))).toBe("BAD_REQUEST");
      expect(await codeOf(bus.replay(newRoom(), -1))).toBe("BAD_REQUEST");
      expect(await codeOf(bus.replay(newRoom(), 1.5))).toBe("BAD_REQUEST");
      expect(await codeOf(bus.publish(newRoom(), { type: "", payload: 1 }))).toBe("BAD_REQUEST");
      expect(await codeOf(bus.publish(newRoom(), { type: "t", payload: "x".repeat(300 * 1024) }))).toBe("PAYLOAD_TOO_LARGE");
      await bus.close();
      expect(await codeOf(bus.publish(newRoom(), { type: "t", payload: 1 }))).toBe("SERVICE_UNAVAILABLE");
      expect(await bus.ping()).toBe(false);
    });
  });
}
