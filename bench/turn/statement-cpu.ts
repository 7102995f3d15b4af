/**
 * What one of a turn's Postgres statements costs the calling thread: the runner's started update
 * (`answer_started`, services/live/stream-target.ts) run through drizzle's prepared query on the
 * system lanes, against the same statement handed to postgres-js directly, `BATCH` at once (as a
 * round of concurrent turns starts), CPU time of this process per statement (user + system from
 * `process.cpuUsage`, so a socket write's kernel time is in it). The update matches no row, so the
 * server's work is small and the same for every variant. And a wide select of two rows (a
 * session, its group's path, a message) mapped by drizzle against its arrays unmapped: what
 * drizzle's row mapping costs.
 *
 *   BENCH_DATABASE_URL=postgres://… bun bench/turn/statement-cpu.ts
 * Knobs: BENCH_STMT_BATCH=50 BENCH_STMT_ROUNDS=200
 */
import { createDb, groups, messages, sessions } from "../../packages/db/src/index.ts";
import { makeMessage, makeSchoolScene, makeSession } from "../../packages/db/src/testing/factories.ts";
import { and, eq, sql } from "../../packages/db/node_modules/drizzle-orm";
import postgres from "../../packages/db/node_modules/postgres";
import { createBenchDatabase } from "../live/infra.ts";

const BATCH = Number(process.env.BENCH_STMT_BATCH ?? 50);
const ROUNDS = Number(process.env.BENCH_STMT_ROUNDS ?? 200);

const bench = await createBenchDatabase();
if ("error" in bench) {
  console.log(`SKIP: ${bench.error} (set BENCH_DATABASE_URL)`);
  process.exit(0);
}
const handle = await createDb({ url: bench.url });
try {
  await handle.migrate();
  const { db } = handle;
  const value = (name: string) => sql`${sql.placeholder(name)}`;
  const started = db
    .update(messages)
    .set({ meta: sql`${messages.meta} || ${sql.placeholder("meta")}::jsonb`, checkpointOffset: value("offset"), checkpointEpoch: value("epoch") })
    .where(and(eq(messages.id, sql.placeholder("id")), eq(messages.state, "streaming")))
    .prepare("bench_started");
  const select1 = db
    .select({ one: sql<number>`1` })
    .from(messages)
    .where(eq(messages.id, sql.placeholder("id")))
    .prepare("bench_select");
  const startedText = started.getQuery().sql;
  // Wide rows as the turn's read and returning clauses give (a session with its group path and a
  // message row, twice), mapped by drizzle field by field, and the same text's rows unmapped.
  const scene = await makeSchoolScene(db);
  const session = await makeSession(db, { toolId: scene.tool.id, studentId: scene.student.id, groupId: scene.school.id, classId: scene.cls.id });
  await makeMessage(db, { sessionId: session.id, seq: 1 });
  await makeMessage(db, { sessionId: session.id, seq: 2, role: "assistant" });
  // The same statements handed to one postgres-js connection (as a lane is), without drizzle.
  const raw = postgres(bench.url, { max: 1, prepare: true, onnotice: () => {} });
  const wide = (d: typeof db) =>
    d
      .select({ session: sessions, groupPath: groups.path, message: messages })
      .from(sessions)
      .innerJoin(groups, eq(groups.id, sessions.groupId))
      .innerJoin(messages, eq(messages.sessionId, sessions.id))
      .where(eq(sessions.id, sql.placeholder("id")));
  const wideDrizzle = wide(db).prepare("bench_wide_drizzle");
  const wideText = wideDrizzle.getQuery().sql;
  const variants: Record<string, () => Promise<unknown>> = {
    "wide select, 2 rows, drizzle's mapping": () => wideDrizzle.execute({ id: session.id }),
    "wide select, 2 rows, postgres-js arrays (no mapping)": () => raw.unsafe(wideText, [session.id], { prepare: true }).values(),
    "postgres-js unsafe, prepared (same update text)": () => raw.unsafe(startedText, [7, "e", '{"model":"m"}', crypto.randomUUID(), "streaming"], { prepare: true }),
    "drizzle prepared update (answer_started)": () => started.execute({ id: crypto.randomUUID(), meta: '{"model":"m"}', offset: 7, epoch: "e" }),
    "drizzle prepared select by id (no row)": () => select1.execute({ id: crypto.randomUUID() }),
  };
  const cpu = () => {
    const u = process.cpuUsage();
    return (u.user + u.system) / 1000;
  };
  for (let pass = 0; pass < 2; pass++) {
    for (const [name, run] of Object.entries(variants)) {
      const c0 = cpu();
      const t0 = performance.now();
      for (let r = 0; r < ROUNDS; r++) await Promise.all(Array.from({ length: BATCH }, run));
      const n = ROUNDS * BATCH;
      if (pass === 1)
        console.log(
          `${name}: ${(((cpu() - c0) / n) * 1000).toFixed(1)} µs CPU per statement, ${(((performance.now() - t0) / n) * 1000).toFixed(1)} µs wall, ${BATCH} at once`,
        );
    }
  }
  await raw.end();
} finally {
  await handle.close();
  await bench.drop();
}
