import { afterEach, beforeEach, describe, expect, test } from "bun:test";
import { encodeEventFrame, serverFrameSchema } from "@raptscallions/core";
import { type BusEvent, eventFrame } from "../src/index.ts";
import { parseFrameMessage } from "../src/redis-wire.ts";
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

  test("a frame message gives its position from the header and its frame untouched", () => {
    const frame = encodeEventFrame(room, "e-1", 42, body);
    expect(parseFrameMessage(room, `f\ne-1\n42\n${frame}`)).toEqual({ epoch: "e-1", offset: 42, frame });
  });

  test("a body message from a node of the previous version becomes the same frame", () => {
    expect(parseFrameMessage(room, `e\ne-1\n42\n${body}`)).toEqual({ epoch: "e-1", offset: 42, frame: encodeEventFrame(room, "e-1", 42, body) });
  });

  test("anything else is refused", () => {
    for (const bad of ["", "x\ne\n1\n{}", "f\ne-1\n", "f\ne-1\n0\n{}", "f\ne-1\n-3\n{}", "f\ne-1\n1x\n{}", "f\ne-1\n\n{}", `f\ne\n${"9".repeat(16)}\n{}`]) {
      expect(() => parseFrameMessage(room, bad)).toThrow();
    }
  });
});
