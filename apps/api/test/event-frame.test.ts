import { describe, expect, test } from "bun:test";
import { createMemoryBus } from "@raptscallions/bus";
import { encodeEventFrame, isEventFrameOfType, serverFrameSchema } from "@raptscallions/core";
import { eventFrame } from "../src/realtime/room-feed.ts";

describe("event frames", () => {
  test("a bus event's frame splices its body JSON and equals the frame built field by field", async () => {
    const bus = createMemoryBus().node();
    const payload = { messageId: crypto.randomUUID(), charOffset: 3, text: 'quotes " and \\\\ and ünïcödé 🌱\\n' };
    const event = await bus.publish(`session:${crypto.randomUUID()}`, { type: "message.delta", payload });
    const frame = JSON.parse(eventFrame(event));
    expect(frame).toEqual({ type: "event", room: event.room, epoch: event.epoch, offset: event.offset, event: "message.delta", payload, at: event.at });
    expect(serverFrameSchema.safeParse(frame).success).toBe(true);
    // Built once per event, whatever the number of watchers.
    expect(eventFrame(event)).toBe(eventFrame(event));
  });

  test("an event that did not come through a bus is stringified", () => {
    const event = { room: `class:${crypto.randomUUID()}`, epoch: "e1", offset: 7, type: "alert", payload: { a: [1, 2] }, at: new Date().toISOString() };
    expect(JSON.parse(eventFrame(event))).toEqual({ type: "event", room: event.room, epoch: "e1", offset: 7, event: "alert", payload: { a: [1, 2] }, at: event.at });
  });

  test("an event's type is read from its frame without parsing it, whatever the payload holds", () => {
    const body = (type: string, payload: unknown) => JSON.stringify({ type, payload, at: new Date().toISOString() });
    const room = `session:${crypto.randomUUID()}`;
    const stop = encodeEventFrame(room, crypto.randomUUID(), 3, body("generation.stop-requested", { messageId: "m" }));
    expect(isEventFrameOfType(stop, "generation.stop-requested")).toBe(true);
    expect(isEventFrameOfType(stop, "generation.stop")).toBe(false);
    // A delta whose text spells out another event's key and type is still a delta.
    const sly = encodeEventFrame(room, 'local:"event":"x', 4, body("message.delta", { text: ',"event":"generation.stop-requested"' }));
    expect(isEventFrameOfType(sly, "generation.stop-requested")).toBe(false);
    expect(isEventFrameOfType(sly, "message.delta")).toBe(true);
    expect(isEventFrameOfType("not a frame", "message.delta")).toBe(false);
  });
});
