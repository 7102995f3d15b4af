/**
 * The classroom the live bench plays in, written with the db factories straight into the bench
 * database before the servers start: students in classes of CLASS_SIZE, `watchersPerSession`
 * co-teachers per class (each watcher of a session is a different teacher of its class), chat
 * tools, the dev models in the catalogue and system AI settings without limits.
 */
import { aiModels, aiSettings, createDb } from "../../packages/db/src/index.ts";
import { addClassMember, addGroupMember, makeClass, makeGroup, makeTool, makeUser } from "../../packages/db/src/testing/index.ts";
import { type DevKeyPair, mintSessionToken } from "../../apps/api/src/auth/dev-keys.ts";

const CLASS_SIZE = 25;

export interface BenchUser {
  id: string;
  clerkUserId: string;
  token: string;
}

export interface BenchClass {
  id: string;
  students: BenchUser[];
  teachers: BenchUser[];
}

export interface Scene {
  classes: BenchClass[];
  /** Every student with their class, in seeding order. */
  students: { user: BenchUser; classId: string; teachers: BenchUser[] }[];
  /** The tool whose model is the server default (`dev-tutor` at AI_DEV_TOKENS_PER_SECOND). */
  toolId: string;
  /** Tools pinned to `dev-tutor@<n>tps` (the dev model's per-request rate), by rate. */
  toolsByRate: Map<number, string>;
}

/** Migrates the database and seeds `students` students with `watchersPerSession` teachers per class. */
export async function seedScene(opts: { databaseUrl: string; keys: DevKeyPair; students: number; watchersPerSession: number; rates: number[] }): Promise<Scene> {
  const handle = await createDb({ url: opts.databaseUrl, maxConnections: 4 });
  try {
    await handle.migrate();
    const db = handle.db;
    const models = ["dev-tutor", ...opts.rates.map((r) => `dev-tutor@${r}tps`)];
    for (const id of models) {
      await db.insert(aiModels).values({ id, provider: "dev", displayName: id, contextWindow: 16384, maxOutputTokens: 1024 }).onConflictDoNothing();
    }
    // No per-user limits and no budget: the bench measures fan-out, not the limiter.
    await db.insert(aiSettings).values({ isSystem: true, defaultModel: "dev-tutor" });

    const district = await makeGroup(db, { kind: "district" });
    const school = await makeGroup(db, { kind: "school", parent: district });
    const department = await makeGroup(db, { kind: "department", parent: school });
    const token = (clerkUserId: string) => mintSessionToken(opts.keys, { userId: clerkUserId, expiresInSeconds: 6 * 3600 });
    const asBench = async (row: { id: string; clerkUserId: string | null }): Promise<BenchUser> => {
      if (!row.clerkUserId) throw new Error("factory user without a Clerk id");
      return { id: row.id, clerkUserId: row.clerkUserId, token: await token(row.clerkUserId) };
    };

    const classes: BenchClass[] = [];
    const students: Scene["students"] = [];
    for (let made = 0; made < opts.students; made += CLASS_SIZE) {
      const cls = await makeClass(db, department.id);
      const teachers: BenchUser[] = [];
      for (let t = 0; t < opts.watchersPerSession; t++) {
        const teacher = await makeUser(db);
        await addGroupMember(db, department.id, teacher.id, "teacher");
        await addClassMember(db, cls.id, teacher.id, "teacher");
        teachers.push(await asBench(teacher));
      }
      // A class's students side by side (the handle's four connections): seeding thousands one
      // statement at a time took ≈ 7 ms a student. Their order stays the seeding order.
      const members = await Promise.all(
        Array.from({ length: Math.min(CLASS_SIZE, opts.students - made) }, async () => {
          const student = await makeUser(db);
          await addClassMember(db, cls.id, student.id, "student");
          return asBench(student);
        }),
      );
      for (const user of members) students.push({ user, classId: cls.id, teachers });
      classes.push({ id: cls.id, students: members, teachers });
    }
    const creator = classes[0]?.teachers[0]?.id ?? null;
    const tool = await makeTool(db, school.id, { createdBy: creator });
    const toolsByRate = new Map<number, string>();
    for (const rate of opts.rates) {
      const t = await makeTool(db, school.id, { createdBy: creator, definition: { model: `dev-tutor@${rate}tps` } });
      toolsByRate.set(rate, t.id);
    }
    return { classes, students, toolId: tool.id, toolsByRate };
  } finally {
    await handle.close();
  }
}
