import { sql } from "drizzle-orm";
import type { Db, DbOrTx } from "./client.ts";
import { groupPath } from "./paths.ts";
import { aiModels, aiSettings, assignments, classMembers, classes, groupMembers, groups, toolVersions, tools, users } from "./schema/index.ts";

/** Stable handles of the seeded scene, so the README and `bun run token` can name them. */
export const SEED = {
  users: {
    admin: { clerkUserId: "user_dev_admin", email: "ada.admin@northwind.example", name: "Ada Admin" },
    schoolAdmin: { clerkUserId: "user_dev_principal", email: "pat.principal@northwind.example", name: "Pat Principal" },
    teacher: { clerkUserId: "user_dev_teacher", email: "tina.teacher@northwind.example", name: "Tina Teacher" },
    students: [
      { clerkUserId: "user_dev_student1", email: "sam.student@northwind.example", name: "Sam Student" },
      { clerkUserId: "user_dev_student2", email: "lee.learner@northwind.example", name: "Lee Learner" },
      { clerkUserId: "user_dev_student3", email: "kim.kid@northwind.example", name: "Kim Kid" },
    ],
  },
  groups: {
    district: { slug: "northwind-district", name: "Northwind School District", clerkOrgId: "org_dev_district" },
    school: { slug: "northwind-high", name: "Northwind High School", clerkOrgId: "org_dev_school" },
    department: { slug: "northwind-high-science", name: "Science Department", clerkOrgId: "org_dev_science" },
  },
  models: [
    { id: "dev-tutor", provider: "dev", displayName: "Dev tutor (built in)", inputPricePer1k: 0.0005, outputPricePer1k: 0.0015 },
    { id: "dev-fail-before", provider: "dev", displayName: "Dev: fails before first token", inputPricePer1k: 0, outputPricePer1k: 0 },
    { id: "dev-fail-mid", provider: "dev", displayName: "Dev: fails mid-stream", inputPricePer1k: 0, outputPricePer1k: 0 },
    { id: "dev-stall", provider: "dev", displayName: "Dev: stalls", inputPricePer1k: 0, outputPricePer1k: 0 },
    { id: "dev-crawl", provider: "dev", displayName: "Dev: crawls", inputPricePer1k: 0, outputPricePer1k: 0 },
    { id: "openai/gpt-4o-mini", provider: "openai", displayName: "GPT-4o mini", inputPricePer1k: 0.00015, outputPricePer1k: 0.0006 },
  ],
} as const;

function splitName(name: string) {
  const [givenName, ...rest] = name.split(" ");
  return { givenName: givenName ?? name, familyName: rest.join(" ") || null };
}

/** True when the database has no users and no groups (a fresh embedded database). */
export async function isEmpty(db: DbOrTx): Promise<boolean> {
  const rows = await db.execute<{ n: number }>(sql`select (select count(*) from users) + (select count(*) from groups) as n`);
  const first = (rows as unknown as { rows?: { n: number }[] }).rows?.[0] ?? (rows as unknown as { n: number }[])[0];
  return Number(first?.n ?? 0) === 0;
}

/**
 * Creates a small real scene: district → school → department, a class with a teacher and three
 * students, a chat tutor tool, an assignment, AI models and system AI settings. Idempotent on slugs
 * and Clerk ids, so running it twice changes nothing.
 */
export async function seed(db: Db): Promise<SeededScene> {
  return db.transaction(async (tx) => {
    await takeSeedLock(tx);
    return seedScene(tx);
  });
}

/** Ids of the seeded class, tool and assignment. */
export interface SeededScene {
  classId: string;
  toolId: string;
  assignmentId: string;
}

// Any constant works; it only has to be the same on every instance.
const SEED_LOCK_KEY = 727_274_102;

/** Serialises seeding across instances (and `bun run db:seed`) until the transaction ends. */
async function takeSeedLock(tx: DbOrTx): Promise<void> {
  await tx.execute(sql`select pg_advisory_xact_lock(${SEED_LOCK_KEY})`);
}

/**
 * Seeds the scene only if the database holds no users and no groups, deciding and seeding under
 * one lock: instances starting together on an empty database seed it once; the others see it
 * seeded and return null.
 */
export async function seedIfEmpty(db: Db): Promise<SeededScene | null> {
  return db.transaction(async (tx) => {
    await takeSeedLock(tx);
    if (!(await isEmpty(tx))) return null;
    return seedScene(tx);
  });
}

async function seedScene(tx: DbOrTx): Promise<SeededScene> {
  for (const m of SEED.models) {
    await tx
      .insert(aiModels)
      .values({ ...m, contextWindow: 16384, maxOutputTokens: 1024 })
      .onConflictDoNothing();
  }
  const existingSystem = await tx.select().from(aiSettings).where(sql`${aiSettings.isSystem}`);
  if (existingSystem.length === 0) {
    await tx.insert(aiSettings).values({
      isSystem: true,
      defaultModel: "dev-tutor",
      requestsPerMinute: 20,
      requestsPerHour: 300,
      tokensPerDay: 200_000,
      monthlyBudgetUsd: 100,
      alertThreshold: 0.8,
    });
  }

  const upsertUser = async (u: { clerkUserId: string; email: string; name: string }, isSystemAdmin = false) => {
    const [row] = await tx
      .insert(users)
      .values({ ...u, ...splitName(u.name), isSystemAdmin, status: "active" })
      .onConflictDoUpdate({ target: users.clerkUserId, set: { email: u.email } })
      .returning();
    if (!row) throw new Error("seed: user upsert returned nothing");
    return row;
  };
  const admin = await upsertUser(SEED.users.admin, true);
  const principal = await upsertUser(SEED.users.schoolAdmin);
  const teacher = await upsertUser(SEED.users.teacher);
  const students = [];
  for (const s of SEED.users.students) students.push(await upsertUser(s));

  const upsertGroup = async (
    g: { slug: string; name: string; clerkOrgId: string },
    kind: "district" | "school" | "department",
    parent?: { id: string; path: string },
  ) => {
    const found = await tx.select().from(groups).where(sql`${groups.slug} = ${g.slug}`);
    if (found[0]) return found[0];
    const id = crypto.randomUUID();
    const [row] = await tx
      .insert(groups)
      .values({ id, ...g, kind, parentId: parent?.id ?? null, path: groupPath(id, parent?.path) })
      .returning();
    if (!row) throw new Error("seed: group insert returned nothing");
    return row;
  };
  const district = await upsertGroup(SEED.groups.district, "district");
  const school = await upsertGroup(SEED.groups.school, "school", district);
  const department = await upsertGroup(SEED.groups.department, "department", school);

  await tx
    .insert(groupMembers)
    .values([
      { groupId: district.id, userId: admin.id, role: "admin" },
      { groupId: school.id, userId: principal.id, role: "admin" },
      { groupId: department.id, userId: teacher.id, role: "teacher" },
      ...students.map((s) => ({ groupId: school.id, userId: s.id, role: "member" as const })),
    ])
    .onConflictDoNothing();

  const existingClass = await tx.select().from(classes).where(sql`${classes.groupId} = ${department.id}`);
  let cls = existingClass[0];
  if (!cls) {
    [cls] = await tx.insert(classes).values({ groupId: department.id, name: "Biology 9A", term: "2026 Fall" }).returning();
  }
  if (!cls) throw new Error("seed: class insert returned nothing");
  await tx
    .insert(classMembers)
    .values([{ classId: cls.id, userId: teacher.id, role: "teacher" }, ...students.map((s) => ({ classId: cls.id, userId: s.id, role: "student" as const }))])
    .onConflictDoNothing();

  const existingTool = await tx.select().from(tools).where(sql`${tools.groupId} = ${school.id} and ${tools.kind} = 'chat'`);
  let tool = existingTool[0];
  if (!tool) {
    [tool] = await tx.insert(tools).values({ groupId: school.id, kind: "chat", name: "Socratic biology tutor", createdBy: teacher.id }).returning();
    if (!tool) throw new Error("seed: tool insert returned nothing");
    await tx.insert(toolVersions).values({
      toolId: tool.id,
      version: 1,
      name: tool.name,
      createdBy: teacher.id,
      definition: {
        systemPrompt: "You are a patient biology tutor for 14-year-olds. Guide with questions; never just give the answer.",
        model: null,
        modules: { "pii-filter": { enabled: true }, "safety-filter": { enabled: true }, "struggle-detector": { enabled: true } },
      },
    });
  }
  await seedQuizMaker(tx, school.id, teacher.id);
  const existingAssignment = await tx.select().from(assignments).where(sql`${assignments.classId} = ${cls.id}`);
  let assignment = existingAssignment[0];
  if (!assignment) {
    [assignment] = await tx
      .insert(assignments)
      .values({
        classId: cls.id,
        toolId: tool.id,
        toolVersion: 1,
        title: "Photosynthesis: explain it back",
        instructions: "Chat with the tutor until you can explain photosynthesis in your own words.",
        maxAttempts: 3,
        createdBy: teacher.id,
      })
      .returning();
  }
  if (!assignment) throw new Error("seed: assignment insert returned nothing");
  return { classId: cls.id, toolId: tool.id, assignmentId: assignment.id };
}

/** A product tool, so the console's product tools page has a form to fill on a fresh database. */
async function seedQuizMaker(tx: DbOrTx, schoolId: string, teacherId: string) {
  const [existing] = await tx.select().from(tools).where(sql`${tools.groupId} = ${schoolId} and ${tools.kind} = 'product'`);
  if (existing) return;
  const [tool] = await tx.insert(tools).values({ groupId: schoolId, kind: "product", name: "Quiz maker", createdBy: teacherId }).returning();
  if (!tool) throw new Error("seed: tool insert returned nothing");
  await tx.insert(toolVersions).values({
    toolId: tool.id,
    version: 1,
    name: tool.name,
    createdBy: teacherId,
    definition: {
      systemPrompt: "You write short, accurate practice quizzes for secondary-school students, with an answer key at the end.",
      model: null,
      modules: { "pii-filter": { enabled: true }, "safety-filter": { enabled: true } },
      form: [
        { type: "text", name: "topic", label: "Topic", required: true, minLength: 3, maxLength: 200 },
        { type: "number", name: "questions", label: "Number of questions", required: true, min: 1, max: 20, integer: true },
        { type: "select", name: "level", label: "Level", required: true, options: ["beginner", "intermediate", "advanced"] },
        { type: "boolean", name: "answerKey", label: "Include an answer key", required: false },
        { type: "text", name: "notes", label: "Anything else", required: false, maxLength: 1000, multiline: true },
      ],
      promptTemplate: "Write a {{level}} quiz of {{questions}} questions about {{topic}}. Answer key: {{answerKey}}. Notes: {{notes}}",
    },
  });
}
