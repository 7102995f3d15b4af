import type { DbOrTx } from "../client.ts";
import { groupPath } from "../paths.ts";
import {
  aiModels,
  aiSettings,
  aiUsage,
  auditLog,
  extractions,
  runs,
  submissions,
  themeAssets,
  webhookEvents,
  assignments,
  classMembers,
  classes,
  groupMembers,
  groups,
  messages,
  sessions,
  toolVersions,
  tools,
  users,
  type ClassRole,
  type GroupRole,
  type ToolDefinition,
} from "../schema/index.ts";

let counter = 0;
/** A value unique across this process and across processes sharing a database. */
export function unique(prefix: string): string {
  counter += 1;
  return `${prefix}-${counter}-${crypto.randomUUID().slice(0, 8)}`;
}

function one<T>(rows: T[]): T {
  const row = rows[0];
  if (!row) throw new Error("factory insert returned no row");
  return row;
}

export type UserRow = typeof users.$inferSelect;
export type GroupRow = typeof groups.$inferSelect;

export async function makeUser(db: DbOrTx, over: Partial<typeof users.$inferInsert> = {}) {
  const handle = unique("user");
  return one(
    await db
      .insert(users)
      .values({
        clerkUserId: `user_${handle.replaceAll("-", "")}`,
        email: `${handle}@example.test`,
        name: `Test ${handle}`,
        givenName: "Test",
        familyName: handle,
        ...over,
      })
      .returning(),
  );
}

export async function makeGroup(db: DbOrTx, over: Partial<typeof groups.$inferInsert> & { parent?: GroupRow } = {}) {
  const { parent, ...rest } = over;
  const id = rest.id ?? crypto.randomUUID();
  const slug = unique("group");
  return one(
    await db
      .insert(groups)
      .values({
        id,
        name: `Group ${slug}`,
        slug,
        parentId: parent?.id ?? null,
        path: groupPath(id, parent?.path),
        ...rest,
      })
      .returning(),
  );
}

export async function addGroupMember(db: DbOrTx, groupId: string, userId: string, role: GroupRole) {
  return one(await db.insert(groupMembers).values({ groupId, userId, role }).returning());
}

export async function makeClass(db: DbOrTx, groupId: string, over: Partial<typeof classes.$inferInsert> = {}) {
  return one(
    await db
      .insert(classes)
      .values({ groupId, name: unique("class"), ...over })
      .returning(),
  );
}

export async function addClassMember(db: DbOrTx, classId: string, userId: string, role: ClassRole) {
  return one(await db.insert(classMembers).values({ classId, userId, role }).returning());
}

export async function makeTool(db: DbOrTx, groupId: string, over: Partial<typeof tools.$inferInsert> & { definition?: Partial<ToolDefinition> } = {}) {
  const { definition, ...rest } = over;
  const tool = one(
    await db
      .insert(tools)
      .values({ groupId, kind: "chat", name: unique("tool"), ...rest })
      .returning(),
  );
  const version = one(
    await db
      .insert(toolVersions)
      .values({
        toolId: tool.id,
        version: 1,
        name: tool.name,
        definition: { systemPrompt: "You are a helpful tutor.", ...definition },
        createdBy: tool.createdBy,
      })
      .returning(),
  );
  return { ...tool, version };
}

export async function makeAssignment(db: DbOrTx, classId: string, toolId: string, over: Partial<typeof assignments.$inferInsert> = {}) {
  return one(
    await db
      .insert(assignments)
      .values({ classId, toolId, toolVersion: 1, title: unique("assignment"), ...over })
      .returning(),
  );
}

export async function makeSession(
  db: DbOrTx,
  input: { toolId: string; studentId: string; groupId: string; classId?: string | null } & Partial<typeof sessions.$inferInsert>,
) {
  return one(
    await db
      .insert(sessions)
      .values({ toolVersion: 1, ...input })
      .returning(),
  );
}

export async function makeMessage(db: DbOrTx, input: { sessionId: string; seq: number } & Partial<typeof messages.$inferInsert>) {
  return one(
    await db
      .insert(messages)
      .values({ role: "user", content: unique("message"), ...input })
      .returning(),
  );
}

export async function makeModel(db: DbOrTx, over: Partial<typeof aiModels.$inferInsert> = {}) {
  return one(
    await db
      .insert(aiModels)
      .values({ id: unique("model"), provider: "test", displayName: "Test model", inputPricePer1k: 0.001, outputPricePer1k: 0.002, ...over })
      .returning(),
  );
}

export async function makeAiSettings(db: DbOrTx, over: Partial<typeof aiSettings.$inferInsert>) {
  return one(await db.insert(aiSettings).values(over).returning());
}

/**
 * A small school: district → school → department, a class with one teacher and two students,
 * a district admin, a school admin and a chat tool. Every value unique, so scenes never collide.
 */
export async function makeSchoolScene(db: DbOrTx) {
  const district = await makeGroup(db, { kind: "district" });
  const school = await makeGroup(db, { kind: "school", parent: district });
  const department = await makeGroup(db, { kind: "department", parent: school });
  const districtAdmin = await makeUser(db);
  const schoolAdmin = await makeUser(db);
  const teacher = await makeUser(db);
  const student = await makeUser(db);
  const otherStudent = await makeUser(db);
  await addGroupMember(db, district.id, districtAdmin.id, "admin");
  await addGroupMember(db, school.id, schoolAdmin.id, "admin");
  await addGroupMember(db, department.id, teacher.id, "teacher");
  const cls = await makeClass(db, department.id);
  await addClassMember(db, cls.id, teacher.id, "teacher");
  await addClassMember(db, cls.id, student.id, "student");
  await addClassMember(db, cls.id, otherStudent.id, "student");
  const tool = await makeTool(db, school.id, { createdBy: teacher.id });
  return { district, school, department, districtAdmin, schoolAdmin, teacher, student, otherStudent, cls, tool };
}
export type SchoolScene = Awaited<ReturnType<typeof makeSchoolScene>>;

export async function makeSubmission(db: DbOrTx, input: { assignmentId: string; studentId: string } & Partial<typeof submissions.$inferInsert>) {
  return one(
    await db
      .insert(submissions)
      .values({ attempt: 1, ...input })
      .returning(),
  );
}

export async function makeRun(db: DbOrTx, input: { toolId: string; userId: string; groupId: string } & Partial<typeof runs.$inferInsert>) {
  return one(
    await db
      .insert(runs)
      .values({ toolVersion: 1, input: { prompt: unique("run") }, ...input })
      .returning(),
  );
}

export async function makeExtraction(db: DbOrTx, input: { sessionId: string } & Partial<typeof extractions.$inferInsert>) {
  return one(
    await db
      .insert(extractions)
      .values({ module: "safety-filter", kind: "self-harm", severity: "high", isAlert: true, data: {}, ...input })
      .returning(),
  );
}

export async function makeThemeAsset(db: DbOrTx, groupId: string, over: Partial<typeof themeAssets.$inferInsert> = {}) {
  const sha256 = Array.from(crypto.getRandomValues(new Uint8Array(32)), (b) => b.toString(16).padStart(2, "0")).join("");
  return one(
    await db
      .insert(themeAssets)
      .values({ groupId, key: `groups/${groupId}/assets/${sha256}.png`, contentType: "image/png", sizeBytes: 68, sha256, width: 1, height: 1, ...over })
      .returning(),
  );
}

export async function makeAiUsage(db: DbOrTx, input: { model: string } & Partial<typeof aiUsage.$inferInsert>) {
  return one(
    await db
      .insert(aiUsage)
      .values({ inputTokens: 100, outputTokens: 50, costUsd: 0.0002, latencyMs: 900, ttftMs: 200, status: "complete", ...input })
      .returning(),
  );
}

export async function makeAuditEntry(db: DbOrTx, over: Partial<typeof auditLog.$inferInsert> = {}) {
  return one(
    await db
      .insert(auditLog)
      .values({ action: "test.action", targetType: "test", targetId: unique("target"), ...over })
      .returning(),
  );
}

export async function makeWebhookEvent(db: DbOrTx, over: Partial<typeof webhookEvents.$inferInsert> = {}) {
  return one(
    await db
      .insert(webhookEvents)
      .values({ svixId: `msg_${unique("svix")}`, type: "user.created", ...over })
      .returning(),
  );
}
