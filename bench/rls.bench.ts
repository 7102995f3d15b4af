/**
 * What row-level security costs per statement (docs/database.md, "Roles and row-level security").
 *
 * The ten statements a chat turn runs most (bench/README.md, turn.bench.ts's list), each with the
 * same shape and indexes as the app's, timed one at a time in five ways, interleaved per round so
 * load on the machine hits every way alike:
 *
 * - `owner`: the tables' owner, standalone: no policy at all (the app before row-level security).
 * - `system`: the app role with the system reach on its connection (jobs, webhooks, the runner).
 * - `scoped`: a person's scope, standalone, on the tenant pool's lanes: a `set_config` in the same
 *   write only when the lane held another reach (here the district changes every fourth round).
 * - `owner tx`: the owner inside `begin … commit` (code that already runs a transaction).
 * - `scoped tx`: a person's scope inside a transaction: one `set_config` more (a simple query),
 *   sent unawaited.
 *
 * Needs Postgres (BENCH_DATABASE_URL; a fresh database, dropped after). Knobs: BENCH_RLS_ROUNDS=300,
 * BENCH_RLS_DISTRICTS=5, BENCH_RLS_SESSIONS=40 (per district), BENCH_RLS_MESSAGES=40 (per session).
 */
import { type Db, type DbHandle, aiModels, aiUsage, createDb, extractions, groups, messages, sessions, users } from "../packages/db/src/index.ts";
import { addClassMember, addGroupMember, makeClass, makeGroup, makeSession, makeTool, makeUser } from "../packages/db/src/testing/index.ts";
import { and, desc, eq, lte, sql } from "../packages/db/node_modules/drizzle-orm";
import { drizzle } from "../packages/db/node_modules/drizzle-orm/postgres-js";
import { mkdirSync, writeFileSync } from "node:fs";
import { cpus, loadavg } from "node:os";
import { join } from "node:path";
import postgres from "../packages/db/node_modules/postgres";
import { createBenchDatabase } from "./live/infra.ts";

const num = (name: string, fallback: number) => Number(process.env[name] ?? fallback);
const ROUNDS = num("BENCH_RLS_ROUNDS", 300);
const DISTRICTS = num("BENCH_RLS_DISTRICTS", 5);
const SESSIONS = num("BENCH_RLS_SESSIONS", 40);
const MESSAGES = num("BENCH_RLS_MESSAGES", 40);

type Way = "owner" | "system" | "scoped" | "owner tx" | "scoped tx";
const WAYS: Way[] = ["owner", "system", "scoped", "owner tx", "scoped tx"];

interface Target {
  sessionId: string;
  groupId: string;
  studentId: string;
  teacherId: string;
  messageId: string;
  model: string;
  seq: number;
}

/** The turn's ten commonest statements, as the app builds them (one query builder each). */
const STATEMENTS: { name: string; run: (db: Db, t: Target) => Promise<unknown> }[] = [
  {
    name: "session for send (sessions ⋈ groups)",
    run: (db, t) =>
      db.select({ session: sessions, groupPath: groups.path }).from(sessions).innerJoin(groups, eq(groups.id, sessions.groupId)).where(eq(sessions.id, t.sessionId)),
  },
  {
    name: "modules settings up the group chain",
    run: (db, t) =>
      db.execute(
        sql`select json_agg(json_build_object('id', g.id, 'modules', g.settings->'modules') order by nlevel(g.path)) from ${groups} g where g.path @> (select p.path from ${groups} p where p.id = ${t.groupId})`,
      ),
  },
  {
    name: "recent messages of the session",
    run: (db, t) =>
      db
        .select({ seq: messages.seq, role: messages.role, content: messages.content, state: messages.state, meta: messages.meta })
        .from(messages)
        .where(and(eq(messages.sessionId, t.sessionId), lte(messages.seq, t.seq)))
        .orderBy(desc(messages.seq))
        .limit(20),
  },
  {
    name: "AI settings up the group chain",
    run: (db, t) =>
      db.execute(
        sql`select s.group_id, s.default_model, s.requests_per_minute from ai_settings s join ${groups} g on g.id = s.group_id where g.path @> (select p.path from ${groups} p where p.id = ${t.groupId}) order by nlevel(g.path) desc`,
      ),
  },
  {
    name: "checkpoint (update messages)",
    run: (db, t) =>
      db
        .update(messages)
        .set({ meta: sql`${messages.meta} || '{"checkpoint":1}'::jsonb` })
        .where(eq(messages.id, t.messageId)),
  },
  {
    name: "usage (insert ai_usage)",
    run: (db, t) =>
      db.insert(aiUsage).values({
        userId: t.studentId,
        groupId: t.groupId,
        sessionId: t.sessionId,
        model: t.model,
        inputTokens: 10,
        outputTokens: 20,
        costUsd: 0.0001,
        status: "complete",
      }),
  },
  {
    name: "claim seqs (update sessions returning)",
    run: (db, t) =>
      db.update(sessions).set({ updatedAt: new Date() }).where(eq(sessions.id, t.sessionId)).returning({ lastSeq: sessions.lastSeq, state: sessions.state }),
  },
  {
    name: "answer row (insert messages)",
    run: async (db, t) => {
      const seq = 1_000_000 + Math.floor(Math.random() * 1_000_000_000);
      await db.insert(messages).values({ sessionId: t.sessionId, seq, role: "assistant", content: "answer", state: "complete" });
    },
  },
  {
    name: "finding (insert extractions)",
    run: (db, t) => db.insert(extractions).values({ sessionId: t.sessionId, groupId: t.groupId, module: "bench", kind: "signal", severity: "info", data: {} }),
  },
  {
    name: "who is asking (users by id)",
    run: (db, t) => db.select({ id: users.id, status: users.status }).from(users).where(eq(users.id, t.teacherId)),
  },
];

function percentile(sorted: number[], p: number): number {
  const i = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[i] ?? Number.NaN;
}

async function seed(handle: DbHandle): Promise<{ targets: Target[]; reach: { tenantIds: string[]; userId: string }[] }> {
  const db = handle.db;
  const model = `bench-${crypto.randomUUID().slice(0, 6)}`;
  await db.insert(aiModels).values({ id: model, provider: "bench", displayName: model });
  const targets: Target[] = [];
  const reach: { tenantIds: string[]; userId: string }[] = [];
  for (let d = 0; d < DISTRICTS; d++) {
    const district = await makeGroup(db, { kind: "district" });
    const school = await makeGroup(db, { kind: "school", parent: district });
    const teacher = await makeUser(db);
    await addGroupMember(db, school.id, teacher.id, "teacher");
    const cls = await makeClass(db, school.id);
    await addClassMember(db, cls.id, teacher.id, "teacher");
    const tool = await makeTool(db, school.id);
    for (let s = 0; s < SESSIONS; s++) {
      const student = await makeUser(db);
      await addClassMember(db, cls.id, student.id, "student");
      const session = await makeSession(db, { toolId: tool.id, studentId: student.id, groupId: school.id, classId: cls.id });
      const rows = Array.from({ length: MESSAGES }, (_, i) => ({
        sessionId: session.id,
        seq: i + 1,
        role: (i % 2 === 0 ? "user" : "assistant") as "user" | "assistant",
        content: `message ${i} of a bench session, long enough to look like a turn of a real chat`,
        state: "complete" as const,
      }));
      const inserted = await db.insert(messages).values(rows).returning({ id: messages.id });
      await db.update(sessions).set({ lastSeq: MESSAGES }).where(eq(sessions.id, session.id));
      const messageId = inserted[inserted.length - 1]?.id;
      if (!messageId) throw new Error("no message");
      if (s < 4) targets.push({ sessionId: session.id, groupId: school.id, studentId: student.id, teacherId: teacher.id, messageId, model, seq: MESSAGES });
    }
    reach.push({ tenantIds: [district.id], userId: teacher.id });
  }
  await db.execute(sql`analyze`);
  return { targets, reach };
}

async function main(): Promise<number> {
  const bench = await createBenchDatabase();
  if ("error" in bench) {
    console.log(`SKIP rls bench: ${bench.error} (set BENCH_DATABASE_URL)`);
    return 0;
  }
  const loadBefore = loadavg()
    .map((l) => l.toFixed(2))
    .join(" ");
  const handle = await createDb({ url: bench.url, maxConnections: 2 });
  const ownerSql = postgres(bench.url, { max: 2, onnotice: () => {} });
  const owner = drizzle(ownerSql) as unknown as Db;
  try {
    await handle.migrate();
    const started = performance.now();
    const { targets, reach } = await seed(handle);
    console.log(
      `rls: load ${loadBefore} on ${cpus().length} CPUs; ${DISTRICTS} districts × ${SESSIONS} sessions × ${MESSAGES} messages seeded in ${((performance.now() - started) / 1000).toFixed(1)} s; ${ROUNDS} rounds`,
    );
    const times = new Map<string, number[]>();
    const record = (statement: string, way: Way, ms: number) => {
      const key = `${statement}|${way}`;
      const list = times.get(key) ?? [];
      list.push(ms);
      times.set(key, list);
    };
    const dbOf = (way: Way, i: number): Db => {
      const scope = reach[i % reach.length];
      if (!scope) throw new Error("no scope");
      if (way === "owner" || way === "owner tx") return owner;
      if (way === "system") return handle.db;
      return handle.scoped(scope);
    };
    for (let round = 0; round < ROUNDS; round++) {
      for (const statement of STATEMENTS) {
        const targetIndex = round % targets.length;
        const target = targets[targetIndex];
        if (!target) throw new Error("no target");
        // A district's teacher's scope for that district's session.
        const districtIndex = Math.floor(targetIndex / 4);
        const order = [...WAYS].sort(() => Math.random() - 0.5);
        for (const way of order) {
          const db = dbOf(way, districtIndex);
          const t0 = performance.now();
          if (way.endsWith(" tx")) await db.transaction((tx: unknown) => statement.run(tx as unknown as Db, target));
          else await statement.run(db, target);
          if (round >= 10) record(statement.name, way, performance.now() - t0);
        }
      }
    }
    const rows = STATEMENTS.map((s) => {
      const cells = Object.fromEntries(
        WAYS.map((way) => {
          const sorted = [...(times.get(`${s.name}|${way}`) ?? [])].sort((a, b) => a - b);
          return [way, { p50: Number(percentile(sorted, 50).toFixed(3)), p99: Number(percentile(sorted, 99).toFixed(3)) }];
        }),
      );
      return { statement: s.name, ...cells };
    });
    const loadAfter = loadavg()
      .map((l) => l.toFixed(2))
      .join(" ");
    console.log(`\nms per statement, p50 / p99 (load before ${loadBefore}, after ${loadAfter})`);
    console.log(`| statement | ${WAYS.join(" | ")} |`);
    console.log(`|---|${WAYS.map(() => "---").join("|")}|`);
    for (const r of rows) {
      const cells = WAYS.map((w) => {
        const c = (r as unknown as Record<Way, { p50: number; p99: number }>)[w];
        return `${c.p50.toFixed(2)} / ${c.p99.toFixed(2)}`;
      });
      console.log(`| ${r.statement} | ${cells.join(" | ")} |`);
    }
    const dir = join(import.meta.dir, "results");
    mkdirSync(dir, { recursive: true });
    const file = join(dir, `rls-${new Date().toISOString().replace(/[:.]/g, "-")}.json`);
    writeFileSync(
      file,
      `${JSON.stringify({ startedAt: new Date().toISOString(), load: { before: loadBefore, after: loadAfter }, config: { ROUNDS, DISTRICTS, SESSIONS, MESSAGES }, rows }, null, 2)}\n`,
    );
    console.log(`\nwrote ${file}`);
    return 0;
  } finally {
    await ownerSql.end({ timeout: 5 });
    await handle.close();
    await bench.drop();
  }
}

process.exit(await main());
