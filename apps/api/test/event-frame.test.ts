import { describe, expect, test } from "bun:test";
import { createMemoryBus } from "@raptscallions/bus";
import { serverFrameSchema } from "@raptscallions/core";
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
});
