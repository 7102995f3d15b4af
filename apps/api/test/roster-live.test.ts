import { beforeAll, describe, expect, test } from "bun:test";
import { classes, messages, rosterConnections, sessions } from "@raptscallions/db";
import { makeGroup, makeTool, makeUser } from "@raptscallions/db/testing";
import { and, eq } from "drizzle-orm";
import { buildServiceContext } from "../src/services/context.ts";
import { syncRoster } from "../src/services/roster/sync.ts";
import { useHarness } from "./helpers/harness.ts";
import { deploymentTransports, useDeployment, useDevModel } from "./helpers/deployment.ts";
import { connect, type Instance, restCall, type TestClient } from "./helpers/live.ts";
import { memorySource, type RosterData, roster } from "./helpers/roster.ts";

/**
 * A roster sync that removes an enrolment takes the student out of the class's live rooms at
 * once, on another instance, through the revocation the run publishes after its commit. The
 * periodic re-check stays at its default (a minute), so only that revocation can make these pass
 * within the waits below (liveness bounds, not timing goals). The learning records stay.
 */

const h = useHarness();
const dev = useDevModel(h, 400);

const LIVENESS_MS = 5000;

function roomRevoked(client: TestClient, room: string) {
  return client.next((f) => f.type === "error" && (f.details as { room?: string } | undefined)?.room === room, LIVENESS_MS);
}

for (const [name, skip] of deploymentTransports())
  describe.skipIf(skip)(`a roster sync evicts a removed enrolment from live rooms (${name})`, () => {
    const d = useDeployment(h, dev, name);
    let a: Instance;
    let b: Instance;

    beforeAll(async () => {
      a = await d.start();
      b = await d.start();
    }, 30_000);

    /**
     * A district synced from the SIS: a teacher and two students (Clerk users, matched by the
     * Clerk id the SIS lists) in c1, nobody yet in c2; the student has a session in c1 with one
     * answered message, watched by the teacher and the student on instance b.
     */
    async function syncedClassWithLiveSession() {
      const district = await makeGroup(h.db.db, { kind: "district" });
      const [connection] = await h.db.db.insert(rosterConnections).values({ groupId: district.id, name: "Live SIS", kind: "csv" }).returning();
      if (!connection) throw new Error("no connection");
      const ctx = buildServiceContext(a.deps, a.app.realtime.runner, {
        actor: { kind: "integration" as const, id: connection.id, name: "Live SIS" },
        requestId: `test:${connection.id}`,
      });
      const sync = (source: ReturnType<typeof memorySource>) => syncRoster(ctx, { connection, source });
      const people = { t1: await makeUser(h.db.db), s1: await makeUser(h.db.db), s2: await makeUser(h.db.db) };
      const data = (): Required<Pick<RosterData, "orgs" | "academicSessions" | "classes" | "users" | "enrollments">> => ({
        orgs: [roster.org("district-1", { type: "district" }), roster.org("school-1", { parentSourcedId: "district-1" })],
        academicSessions: [roster.term("term-1")],
        classes: [roster.class("c1", "school-1", { title: "Algebra" }), roster.class("c2", "school-1", { title: "Biology" })],
        users: Object.entries(people).map(([id, u]) =>
          roster.user(id, { email: u.email, identifier: null, userIds: [{ type: "Clerk", identifier: u.clerkUserId ?? "" }] }),
        ),
        enrollments: [
          roster.enrollment("e-t1-c1", "c1", "t1", "teacher"),
          roster.enrollment("e-s1-c1", "c1", "s1", "student"),
          roster.enrollment("e-s2-c1", "c1", "s2", "student"),
        ],
      });
      const first = await sync(memorySource(data()));
      expect(first.counts.enrollments).toMatchObject({ created: 3 });
      const [c1] = await h.db.db
        .select()
        .from(classes)
        .where(and(eq(classes.rosterConnectionId, connection.id), eq(classes.name, "Algebra")));
      if (!c1) throw new Error("c1 was not synced");
      const tool = await makeTool(h.db.db, c1.groupId);

      const started = await restCall(b, people.s1, "POST", "/api/sessions", { toolId: tool.id, classId: c1.id });
      expect(started.status).toBe(201);
      const sessionId = (started.body.session as { id: string }).id;
      const sessionRoom = `session:${sessionId}`;
      const classRoom = `class:${c1.id}`;

      const teacher = await connect(b, people.t1);
      expect((await teacher.request({ type: "subscribe", room: classRoom })).type).toBe("ack");
      expect((await teacher.request({ type: "subscribe", room: sessionRoom })).type).toBe("ack");
      const student = await connect(b, people.s1);
      expect((await student.request({ type: "subscribe", room: sessionRoom })).type).toBe("ack");
      expect((await student.request({ type: "message.send", sessionId, clientMessageId: "before-sync", content: "Hello tutor" })).type).toBe("ack");
      await student.next((f) => f.type === "event" && f.room === sessionRoom && f.event === "message.completed", 15_000);
      const stored = await h.db.db.select().from(messages).where(eq(messages.sessionId, sessionId));
      expect(stored.length).toBeGreaterThanOrEqual(2);
      return { sync, data, people, sessionId, sessionRoom, classRoom, teacher, student, stored };
    }

    async function expectEvictedWithRecordsKept(scene: Awaited<ReturnType<typeof syncedClassWithLiveSession>>) {
      const { student, teacher, sessionId, sessionRoom, classRoom } = scene;
      const revoked = await roomRevoked(student, sessionRoom);
      expect(revoked.code).toBe("FORBIDDEN");
      // The socket lives (the person is still a user); only the class's room went.
      expect(student.closed).toBeNull();
      const again = await student.request({ type: "subscribe", room: sessionRoom });
      expect(again.type).toBe("error");
      expect(again.code).toBe("FORBIDDEN");
      const send = await student.request({ type: "message.send", sessionId, clientMessageId: "after-sync", content: "Still here?" });
      expect(send.type).toBe("error");
      // The teacher, still enrolled, keeps watching both rooms.
      const ping = await teacher.request({ type: "ping" });
      expect(ping.type).toBe("pong");
      expect(teacher.frames.some((f) => f.type === "error" && (f.details as { room?: string } | undefined)?.room !== undefined)).toBe(false);
      expect((await teacher.request({ type: "subscribe", room: classRoom })).type).toBe("ack");
      // Learning records are never deleted by a sync.
      const [session] = await h.db.db.select().from(sessions).where(eq(sessions.id, sessionId));
      expect(session?.studentId).toBe(scene.people.s1.id);
      const kept = await h.db.db.select({ id: messages.id }).from(messages).where(eq(messages.sessionId, sessionId));
      expect(kept.map((m) => m.id).sort()).toEqual(scene.stored.map((m) => m.id).sort());
      for (const reader of [scene.people.t1, scene.people.s1]) expect((await restCall(b, reader, "GET", `/api/sessions/${sessionId}`)).status).toBe(200);
      student.close();
      teacher.close();
    }

    test("a bulk read without the enrolment", async () => {
      const scene = await syncedClassWithLiveSession();
      const data = scene.data();
      data.enrollments = data.enrollments.filter((e) => e.sourcedId !== "e-s1-c1");
      const report = await scene.sync(memorySource(data));
      expect(report.counts.enrollments).toMatchObject({ removed: 1 });
      await expectEvictedWithRecordsKept(scene);
    });

    test("a tobedeleted enrolment", async () => {
      const scene = await syncedClassWithLiveSession();
      const data = scene.data();
      data.enrollments = data.enrollments.map((e) => (e.sourcedId === "e-s1-c1" ? { ...e, status: "tobedeleted" as const } : e));
      const report = await scene.sync(memorySource(data));
      expect(report.counts.enrollments).toMatchObject({ removed: 1 });
      await expectEvictedWithRecordsKept(scene);
    });

    test("a student moved to another class", async () => {
      const scene = await syncedClassWithLiveSession();
      const data = scene.data();
      data.enrollments = data.enrollments.map((e) => (e.sourcedId === "e-s1-c1" ? { ...e, classSourcedId: "c2" } : e));
      const report = await scene.sync(memorySource(data));
      expect(report.counts.enrollments).toMatchObject({ created: 1, removed: 1 });
      await expectEvictedWithRecordsKept(scene);
    });

    test("a student the SIS no longer lists", async () => {
      const scene = await syncedClassWithLiveSession();
      const data = scene.data();
      data.users = data.users.filter((u) => u.sourcedId !== "s1");
      data.enrollments = data.enrollments.filter((e) => e.sourcedId !== "e-s1-c1");
      const report = await scene.sync(memorySource(data));
      expect(report.counts.enrollments).toMatchObject({ removed: 1 });
      await expectEvictedWithRecordsKept(scene);
    });
  });
