import { describe, expect, test } from "bun:test";
import type { MessageDto } from "@raptscallions/core";
import { backoffDelay } from "../src/backoff.ts";
import { RoomStore } from "../src/room.ts";
import { seeded } from "./helpers.ts";

const SESSION = "7b5b2d0e-0000-4000-8000-000000000001";
const ANSWER = "7b5b2d0e-0000-4000-8000-0000000000a1";

function answer(content: string, state: MessageDto["state"] = "streaming", seq = 2): MessageDto {
  return {
    id: ANSWER,
    sessionId: SESSION,
    seq,
    role: "assistant",
    authorId: null,
    content,
    state,
    clientMessageId: null,
    meta: {},
    createdAt: "2026-11-30T10:00:00.000Z",
    finalizedAt: state === "streaming" ? null : "2026-11-30T10:00:05.000Z",
  };
}

let offset = 0;
const ev = (event: string, payload: unknown) => ({ epoch: "e1", offset: ++offset, event, payload, at: "2026-11-30T10:00:01.000Z" });
const delta = (charOffset: number, text: string) => ev("message.delta", { messageId: ANSWER, charOffset, text });

describe("RoomStore: the documented rules", () => {
  test("deltas append at the held length; an overlap adds only its new tail; a hole is reported", () => {
    const store = new RoomStore(`session:${SESSION}`);
    expect(store.apply(ev("message.started", { message: answer("") }))).toBe("ok");
    expect(store.apply(delta(0, "Leaves "))).toBe("ok");
    expect(store.apply(delta(7, "are green"))).toBe("ok");
    expect(store.apply(delta(7, "are green"))).toBe("ok"); // a repeat changes nothing
    expect(store.apply(delta(11, "green because"))).toBe("ok"); // overlaps "green"
    expect(store.message(ANSWER)?.content).toBe("Leaves are green because");
    expect(store.apply(delta(40, "later"))).toBe("hole");
    expect(store.message(ANSWER)?.content).toBe("Leaves are green because");
    expect(store.get().streamingMessageId).toBe(ANSWER);
    expect(store.get().position).toEqual({ epoch: "e1", offset });
  });

  test("a final message wins; deltas after it and a late `started` change nothing", () => {
    const store = new RoomStore(`session:${SESSION}`);
    store.apply(ev("message.started", { message: answer("") }));
    store.apply(delta(0, "Half"));
    store.apply(ev("message.started", { message: answer("") })); // repeated from a snapshot: must not wipe text
    expect(store.message(ANSWER)?.content).toBe("Half");
    store.apply(ev("message.completed", { message: answer("Half and whole.", "complete") }));
    store.apply(delta(4, " extra"));
    expect(store.message(ANSWER)).toMatchObject({ content: "Half and whole.", state: "complete" });
    expect(store.get().streamingMessageId).toBeNull();
    expect(store.get().messages.length).toBe(1);
  });

  test("messages are upserted by id and kept in seq order; bad payloads are reported, not thrown", () => {
    const store = new RoomStore(`session:${SESSION}`);
    store.apply(ev("message.completed", { message: answer("second", "complete", 2) }));
    const first = { ...answer("first", "complete", 1), id: "7b5b2d0e-0000-4000-8000-0000000000b1", role: "user" as const };
    store.apply(ev("message.created", { message: first }));
    store.apply(ev("message.created", { message: first }));
    expect(store.get().messages.map((m) => m.content)).toEqual(["first", "second"]);
    expect(store.apply(ev("message.created", { message: { id: 1 } }))).toBe("invalid");
    expect(store.apply(ev("message.delta", "nonsense"))).toBe("invalid");
    expect(store.get().messages.length).toBe(2);
  });

  test("class rooms keep presence and alerts", () => {
    const store = new RoomStore(`class:${SESSION}`);
    const seen: number[] = [];
    store.subscribe((s) => seen.push(s.alerts.length));
    store.apply(ev("presence.changed", { userId: "u1", online: true, role: "student" }));
    store.apply(ev("presence.changed", { userId: "u1", online: false }));
    store.apply(ev("alert", { kind: "safety", sessionId: SESSION }));
    store.apply(ev("message.created", { sessionId: SESSION, messageId: ANSWER, role: "user", preview: "hi" }));
    expect(store.get().presence.u1).toEqual({ online: false, role: undefined });
    expect(store.get().alerts).toMatchObject([{ event: "alert", payload: { kind: "safety" } }]);
    expect(store.get().messages).toEqual([]);
    expect(seen.at(-1)).toBe(1);
  });
});

describe("backoff", () => {
  test("grows exponentially to the cap, jittered within [cap/2, cap]", () => {
    const random = seeded(7);
    const opts = { initialMs: 100, maxMs: 1000 };
    for (let attempt = 0; attempt < 8; attempt++) {
      const cap = Math.min(1000, 100 * 2 ** attempt);
      for (let i = 0; i < 20; i++) {
        const d = backoffDelay(attempt, opts, random);
        expect(d).toBeGreaterThanOrEqual(cap / 2);
        expect(d).toBeLessThanOrEqual(cap);
      }
    }
    expect(backoffDelay(3, opts, () => 0)).toBe(400);
    expect(backoffDelay(3, opts, () => 1)).toBe(800);
  });
});
