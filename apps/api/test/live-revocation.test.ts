import { beforeAll, describe, expect, test } from "bun:test";
import { type Bus, createMemoryBus } from "@raptscallions/bus";
import { classMembers, groups, users } from "@raptscallions/db";
import { makeSchoolScene, makeSession, type SchoolScene } from "@raptscallions/db/testing";
import { and, eq } from "drizzle-orm";
import { authHeader } from "./helpers/auth.ts";
import { useHarness } from "./helpers/harness.ts";
import { deploymentTransports, useDeployment, useDevModel } from "./helpers/deployment.ts";
import { connect, type Instance, restCall as rest, type TestClient } from "./helpers/live.ts";
import { call } from "./helpers/security.ts";
import { clerkMembershipData, clerkUserData, deliver, delivery, makeWebhookSecret } from "./helpers/webhooks.ts";

/**
 * Revocation reaches the live path at once: whatever removes a user, a membership or a class
 * member on one instance (REST or Clerk webhook) drops that user's sockets or rooms on another
 * instance through the bus. The periodic re-check is left at its default (a minute), so only the
 * published revocation can make these pass within the waits below; those waits are generous
 * liveness bounds, not timing goals (bench/revocation.bench.ts measures the delay).
 */

const h = useHarness();
const dev = useDevModel(h, 150);

const LIVENESS_MS = 5000;

function roomRevoked(client: TestClient, room: string) {
  return client.next((f) => f.type === "error" && (f.details as { room?: string } | undefined)?.room === room, LIVENESS_MS);
}

function clerkId(user: { clerkUserId: string | null }): string {
  if (!user.clerkUserId) throw new Error("factory users have a Clerk id");
  return user.clerkUserId;
}

for (const [name, skip] of deploymentTransports())
  describe.skipIf(skip)(`revocation across instances (${name})`, () => {
    const d = useDeployment(h, dev, name);
    let a: Instance;
    let b: Instance;
    const secret = makeWebhookSecret();

    beforeAll(async () => {
      a = await d.start();
      b = await d.start();
      a.deps.config.clerkWebhookSecret = secret;
    }, 30_000);

    async function sceneWithSession(): Promise<{ scene: SchoolScene; sessionRoom: string; sessionId: string; classRoom: string }> {
      const scene = await makeSchoolScene(h.db.db);
      const session = await makeSession(h.db.db, { toolId: scene.tool.id, studentId: scene.student.id, groupId: scene.department.id, classId: scene.cls.id });
      return { scene, sessionId: session.id, sessionRoom: `session:${session.id}`, classRoom: `class:${scene.cls.id}` };
    }

    test("a Clerk ban closes the user's socket on the other instance with 4001; REST and an earlier ticket are refused", async () => {
      const { scene, sessionRoom } = await sceneWithSession();
      const teacher = await connect(b, scene.teacher);
      expect((await teacher.request({ type: "subscribe", room: sessionRoom })).type).toBe("ack");
      const early = await fetch(`${a.baseUrl}/api/realtime/tickets`, { method: "POST", headers: await authHeader(scene.teacher) });
      const { ticket } = (await early.json()) as { ticket: string };

      const ban = delivery(
        "user.updated",
        clerkUserData({ id: clerkId(scene.teacher), first: "T", last: "Banned", email: `${clerkId(scene.teacher)}@school.test`, banned: true, updatedAt: Date.now() }),
        Date.now(),
      );
      const res = await deliver(a.app, secret, ban);
      expect(res.status).toBe(200);
      expect(((await res.json()) as { outcome: string }).outcome).toBe("applied");

      expect((await teacher.waitClosed(LIVENESS_MS)).code).toBe(4001);
      expect((await rest(a, scene.teacher, "POST", "/api/realtime/tickets")).status).toBe(401);
      const late = await fetch(`${b.baseUrl}/ws?ticket=${ticket}`, {
        headers: { upgrade: "websocket", connection: "upgrade", "sec-websocket-key": "dGhlIHNhbXBsZSBub25jZQ==", "sec-websocket-version": "13" },
      });
      expect(late.status).toBe(401);
      expect(((await late.json()) as { error: { code: string } }).error.code).toBe("TICKET_INVALID");
      const [row] = await h.db.db.select().from(users).where(eq(users.id, scene.teacher.id));
      expect(row?.status).toBe("suspended");
    });

    test("a Clerk user deletion closes the user's socket on the other instance", async () => {
      const { scene, classRoom } = await sceneWithSession();
      const teacher = await connect(b, scene.teacher);
      expect((await teacher.request({ type: "subscribe", room: classRoom })).type).toBe("ack");
      const res = await deliver(a.app, secret, delivery("user.deleted", { object: "user", id: clerkId(scene.teacher), deleted: true }, Date.now()));
      expect(res.status).toBe(200);
      expect((await teacher.waitClosed(LIVENESS_MS)).code).toBe(4001);
    });

    test("a Clerk membership removal drops the rooms it granted on the other instance; the socket lives", async () => {
      const { scene, classRoom } = await sceneWithSession();
      const orgId = `org_${crypto.randomUUID().replaceAll("-", "")}`;
      await h.db.db
        .update(groups)
        .set({ clerkOrgId: orgId, clerkUpdatedAt: new Date(Date.now() - 60_000) })
        .where(eq(groups.id, scene.school.id));
      const admin = await connect(b, scene.schoolAdmin);
      expect((await admin.request({ type: "subscribe", room: classRoom })).type).toBe("ack");

      const now = Date.now();
      const membership = clerkMembershipData({
        id: `orgmem_${crypto.randomUUID().slice(0, 8)}`,
        role: "org:admin",
        org: { id: orgId, name: "School", slug: null, updatedAt: now - 30_000 },
        user: { id: clerkId(scene.schoolAdmin), first: "S", last: "Admin", email: `${clerkId(scene.schoolAdmin)}@school.test` },
        updatedAt: now,
      });
      const res = await deliver(a.app, secret, delivery("organizationMembership.deleted", membership, now));
      expect(res.status).toBe(200);
      const revoked = await roomRevoked(admin, classRoom);
      expect(revoked.code).toBe("NOT_FOUND");
      expect(admin.closed).toBeNull();
      expect((await admin.request({ type: "subscribe", room: classRoom })).type).toBe("error");
      admin.close();
    });

    test("REST: removing a group membership, or demoting an admin, drops the rooms on the other instance", async () => {
      const { scene, classRoom, sessionRoom } = await sceneWithSession();
      const admin = await connect(b, scene.schoolAdmin);
      expect((await admin.request({ type: "subscribe", room: classRoom })).type).toBe("ack");
      expect((await admin.request({ type: "subscribe", room: sessionRoom })).type).toBe("ack");
      const demote = await rest(a, scene.districtAdmin, "PATCH", `/api/groups/${scene.school.id}/members/${scene.schoolAdmin.id}`, { role: "member" });
      expect(demote.status).toBe(200);
      await roomRevoked(admin, classRoom);
      await roomRevoked(admin, sessionRoom);
      expect(admin.closed).toBeNull();
      admin.close();

      const other = await sceneWithSession();
      const admin2 = await connect(b, other.scene.schoolAdmin);
      expect((await admin2.request({ type: "subscribe", room: other.classRoom })).type).toBe("ack");
      const removed = await rest(a, other.scene.districtAdmin, "DELETE", `/api/groups/${other.scene.school.id}/members/${other.scene.schoolAdmin.id}`);
      expect(removed.status).toBe(204);
      await roomRevoked(admin2, other.classRoom);
      admin2.close();
    });

    test("REST: a removed class teacher loses the class and session rooms and can no longer steer the session", async () => {
      const { scene, classRoom, sessionRoom, sessionId } = await sceneWithSession();
      const teacher = await connect(b, scene.teacher);
      expect((await teacher.request({ type: "subscribe", room: classRoom })).type).toBe("ack");
      expect((await teacher.request({ type: "subscribe", room: sessionRoom })).type).toBe("ack");
      const res = await rest(a, scene.schoolAdmin, "DELETE", `/api/classes/${scene.cls.id}/members/${scene.teacher.id}`);
      expect(res.status).toBe(204);
      await roomRevoked(teacher, classRoom);
      await roomRevoked(teacher, sessionRoom);
      const post = await teacher.request({ type: "teacher.message", sessionId, clientMessageId: "after-removal", content: "still here?" });
      expect(post.type).toBe("error");
      const pause = await teacher.request({ type: "session.pause", sessionId });
      expect(pause.type).toBe("error");
      teacher.close();
    });
  });

describe("a revocation the bus cannot take", () => {
  test("does not fail the committed change: the call succeeds and the failure is logged", async () => {
    const scene = await makeSchoolScene(h.db.db);
    const node = createMemoryBus().node();
    const bus: Bus = {
      ...node,
      nodeId: node.nodeId,
      publish: (room, input) => (room === "system:access" ? Promise.reject(new Error("bus down")) : node.publish(room, input)),
    };
    const { app, deps } = await h.withApp({ deps: { bus } });
    const res = await call(app, "DELETE", `/api/classes/${scene.cls.id}/members/${scene.otherStudent.id}`, { as: scene.teacher });
    expect(res.status).toBe(204);
    const [member] = await h.db.db
      .select()
      .from(classMembers)
      .where(and(eq(classMembers.classId, scene.cls.id), eq(classMembers.userId, scene.otherStudent.id)));
    expect(member).toBeUndefined();
    expect(deps.logger.lines.some((l) => String(l.msg).startsWith("revocation publish failed"))).toBe(true);
  });
});

describe("the periodic re-check is the backstop", () => {
  const d = useDeployment(h, dev);
  let quick: Instance;
  let scene: SchoolScene;
  beforeAll(async () => {
    quick = await d.start({ live: { recheckIntervalMs: 150 } });
    scene = await makeSchoolScene(h.db.db);
  });

  test("a user suspended without any published revocation is still disconnected by the re-check", async () => {
    const student = await connect(quick, scene.student);
    await h.db.db.update(users).set({ status: "suspended" }).where(eq(users.id, scene.student.id));
    expect((await student.waitClosed(LIVENESS_MS)).code).toBe(4001);
  });
});
