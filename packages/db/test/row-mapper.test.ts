// A kept prepared statement's rows (preparedOn, row-mapper.ts) come out exactly as drizzle's own
// mapping makes them: the same query run unprepared (drizzle maps it field by field) is the
// reference. Inner and left joins (a missing joined row is null, not an object of nulls), nested
// objects, SQL fields with and without `mapWith`, timestamps as Dates, jsonb, returning clauses.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { eq, sql } from "drizzle-orm";
import type { DbHandle } from "../src/client.ts";
import { preparedOn } from "../src/prepared.ts";
import { groups, messages, sessions, users } from "../src/schema/index.ts";
import { createTestDb, makeGroup, makeMessage, makeSchoolScene, makeSession, makeTool, makeUser } from "../src/testing/index.ts";

let handle: DbHandle;
beforeAll(async () => {
  handle = await createTestDb();
}, 60_000);
afterAll(async () => {
  await handle.close();
});

describe("rows of a kept prepared statement", () => {
  test("a joined select with nested objects, SQL fields and a left join that finds nothing map as drizzle maps them", async () => {
    const { db } = handle;
    const scene = await makeSchoolScene(db);
    const tool = await makeTool(db, scene.school.id);
    const student = await makeUser(db);
    const session = await makeSession(db, { toolId: tool.id, studentId: student.id, groupId: scene.school.id, classId: scene.cls.id });
    await makeMessage(db, { sessionId: session.id, seq: 1, meta: { model: "m", flags: ["a"] } });
    const build = (d: typeof db) =>
      d
        .select({
          session: sessions,
          groupPath: groups.path,
          nested: { seq: messages.seq, createdAt: messages.createdAt, meta: messages.meta },
          author: users,
          count: sql<number>`(select count(*) from ${messages} m where m.session_id = ${sessions.id})`.mapWith(Number),
          raw: sql<string>`'text'`,
          stamp: sql`${messages.createdAt}`.mapWith(messages.createdAt),
        })
        .from(sessions)
        .innerJoin(groups, eq(groups.id, sessions.groupId))
        .innerJoin(messages, eq(messages.sessionId, sessions.id))
        .leftJoin(users, eq(users.id, messages.authorId))
        .where(eq(sessions.id, sql.placeholder("id")));
    const kept = preparedOn(db, "row_mapper_test_select", (d) => build(d).prepare("row_mapper_test_select"));
    const reference = await build(db).execute({ id: session.id });
    const mapped = await kept.execute({ id: session.id });
    // Twice: the mapper is worked out at the first execution and reused.
    const again = await kept.execute({ id: session.id });
    expect(reference).toHaveLength(1);
    expect(reference[0]?.author).toBeNull();
    expect(reference[0]?.session.startedAt).toBeInstanceOf(Date);
    expect(typeof reference[0]?.count).toBe("number");
    expect(mapped).toEqual(reference);
    expect(again).toEqual(reference);
    expect(mapped[0]?.session.startedAt).toBeInstanceOf(Date);
    expect(mapped[0]?.stamp).toBeInstanceOf(Date);
  });

  test("a left join that finds its row gives the object; an update's returning rows map as drizzle maps them", async () => {
    const { db } = handle;
    const scene = await makeSchoolScene(db);
    const tool = await makeTool(db, scene.school.id);
    const student = await makeUser(db);
    const group = await makeGroup(db);
    const session = await makeSession(db, { toolId: tool.id, studentId: student.id, groupId: group.id });
    await makeMessage(db, { sessionId: session.id, seq: 1, authorId: student.id });
    await makeMessage(db, { sessionId: session.id, seq: 2, role: "assistant", state: "streaming" });
    const selectBuild = (d: typeof db) =>
      d
        .select({ message: messages, author: { id: users.id, name: users.name } })
        .from(messages)
        .leftJoin(users, eq(users.id, messages.authorId))
        .where(eq(messages.sessionId, sql.placeholder("id")))
        .orderBy(messages.seq);
    const kept = preparedOn(db, "row_mapper_test_left", (d) => selectBuild(d).prepare("row_mapper_test_left"));
    const reference = await selectBuild(db).execute({ id: session.id });
    expect(reference.map((r) => r.author?.id ?? null)).toEqual([student.id, null]);
    expect(await kept.execute({ id: session.id })).toEqual(reference);

    const updateBuild = (d: typeof db) =>
      d
        .update(messages)
        .set({ content: sql`${sql.placeholder("content")}` })
        .where(eq(messages.sessionId, sql.placeholder("id")))
        .returning();
    const keptUpdate = preparedOn(db, "row_mapper_test_update", (d) => updateBuild(d).prepare("row_mapper_test_update"));
    const updated = await keptUpdate.execute({ id: session.id, content: "x" });
    const [first] = await db.select().from(messages).where(eq(messages.id, updated[0]?.id ?? ""));
    const referenceUpdate = await updateBuild(db).execute({ id: session.id, content: "x" });
    expect(updated).toHaveLength(2);
    expect(updated.find((r) => r.id === first?.id)).toEqual(first);
    expect(updated.sort((a, b) => a.seq - b.seq)).toEqual(referenceUpdate.sort((a, b) => a.seq - b.seq));
  });
});
