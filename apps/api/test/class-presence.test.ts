import { beforeAll, describe, expect, test } from "bun:test";
import { classPresenceSchema } from "@raptscallions/core";
import { addGroupMember, makeGroup, makeSchoolScene, makeUser, type SchoolScene } from "@raptscallions/db/testing";
import { useHarness } from "./helpers/harness.ts";
import { call, errorCode, securityTests } from "./helpers/security.ts";

const h = useHarness();
let s: SchoolScene;
let siblingAdmin: Awaited<ReturnType<typeof makeUser>>;

beforeAll(async () => {
  s = await makeSchoolScene(h.db.db);
  const sibling = await makeGroup(h.db.db, { kind: "school", parent: s.district });
  siblingAdmin = await makeUser(h.db.db);
  await addGroupMember(h.db.db, sibling.id, siblingAdmin.id, "admin");
}, 120_000);

describe("GET /api/classes/:id/presence", () => {
  test("lists everyone in the class room once per user, and announces those whose entry expired", async () => {
    const room = `class:${s.cls.id}`;
    // What the socket hub does when a student opens a session of the class in two tabs.
    await h.deps.presence.join(room, { userId: s.student.id, connectionId: "tab-1", role: "student" }, 60_000);
    await h.deps.presence.join(room, { userId: s.student.id, connectionId: "tab-2", role: "student" }, 60_000);
    await h.deps.presence.join(room, { userId: s.teacher.id, connectionId: "gone", role: "teacher" }, 1);
    await Bun.sleep(5);
    const res = await call(h.app, "GET", `/api/classes/${s.cls.id}/presence`, { as: s.teacher });
    expect(res.status).toBe(200);
    const body = classPresenceSchema.parse(res.body);
    expect(body.items).toEqual([{ userId: s.student.id, role: "student", connections: 2 }]);
    // The read pruned the expired teacher: watchers are told, as they would be by the hub.
    const replay = await h.deps.bus.replay(room, 0);
    const events = replay.kind === "events" ? replay.events : [];
    expect(events.map((e) => [e.type, e.payload])).toContainEqual(["presence.changed", { userId: s.teacher.id, online: false, expired: true }]);
  });

  test("an unknown class is a 404", async () => {
    const res = await call(h.app, "GET", `/api/classes/${crypto.randomUUID()}/presence`, { as: s.teacher });
    expect(res.status).toBe(404);
    expect(errorCode(res.body)).toBe("NOT_FOUND");
  });
});

securityTests("class presence", () => h.app, [
  {
    method: "GET",
    route: "/api/classes/:id/presence",
    path: () => `/api/classes/${s.cls.id}/presence`,
    denied: () => [
      { who: s.student, status: 403, as: "a student of the class" },
      { who: siblingAdmin, status: 404, as: "an admin of another school" },
    ],
  },
]);
