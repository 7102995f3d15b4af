import { beforeAll, describe, expect, test } from "bun:test";
import type { ClassAttentionDto } from "@raptscallions/core";
import { type DbOrTx, messages, sessions } from "@raptscallions/db";
import { addClassMember, makeExtraction, makeSchoolScene, makeSession, makeUser, type SchoolScene } from "@raptscallions/db/testing";
import { eq } from "drizzle-orm";
import { useHarness } from "./helpers/harness.ts";
import { deploymentTransports, useDeployment, useDevModel } from "./helpers/deployment.ts";
import { connect, type Instance, restCall } from "./helpers/live.ts";
import { errorCode, securityTests } from "./helpers/security.ts";

/**
 * "Who needs attention": the ranking of a class's students on a built scene (alerts, struggle,
 * a stuck session, silence), who may read it, and the class-room `attention.changed` event that
 * follows the events that move someone (debounced per class, and on time alone for stuck/silent).
 */
const h = useHarness();

const dev = useDevModel(h, 200);

const ago = (seconds: number) => new Date(Date.now() - seconds * 1000);

/** A live session of `studentId` whose messages were written `secondsAgo` (an answer after each when `answered`). */
async function liveSession(db: DbOrTx, scene: SchoolScene, studentId: string, turns: { secondsAgo: number; answered: boolean }[]) {
  const session = await makeSession(db, { toolId: scene.tool.id, studentId, groupId: scene.department.id, classId: scene.cls.id, startedAt: ago(3600) });
  let seq = 0;
  for (const t of turns) {
    seq += 1;
    await db.insert(messages).values({ sessionId: session.id, seq, role: "user", content: "What is a fraction?", authorId: studentId, createdAt: ago(t.secondsAgo) });
    if (t.answered) {
      seq += 1;
      await db
        .insert(messages)
        .values({ sessionId: session.id, seq, role: "assistant", content: "Think of a pizza.", state: "complete", createdAt: ago(t.secondsAgo - 1) });
    }
  }
  await db.update(sessions).set({ lastSeq: seq }).where(eq(sessions.id, session.id));
  return session;
}

/** The scene: alerted (A), struggling (B), stuck (C), silent (D), absent (E = the scene's other student). */
async function buildScene(db: DbOrTx) {
  const scene = await makeSchoolScene(db);
  const [b, c, d] = [await makeUser(db, { name: "B Struggling" }), await makeUser(db, { name: "C Stuck" }), await makeUser(db, { name: "D Silent" })];
  for (const u of [b, c, d]) await addClassMember(db, scene.cls.id, u.id, "student");
  const a = await liveSession(db, scene, scene.student.id, [{ secondsAgo: 20, answered: true }]);
  const alert = await makeExtraction(db, { sessionId: a.id, classId: scene.cls.id, groupId: scene.department.id, severity: "critical", kind: "self-harm" });
  // An acknowledged alert and a moderation outage count for nothing.
  await makeExtraction(db, { sessionId: a.id, classId: scene.cls.id, groupId: scene.department.id, severity: "high", status: "acknowledged" });
  await makeExtraction(db, { sessionId: a.id, classId: scene.cls.id, groupId: scene.department.id, severity: "low", kind: "moderation-unavailable" });
  const bSession = await liveSession(db, scene, b.id, [{ secondsAgo: 30, answered: true }]);
  for (const level of ["mild", "struggling"]) {
    await makeExtraction(db, {
      sessionId: bSession.id,
      classId: scene.cls.id,
      groupId: scene.department.id,
      module: "struggle-detector",
      kind: "struggle",
      severity: "medium",
      data: { level },
    });
  }
  const cSession = await liveSession(db, scene, c.id, [
    { secondsAgo: 400, answered: true },
    { secondsAgo: 120, answered: false },
  ]);
  const dSession = await liveSession(db, scene, d.id, [{ secondsAgo: 600, answered: true }]);
  return { scene, a: scene.student, b, c, d, e: scene.otherStudent, alert, cSession, dSession };
}

type Built = Awaited<ReturnType<typeof buildScene>>;

describe("the attention list over REST", () => {
  let built: Built;
  let other: SchoolScene;
  beforeAll(async () => {
    built = await buildScene(h.db.db);
    other = await makeSchoolScene(h.db.db);
  });

  test("ranks alerts, then a stuck session, then struggle, then silence; flags say why", async () => {
    const res = await h.as(built.scene.teacher).get<ClassAttentionDto>(`/api/classes/${built.scene.cls.id}/attention`);
    expect(res.status).toBe(200);
    const { students } = res.body;
    expect(students.map((s) => s.studentId)).toEqual([built.a.id, built.c.id, built.b.id, built.d.id, built.e.id]);
    expect(students.map((s) => s.rank)).toEqual([1, 2, 3, 4, 5]);
    const [a, c, b, d, e] = students;
    expect(a).toMatchObject({ flags: ["alert"], openAlerts: { total: 1, critical: 1, high: 0, medium: 0, low: 0 }, struggle: "none", score: 1000 });
    expect(c).toMatchObject({ flags: ["stuck"], stuckSessions: [{ sessionId: built.cSession.id }], score: 300 });
    expect(c?.stuckSessions[0]?.waitingSeconds).toBeGreaterThanOrEqual(120);
    expect(b).toMatchObject({ flags: ["struggling"], struggle: "struggling", score: 200 });
    expect(d?.flags).toEqual(["silent"]);
    expect(d?.silentSeconds).toBeGreaterThanOrEqual(600);
    // 50 for passing the threshold, a point per further minute.
    expect(d?.score).toBe(55);
    expect(e).toMatchObject({ flags: [], score: 0, liveSessionIds: [], silentSeconds: null, lastMessageAt: null });
    expect(res.body).toMatchObject({ classId: built.scene.cls.id, stuckAfterSeconds: 60, silentAfterSeconds: 300 });
  });

  test("an admin over the class's group reads it too; acknowledging the alert moves the student down", async () => {
    const ack = await h.as(built.scene.teacher).post(`/api/alerts/${built.alert.id}/acknowledge`);
    expect(ack.status).toBe(200);
    const res = await h.as(built.scene.districtAdmin).get<ClassAttentionDto>(`/api/classes/${built.scene.cls.id}/attention`);
    expect(res.status).toBe(200);
    expect(res.body.students.map((s) => s.studentId)).toEqual([built.c.id, built.b.id, built.d.id, built.a.id, built.e.id]);
    expect(res.body.students[3]?.flags).toEqual([]);
  });

  test("bad input: an unknown or malformed class id is a 404 JSON error", async () => {
    for (const id of [crypto.randomUUID(), "not-a-uuid"]) {
      const res = await h.as(built.scene.teacher).get(`/api/classes/${id}/attention`);
      expect(res.status).toBe(404);
      expect(errorCode(res.body)).toBe("NOT_FOUND");
    }
  });

  securityTests("class attention", () => h.app, [
    {
      method: "GET",
      route: "/api/classes/:id/attention",
      path: () => `/api/classes/${built.scene.cls.id}/attention`,
      denied: () => [
        { who: built.scene.student, status: 403, as: "a student of the class" },
        { who: other.teacher, status: 404, as: "another school's teacher" },
        { who: other.districtAdmin, status: 404, as: "an admin without reach" },
      ],
    },
  ]);
});

describe("attention.changed is debounced per class", () => {
  test("many events in one window recompute once; an unchanged list publishes nothing", async () => {
    const built = await buildScene(h.db.db);
    const room = `class:${built.scene.cls.id}`;
    const count = async () => {
      const replay = await h.deps.bus.replay(room, 0);
      return replay.kind === "events" ? replay.events.filter((e) => e.type === "attention.changed") : [];
    };
    for (let i = 0; i < 25; i++) h.app.attention.touch(built.scene.cls.id);
    await Bun.sleep(1_300);
    await h.app.attention.settle();
    const events = await count();
    expect(events).toHaveLength(1);
    const payload = events[0]?.payload as ClassAttentionDto & { changed: string[] };
    // The first list a class gets names everyone.
    expect(payload.changed.sort()).toEqual([built.a.id, built.b.id, built.c.id, built.d.id, built.e.id].sort());
    expect(payload.students[0]?.studentId).toBe(built.a.id);

    h.app.attention.touch(built.scene.cls.id);
    await Bun.sleep(1_300);
    await h.app.attention.settle();
    expect(await count()).toHaveLength(1);
  });
});

for (const [name, skip] of deploymentTransports())
  describe.skipIf(skip)(`attention.changed reaches a teacher's socket (${name})`, () => {
    const d = useDeployment(h, dev, name);
    let a: Instance;
    let b: Instance;
    beforeAll(async () => {
      a = await d.start();
      b = await d.start();
    }, 30_000);

    test("an acknowledgement on one instance moves the student on the list a teacher watches on another; time alone makes a session stuck", async () => {
      const built = await buildScene(h.db.db);
      const room = `class:${built.scene.cls.id}`;
      const teacher = await connect(b, built.scene.teacher);
      try {
        expect((await teacher.request({ type: "subscribe", room })).type).toBe("ack");
        // A session whose student message turns stuck two seconds from now.
        const soon = await liveSession(h.db.db, built.scene, built.e.id, [{ secondsAgo: 58, answered: false }]);
        const ack = await restCall(a, built.scene.teacher, "POST", `/api/alerts/${built.alert.id}/acknowledge`);
        expect(ack.status).toBe(200);
        const isAttention = (f: { type: string; event?: unknown }) => f.type === "event" && f.event === "attention.changed";
        const first = (await teacher.next(isAttention, 10_000)) as unknown as { payload: ClassAttentionDto & { changed: string[] } };
        const alerted = first.payload.students.find((s) => s.studentId === built.a.id);
        expect(alerted?.flags).toEqual([]);
        expect(first.payload.students[0]?.studentId).toBe(built.c.id);
        const e = first.payload.students.find((s) => s.studentId === built.e.id);
        expect(e?.flags).toEqual([]);
        expect(e?.liveSessionIds).toEqual([soon.id]);

        const from = teacher.frames.indexOf(first as never) + 1;
        const later = (await teacher.next(isAttention, 10_000, from)) as unknown as { payload: ClassAttentionDto & { changed: string[] } };
        expect(later.payload.changed).toContain(built.e.id);
        expect(later.payload.students.find((s) => s.studentId === built.e.id)).toMatchObject({ flags: ["stuck"], stuckSessions: [{ sessionId: soon.id }] });
      } finally {
        teacher.close();
      }
    }, 30_000);
  });
