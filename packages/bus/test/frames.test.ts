import { afterEach, beforeEach, describe, expect, test } from "bun:test";
import { encodeEventFrame, serverFrameSchema } from "@raptscallions/core";
import { type BusEvent, eventFrame } from "../src/index.ts";
import { FrameReader } from "../src/frame-reader.ts";
import { type BusFlavour, busFlavours, newRoom, waitFor } from "./support.ts";

const tricky = { text: 'quotes " and \\ and ünïcödé 🌱\n and "offset":9 and }', n: [1, 2.5, null], nested: { at: "x" } };

for (const { name, skip, make } of busFlavours()) {
  describe.skipIf(skip)(`event frames on the bus (${name})`, () => {
    let flavour: BusFlavour;
    beforeEach(() => {
      flavour = make();
    });
    afterEach(async () => {
      await flavour.cleanup();
    });

    test("a frame listener gets each event as the protocol's frame, byte for byte what a replay of it encodes, while signal listeners of the room get it decoded", async () => {
      const [a, b] = await flavour.nodes(2);
      if (!a || !b) throw new Error("no nodes");
      const room = newRoom();
      const frames: Array<{ epoch: string; offset: number; frame: string }> = [];
      const decoded: BusEvent[] = [];
      const stopFrames = await b.subscribeFrames(room, { frame: (epoch, offset, frame) => frames.push({ epoch, offset, frame }), resync: () => undefined });
      const stopEvents = await b.subscribe(room, (signal) => {
        if (signal.kind === "event") decoded.push(signal.event);
      });
      const published = [await a.publish(room, { type: "message.delta", payload: tricky }), await a.publish(room, { type: "message.completed", payload: null })];
      await waitFor("both events, both ways", () => frames.length === 2 && decoded.length === 2);
      const replay = await a.replay(room, 0);
      if (replay.kind !== "events") throw new Error("replay reset");
      for (const [i, got] of frames.entries()) {
        const event = published[i] as BusEvent;
        expect(got.epoch).toBe(event.epoch);
        expect(got.offset).toBe(event.offset);
        expect(got.frame).toBe(eventFrame(replay.events[i] as BusEvent));
        const parsed = JSON.parse(got.frame);
        expect(parsed).toEqual({ type: "event", room, epoch: event.epoch, offset: event.offset, event: event.type, payload: event.payload, at: event.at });
        expect(serverFrameSchema.safeParse(parsed).success).toBe(true);
        expect(decoded[i]).toEqual({ room, epoch: event.epoch, offset: event.offset, type: event.type, payload: event.payload, at: event.at });
      }
      stopFrames();
      stopEvents();
    });
  });
}

describe("pub/sub event messages", () => {
  const room = newRoom();
  const body = JSON.stringify({ type: "message.delta", payload: tricky, at: new Date().toISOString() });
  const epoch = crypto.randomUUID();
  const bytes = (text: string) => Buffer.from(text, "utf8");

  test("a frame message gives its position from the header and its frame untouched (non-ASCII included)", () => {
    const reader = new FrameReader(room);
    const frame = encodeEventFrame(room, epoch, 42, body);
    expect(reader.read(bytes(`f\n${epoch}\n42\n${frame}`))).toBe("frame");
    expect({ epoch: reader.epoch, offset: reader.offset, frame: reader.frame }).toEqual({ epoch, offset: 42, frame });
  });

  test("a body message from a node of the previous version becomes the same frame", () => {
    const reader = new FrameReader(room);
    expect(reader.read(bytes(`e\n${epoch}\n42\n${body}`))).toBe("frame");
    expect({ epoch: reader.epoch, offset: reader.offset, frame: reader.frame }).toEqual({ epoch, offset: 42, frame: encodeEventFrame(room, epoch, 42, body) });
  });

  test("a room's epoch is read right when its numbering changes, and each room's reader keeps its own", () => {
    const reader = new FrameReader(room);
    const message = (e: string, offset: number) => bytes(`f\n${e}\n${offset}\n${encodeEventFrame(room, e, offset, body)}`);
    reader.read(message(epoch, 1));
    const first = reader.epoch;
    reader.read(message(epoch, 2));
    expect(reader.epoch).toBe(first);
    const other = crypto.randomUUID();
    reader.read(message(other, 1));
    expect(reader.epoch).toBe(other);
    // Another room's reader with the first epoch's text reads that text, not this room's epoch.
    const elsewhere = newRoom();
    const second = new FrameReader(elsewhere);
    second.read(bytes(`f\n${epoch}\n7\n${encodeEventFrame(elsewhere, epoch, 7, body)}`));
    expect(second.epoch).toBe(epoch);
    reader.read(message(other, 2));
    expect(reader.epoch).toBe(other);
    // Same length, one byte different: a new epoch, not the cached one.
    const near = `${other.slice(0, -1)}${other.endsWith("0") ? "1" : "0"}`;
    reader.read(message(near, 1));
    expect(reader.epoch).toBe(near);
    // A bad message leaves the epoch as it was.
    expect(() => reader.read(bytes(`f\n${epoch}\nx\n{}`))).toThrow();
    reader.read(message(near, 2));
    expect(reader.epoch).toBe(near);
  });

  test("a restarted numbering is a resync", () => {
    expect(new FrameReader(room).read(bytes(`r\n${epoch}`))).toBe("resync");
  });

  test("anything else is refused", () => {
    const reader = new FrameReader(room);
    for (const bad of [
      "",
      "f",
      "x\ne\n1\n{}",
      "f\ne-1\n",
      "f\ne-1\n0\n{}",
      "f\ne-1\n-3\n{}",
      "f\ne-1\n1x\n{}",
      "f\ne-1\n\n{}",
      `f\ne\n${"9".repeat(16)}\n{}`,
      "fxe-1\n1\n{}",
    ]) {
      expect(() => reader.read(bytes(bad))).toThrow();
    }
  });
});
