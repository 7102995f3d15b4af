import { afterAll, beforeAll } from "bun:test";
import { classes, type DbHandle, SEED, seed, tools, users } from "@raptscallions/db";
import { makeAssignment, makeTool, unique } from "@raptscallions/db/testing";
import { eq } from "drizzle-orm";
import { createDevSignIn } from "../../../api/src/auth/dev-sign-in.ts";
import { makeDevModel } from "../../../api/test/helpers/ai.ts";
import { testKeys } from "../../../api/test/helpers/auth.ts";
import { backendTransport, startDeployment } from "../../../api/test/helpers/deployment.ts";
import { harness } from "../../../api/test/helpers/harness.ts";
import { type Instance, restCall, startDevModel } from "../../../api/test/helpers/live.ts";
import type { Browser } from "playwright-core";
import { buildConsole } from "../../build.ts";
import { launchBrowser } from "./harness.ts";

/**
 * The seeded classroom (admin, principal, teacher, student1…3 in Biology 9A — the people the dev
 * sign-in picker offers) served by two API instances with the console at /app: A for students,
 * B for the teacher. They share the test harness's database and the transport the run configures
 * (backendTransport: Redis in the real pass, Postgres + Redis; otherwise the in-process bus on
 * embedded PGlite).
 *
 * Every scene adds its own tool and assignment (unique titles) whose model is a paced dev model,
 * so answers stream long enough to be watched, stopped and cut, and runs on one shared Postgres
 * never see each other's rows as theirs.
 */
export interface Classroom {
  db: DbHandle;
  a: Instance;
  b: Instance;
  transport: string;
  classId: string;
  className: string;
  assignment: { id: string; title: string };
  studentId: string;
  studentName: string;
  /** The seeded student1, for REST calls as them. */
  student: { clerkUserId: string };
  teacher: { clerkUserId: string };
  /** The session's stored messages over REST (A), oldest first. */
  storedMessages(sessionId: string): Promise<{ id: string; role: string; state: string | null; content: string }[]>;
  stop(): Promise<void>;
}

export async function startClassroom(opts: { tokensPerSecond: number }): Promise<Classroom> {
  const h = await harness();
  const db = h.db;
  const scene = await seed(db.db);
  const [teacher] = await db.db.select().from(users).where(eq(users.clerkUserId, SEED.users.teacher.clerkUserId));
  const [student] = await db.db.select().from(users).where(eq(users.clerkUserId, SEED.users.students[0].clerkUserId));
  const [seededTool] = await db.db.select().from(tools).where(eq(tools.id, scene.toolId));
  const [cls] = await db.db.select().from(classes).where(eq(classes.id, scene.classId));
  if (!teacher || !student || !seededTool || !cls) throw new Error("the seeded scene is incomplete");

  const model = await makeDevModel(db.db, { tokensPerSecond: opts.tokensPerSecond });
  const tool = await makeTool(db.db, seededTool.groupId, {
    name: unique("Browser test tutor"),
    createdBy: teacher.id,
    definition: {
      systemPrompt: "You are a patient biology tutor. Guide with questions.",
      model: model.id,
      modules: { "pii-filter": { enabled: true }, "safety-filter": { enabled: true }, "struggle-detector": { enabled: true } },
    },
  });
  const title = unique("Browser test: photosynthesis");
  const assignment = await makeAssignment(db.db, cls.id, tool.id, { title, instructions: "Explain photosynthesis back to the tutor.", createdBy: teacher.id });

  const devModel = startDevModel();
  h.beforeClose(() => devModel.stop());
  const transport = backendTransport();
  const deployment = startDeployment(db, devModel, transport);
  h.beforeClose(() => deployment.close());
  // One build for both instances (Bun's bundler, as /app does on its first request).
  const bundle = buildConsole();
  const overrides = { console: { load: () => bundle }, devSignIn: createDevSignIn({ keys: await testKeys(), nodeEnv: "test" }) };
  const a = await deployment.start({ overrides });
  const b = await deployment.start({ overrides });
  await bundle;
  console.log(`classroom: two instances on ${transport}, ${process.env.TEST_DATABASE_URL ? "Postgres" : "embedded PGlite"}`);

  return {
    db,
    a,
    b,
    transport,
    classId: cls.id,
    className: cls.name,
    assignment: { id: assignment.id, title },
    studentId: student.id,
    studentName: student.name ?? SEED.users.students[0].name,
    student: { clerkUserId: SEED.users.students[0].clerkUserId },
    teacher: { clerkUserId: SEED.users.teacher.clerkUserId },
    async storedMessages(sessionId) {
      const res = await restCall(a, { clerkUserId: SEED.users.students[0].clerkUserId }, "GET", `/api/sessions/${sessionId}/messages?limit=100`);
      if (res.status !== 200) throw new Error(`messages: ${res.status} ${JSON.stringify(res.body)}`);
      return (res.body as { items: { id: string; role: string; state: string | null; content: string }[] }).items;
    },
    stop: () => h.close(),
  };
}

/**
 * A classroom ({@link startClassroom}) and a Chromium for the enclosing `describe`: started in its
 * first `beforeAll` (a suite's own hooks run after, and may use both), closed in its `afterAll`.
 */
export function useClassroomInBrowser(opts: { tokensPerSecond: number }): { readonly room: Classroom; readonly browser: Browser } {
  let room: Classroom | undefined;
  let browser: Browser | undefined;
  beforeAll(async () => {
    room = await startClassroom(opts);
    browser = await launchBrowser();
  }, 180_000);
  afterAll(async () => {
    await browser?.close();
    await room?.stop();
  }, 180_000);
  return {
    get room() {
      if (!room) throw new Error("the classroom has not started (read it in a hook or test)");
      return room;
    },
    get browser() {
      if (!browser) throw new Error("the browser has not started (read it in a hook or test)");
      return browser;
    },
  };
}
