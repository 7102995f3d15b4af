import { describe, expect, test } from "bun:test";
import { RoomStore } from "../src/room.ts";

const CLASS = "c1a55000-0000-4000-8000-000000000001";
const SESSION = "5e551000-0000-4000-8000-000000000001";
const STUDENT = "57d00000-0000-4000-8000-000000000001";
const TEACHER = "7eac0000-0000-4000-8000-000000000001";

let offset = 0;
const ev = (event: string, payload: unknown, at = "2026-11-30T10:00:01.000Z") => ({ epoch: "e1", offset: ++offset, event, payload, at });
const session = (state: "active" | "paused" | "completed") => ({
  id: SESSION,
  toolId: SESSION,
  toolVersion: 1,
  studentId: STUDENT,
  groupId: CLASS,
  classId: CLASS,
  assignmentId: null,
  state,
  title: null,
  startedAt: "2026-11-30T10:00:00.000Z",
  endedAt: null,
});

describe("RoomStore: what a class room keeps for a live view", () => {
  test("message summaries become each session's latest activity; the completed state is kept", () => {
    const store = new RoomStore(`class:${CLASS}`);
    expect(store.apply(ev("message.created", { sessionId: SESSION, messageId: "m1", role: "user", studentId: STUDENT, preview: "Why?" }))).toBe("ok");
    expect(store.get().activity[SESSION]).toMatchObject({ messageId: "m1", role: "user", studentId: STUDENT, preview: "Why?" });
    expect(
      store.apply(ev("message.completed", { sessionId: SESSION, messageId: "m2", role: "assistant", state: "stopped", preview: "Because" }, "2026-11-30T10:00:09.000Z")),
    ).toBe("ok");
    expect(store.get().activity[SESSION]).toMatchObject({ messageId: "m2", role: "assistant", state: "stopped", preview: "Because", at: "2026-11-30T10:00:09.000Z" });
    expect(store.get().messages).toEqual([]);
    expect(store.apply(ev("message.created", { sessionId: SESSION }))).toBe("invalid");
  });

  test("session events are kept by id, not as the room's own session", () => {
    const store = new RoomStore(`class:${CLASS}`);
    store.apply(ev("session.started", { session: session("active") }));
    store.apply(ev("session.updated", { session: session("paused"), by: TEACHER }));
    expect(store.get().sessions[SESSION]?.state).toBe("paused");
    expect(store.get().session).toBeNull();
  });

  test("a presence change that lists the members replaces the presence held", () => {
    const store = new RoomStore(`class:${CLASS}`);
    store.apply(ev("presence.changed", { userId: "gone", online: true, role: "student" }));
    store.apply(
      ev("presence.changed", {
        userId: TEACHER,
        online: true,
        role: "teacher",
        members: [
          { userId: STUDENT, role: "student" },
          { userId: TEACHER, role: "teacher" },
        ],
      }),
    );
    expect(store.get().presence).toEqual({ [STUDENT]: { online: true, role: "student" }, [TEACHER]: { online: true, role: "teacher" } });
    store.apply(ev("presence.changed", { userId: STUDENT, online: false }));
    expect(store.get().presence[STUDENT]?.online).toBe(false);
  });
});
