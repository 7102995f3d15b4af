import { beforeAll, describe, expect, test } from "bun:test";
import { createMemoryBus } from "@raptscallions/bus";
import { auditLog, users } from "@raptscallions/db";
import { addClassMember, makeClass, makeSchoolScene, makeSession } from "@raptscallions/db/testing";
import { and, eq } from "drizzle-orm";
import { loadActor, loadActorByClerkId } from "../src/access/actor.ts";
import { ActorCache } from "../src/services/realtime/actor-cache.ts";
import { createMemoryLogger } from "../src/lib/logger.ts";
import { AuditBatch } from "../src/services/audit/batch.ts";
import { publishRevocation } from "../src/services/realtime/revocation.ts";
import { authHeader } from "./helpers/auth.ts";
import { eventually } from "@raptscallions/core/testing";
import { useHarness } from "./helpers/harness.ts";
import { deploymentTransports, useDeployment, useDevModel } from "./helpers/deployment.ts";
import { connect, type Instance, requestTicket } from "./helpers/live.ts";

/**
 * Connection setup reuses a user's loaded roles for a few seconds (LIVE_ACCESS_CACHE_MS), and a
 * revocation published anywhere drops them on every instance: a revoked user never gets a ticket
 * or a socket through the cache.
 */

const h = useHarness();
const dev = useDevModel(h, 150);

const LIVENESS_MS = 5000;

async function ticketStatus(instance: Instance, user: { clerkUserId: string | null }) {
  return (await requestTicket(instance, user)).status;
}

for (const [name, skip] of deploymentTransports())
  describe.skipIf(skip)(`actor cache across instances (${name})`, () => {
    const d = useDeployment(h, dev, name);
    let a: Instance;
    let b: Instance;
    let short: Instance;

    beforeAll(async () => {
      // A long TTL: only revocations can make the first tests pass.
      a = await d.start({ live: { accessCacheMs: 60_000 } });
      b = await d.start({ live: { accessCacheMs: 60_000 } });
      short = await d.start({ live: { accessCacheMs: 300 } });
      // A cache keeps nothing until it has subscribed to the access room, which its first use
      // starts: on Redis that can outlast the first setup, and the tests count on what it keeps.
      const warm = await makeSchoolScene(h.db.db);
      for (const instance of [a, b, short]) expect(await ticketStatus(instance, warm.student)).toBe(201);
      await Bun.sleep(200);
    }, 30_000);

    test("a revocation published on one instance drops the cached user there at once and on the others through the bus", async () => {
      const scene = await makeSchoolScene(h.db.db);
      expect(await ticketStatus(a, scene.teacher)).toBe(201);
      expect(await ticketStatus(b, scene.teacher)).toBe(201);
      // Suspended behind the cache's back: both instances still hold the loaded user.
      await h.db.db.update(users).set({ status: "suspended" }).where(eq(users.id, scene.teacher.id));
      expect(await ticketStatus(b, scene.teacher)).toBe(201);

      await publishRevocation(a.deps, { userId: scene.teacher.id, reason: "user-suspended" });
      // The publishing instance dropped the user before the publish returned.
      expect(await ticketStatus(a, scene.teacher)).toBe(401);
      await eventually(async () => (await ticketStatus(b, scene.teacher)) === 401, "b to refuse the teacher's ticket", LIVENESS_MS);
    });

    test("a revocation naming only the Clerk id drops the user too; a socket cannot open on a ticket issued before it", async () => {
      const scene = await makeSchoolScene(h.db.db);
      const res = await fetch(`${b.baseUrl}/api/realtime/tickets`, { method: "POST", headers: await authHeader(scene.teacher) });
      const { ticket } = (await res.json()) as { ticket: string };
      await h.db.db.update(users).set({ status: "suspended" }).where(eq(users.id, scene.teacher.id));
      await publishRevocation(b.deps, { clerkUserId: scene.teacher.clerkUserId ?? "x", reason: "user-suspended" });
      const late = await fetch(`${b.wsUrl.replace("ws:", "http:")}/ws?ticket=${ticket}`, {
        headers: { upgrade: "websocket", connection: "upgrade", "sec-websocket-key": "dGhlIHNhbXBsZSBub25jZQ==", "sec-websocket-version": "13" },
      });
      expect(late.status).toBe(401);
      expect(((await late.json()) as { error: { code: string } }).error.code).toBe("TICKET_INVALID");
    });

    test("entries expire after LIVE_ACCESS_CACHE_MS even when no revocation is heard", async () => {
      const scene = await makeSchoolScene(h.db.db);
      expect(await ticketStatus(short, scene.teacher)).toBe(201);
      await h.db.db.update(users).set({ status: "suspended" }).where(eq(users.id, scene.teacher.id));
      await Bun.sleep(400);
      expect(await ticketStatus(short, scene.teacher)).toBe(401);
    });

    test("a class granted after the roles were cached is reachable: a refused subscribe re-checks against fresh rows", async () => {
      const scene = await makeSchoolScene(h.db.db);
      const first = await connect(b, scene.teacher);
      first.close();
      const other = await makeClass(h.db.db, scene.department.id);
      const session = await makeSession(h.db.db, { toolId: scene.tool.id, studentId: scene.student.id, groupId: scene.department.id, classId: other.id });
      await addClassMember(h.db.db, other.id, scene.teacher.id, "teacher");
      // No revocation is published for a grant: this socket opens with the cached roles.
      const teacher = await connect(b, scene.teacher);
      const ack = await teacher.request({ type: "subscribe", room: `session:${session.id}` });
      expect(ack.type).toBe("ack");
      // A room the teacher really may not see is still refused after the re-check.
      const foreign = await makeSchoolScene(h.db.db);
      const theirs = await makeSession(h.db.db, { toolId: foreign.tool.id, studentId: foreign.student.id, groupId: foreign.department.id, classId: foreign.cls.id });
      const refused = await teacher.request({ type: "subscribe", room: `session:${theirs.id}` });
      expect(refused).toMatchObject({ type: "error", code: "NOT_FOUND" });
      expect(teacher.closed).toBeNull();
      teacher.close();
    });
  });

describe("actor cache", () => {
  test("a load that overlapped a revocation is returned but not kept", async () => {
    const scene = await makeSchoolScene(h.db.db);
    const bus = createMemoryBus().node();
    const logger = createMemoryLogger();
    const cache = new ActorCache({ bus, logger }, 60_000);
    // Subscribes to the access room; the cache is used from the next call on.
    await cache.actor(h.db.db, scene.teacher.id, null);
    await Bun.sleep(10);
    const loading = cache.actor(h.db.db, scene.teacher.id, null);
    await publishRevocation({ bus, logger }, { userId: scene.teacher.id, reason: "role-changed" });
    expect((await loading).actor?.userId).toBe(scene.teacher.id);
    await h.db.db.update(users).set({ status: "suspended" }).where(eq(users.id, scene.teacher.id));
    expect((await cache.actor(h.db.db, scene.teacher.id, null)).actor).toBeNull();
    await cache.close();
  });

  test("holds nothing while it cannot listen to the access room", async () => {
    const scene = await makeSchoolScene(h.db.db);
    const node = createMemoryBus().node();
    const bus = { ...node, subscribe: () => Promise.reject(new Error("bus down")) } as typeof node;
    const logger = createMemoryLogger();
    const cache = new ActorCache({ bus, logger }, 60_000);
    expect((await cache.actor(h.db.db, scene.teacher.id, null)).cached).toBe(false);
    await Bun.sleep(10);
    expect((await cache.actor(h.db.db, scene.teacher.id, null)).cached).toBe(false);
    expect(logger.lines.some((l) => String(l.msg).startsWith("actor cache: access room unavailable"))).toBe(true);
    await cache.close();
  });

  test("by Clerk id: the same roles as by user id, kept for the setup that follows; unknown and inactive users are not", async () => {
    const scene = await makeSchoolScene(h.db.db);
    const clerkUserId = scene.teacher.clerkUserId ?? "";
    expect(clerkUserId).not.toBe("");
    expect(await loadActorByClerkId(h.db.db, clerkUserId)).toEqual(await loadActor(h.db.db, scene.teacher.id, null));
    expect(await loadActorByClerkId(h.db.db, `user_unknown_${crypto.randomUUID()}`)).toBeNull();

    const bus = createMemoryBus().node();
    const cache = new ActorCache({ bus, logger: createMemoryLogger() }, 60_000);
    // Subscribes to the access room; the cache keeps loads from the next call on.
    await cache.actor(h.db.db, scene.student.id, null);
    await Bun.sleep(10);
    const known = await cache.byClerkId(h.db.db, clerkUserId);
    expect(known?.userId).toBe(scene.teacher.id);
    const hit = await cache.actor(h.db.db, scene.teacher.id, null);
    expect(hit.cached).toBe(true);
    expect(hit.actor).toBe(known);

    await h.db.db.update(users).set({ status: "suspended" }).where(eq(users.id, scene.teacher.id));
    await publishRevocation({ bus, logger: createMemoryLogger() }, { userId: scene.teacher.id, reason: "user-suspended" });
    expect(await cache.byClerkId(h.db.db, clerkUserId)).toBeNull();
    expect((await cache.actor(h.db.db, scene.teacher.id, null)).cached).toBe(false);
    await cache.close();
  });

  test("one user in two active groups: each load is kept beside the other, and a revocation by Clerk id drops both", async () => {
    const scene = await makeSchoolScene(h.db.db);
    const bus = createMemoryBus().node();
    const logger = createMemoryLogger();
    const cache = new ActorCache({ bus, logger }, 60_000);
    await cache.actor(h.db.db, scene.student.id, null);
    await Bun.sleep(10);
    const groups = [null, scene.department.id, scene.school.id];
    for (const g of groups) expect((await cache.actor(h.db.db, scene.teacher.id, g)).cached).toBe(false);
    for (const g of groups) {
      const hit = await cache.actor(h.db.db, scene.teacher.id, g);
      expect(hit.cached).toBe(true);
      expect(hit.actor?.activeGroupId).toBe(g);
    }
    // A fresh load (after a refusal) drops the user's other groups too, and keeps its own.
    const fresh = await cache.fresh(h.db.db, scene.teacher.id, scene.school.id);
    expect((await cache.actor(h.db.db, scene.teacher.id, scene.school.id)).actor).toBe(fresh);
    expect((await cache.actor(h.db.db, scene.teacher.id, scene.department.id)).cached).toBe(false);
    expect((await cache.actor(h.db.db, scene.teacher.id, null)).cached).toBe(false);
    for (const g of groups) expect((await cache.actor(h.db.db, scene.teacher.id, g)).cached).toBe(true);
    await publishRevocation({ bus, logger }, { clerkUserId: scene.teacher.clerkUserId ?? "", reason: "user-suspended" });
    for (const g of groups) expect((await cache.actor(h.db.db, scene.teacher.id, g)).cached).toBe(false);
    // Another user's entry is untouched.
    expect((await cache.actor(h.db.db, scene.student.id, null)).cached).toBe(true);
    await cache.close();
  });

  test("an idle student's actor holds no empty lists of its own; its class role reads as before", async () => {
    const scene = await makeSchoolScene(h.db.db);
    const [one, two] = [await loadActor(h.db.db, scene.student.id, null), await loadActor(h.db.db, scene.student.id, null)];
    expect(one).not.toBe(two);
    // No group roles: one frozen list shared by every such actor (a push would throw, not leak).
    expect(one?.groupRoles).toEqual([]);
    expect(one?.groupRoles).toBe(two?.groupRoles as NonNullable<typeof one>["groupRoles"]);
    expect(Object.isFrozen(one?.groupRoles)).toBe(true);
    // No record districts: the field is absent (none), as the reach computation reads it.
    expect(one && "recordDistricts" in one).toBe(false);
    expect(one?.classRoles.get(scene.cls.id)).toEqual({ role: "student", groupId: scene.cls.groupId, groupPath: expect.any(String) });
    // A teacher's group roles still load in full.
    const teacher = await loadActor(h.db.db, scene.teacher.id, null);
    expect(teacher?.groupRoles.length).toBeGreaterThan(0);
  });

  test("a second load within the TTL is a hit", async () => {
    const scene = await makeSchoolScene(h.db.db);
    const bus = createMemoryBus().node();
    const cache = new ActorCache({ bus, logger: createMemoryLogger() }, 60_000);
    await cache.actor(h.db.db, scene.teacher.id, null);
    await Bun.sleep(10);
    await cache.actor(h.db.db, scene.teacher.id, null);
    const hit = await cache.actor(h.db.db, scene.teacher.id, null);
    expect(hit.cached).toBe(true);
    expect(hit.actor?.classRoles.get(scene.cls.id)?.role).toBe("teacher");
    await cache.close();
  });
});

describe("view audit batch", () => {
  test("rows land with the next flush, stamped with the time of the view; close writes what is pending", async () => {
    const scene = await makeSchoolScene(h.db.db);
    const logger = createMemoryLogger();
    let now = new Date("2026-11-30T12:00:00.000Z");
    const batch = new AuditBatch({ db: h.db.db, logger, clock: { now: () => now } }, 60_000);
    const rowsFor = (targetId: string) =>
      h.db.db
        .select()
        .from(auditLog)
        .where(and(eq(auditLog.action, "session.view"), eq(auditLog.targetId, targetId)));
    const actor = await loadActor(h.db.db, scene.teacher.id);
    if (!actor) throw new Error("the scene's teacher is active");
    const target = crypto.randomUUID();
    batch.add({ actor, requestId: "r1" }, { action: "session.view", targetType: "session", targetId: target, groupId: scene.department.id });
    now = new Date("2026-11-30T12:00:05.000Z");
    batch.add({ actor, requestId: "r2" }, { action: "session.view", targetType: "session", targetId: target, groupId: scene.department.id });
    expect(await rowsFor(target)).toHaveLength(0);
    await batch.flush();
    const rows = await rowsFor(target);
    expect(rows.map((r) => r.createdAt.toISOString()).sort()).toEqual(["2026-11-30T12:00:00.000Z", "2026-11-30T12:00:05.000Z"]);
    expect(rows.every((r) => r.actorId === scene.teacher.id)).toBe(true);

    const pending = crypto.randomUUID();
    batch.add({ actor, requestId: "r3" }, { action: "session.view", targetType: "session", targetId: pending });
    await batch.close();
    expect(await rowsFor(pending)).toHaveLength(1);
  });

  test("batched rows keep every column, for a person and for a named principal", async () => {
    const scene = await makeSchoolScene(h.db.db);
    const batch = new AuditBatch({ db: h.db.db, logger: createMemoryLogger(), clock: { now: () => new Date("2026-12-02T01:00:00.000Z") } }, 60_000);
    const actor = await loadActor(h.db.db, scene.teacher.id);
    if (!actor) throw new Error("the scene's teacher is active");
    const target = crypto.randomUUID();
    const details = { studentId: scene.student.id, note: "quote \" and 'apostrophe', ünïcode, {braces}", nested: { n: 1, list: [true, null] } };
    batch.add({ actor, requestId: "r-user" }, { action: "session.view", targetType: "session", targetId: target, groupId: scene.department.id, details });
    batch.add({ actor: { kind: "integration", id: "clerk", name: "Clerk" }, requestId: null }, { action: "session.view", targetType: "session", targetId: target });
    await batch.flush();
    const rows = await h.db.db.select().from(auditLog).where(eq(auditLog.targetId, target)).orderBy(auditLog.id);
    expect(rows.map(({ id: _id, ...r }) => r)).toEqual([
      {
        actorId: scene.teacher.id,
        actorKind: "user",
        actorName: null,
        actorIntegrationId: null,
        action: "session.view",
        targetType: "session",
        targetId: target,
        groupId: scene.department.id,
        requestId: "r-user",
        details,
        createdAt: new Date("2026-12-02T01:00:00.000Z"),
      },
      {
        actorId: null,
        actorKind: "integration",
        actorName: "Clerk",
        actorIntegrationId: "clerk",
        action: "session.view",
        targetType: "session",
        targetId: target,
        groupId: null,
        requestId: null,
        details: {},
        createdAt: new Date("2026-12-02T01:00:00.000Z"),
      },
    ]);
  });
});
