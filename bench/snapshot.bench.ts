/**
 * A late joiner's snapshot of a long session: rows read and time of the messages query the
 * snapshot runs now (newest first, `LIMIT 201` along the (session, seq) index) against the one it
 * ran before (every message of the session in seq order, the last 200 kept in memory), on the same
 * session in the same run. `BENCH_SNAPSHOT_MESSAGES` messages (default 5,000 and 200).
 * Uses Postgres at BENCH_DATABASE_URL (a scratch schema is not needed: the rows are removed after)
 * or, without it, embedded PGlite.
 *
 *   bun bench/snapshot.bench.ts
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { asc, desc, eq } from "../packages/db/node_modules/drizzle-orm";
import { createDb, messages, sessions } from "../packages/db/src/index.ts";
import { makeSchoolScene, makeSession } from "../packages/db/src/testing/index.ts";

const SIZES = (process.env.BENCH_SNAPSHOT_MESSAGES ?? "5000,200").split(",").map(Number);
const SAMPLES = Number(process.env.BENCH_SAMPLES ?? 50);
const KEEP = 200;

const dir = mkdtempSync(join(tmpdir(), "rapt-bench-snapshot-"));
const url = process.env.BENCH_DATABASE_URL;
const handle = await createDb(url ? { url } : { dataDir: join(dir, "pg") });
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? Number.NaN;

try {
  await handle.migrate();
  const db = handle.db;
  const scene = await makeSchoolScene(db);
  console.log(`snapshot messages query on ${url ? "Postgres" : "PGlite"}, median of ${SAMPLES}`);
  for (const size of SIZES) {
    const session = await makeSession(db, { toolId: scene.tool.id, studentId: scene.student.id, groupId: scene.department.id, classId: scene.cls.id });
    for (let from = 0; from < size; from += 1000) {
      const rows = Array.from({ length: Math.min(1000, size - from) }, (_, i) => ({
        sessionId: session.id,
        seq: from + i + 1,
        role: (from + i) % 2 ? ("assistant" as const) : ("user" as const),
        state: (from + i) % 2 ? ("complete" as const) : null,
        content: `A message of ordinary length, the kind a student or a tutor writes in a chat, number ${from + i + 1}.`,
      }));
      await db.insert(messages).values(rows);
    }
    const before = async () => {
      const rows = await db.select().from(messages).where(eq(messages.sessionId, session.id)).orderBy(asc(messages.seq));
      return { read: rows.length, kept: rows.slice(-KEEP).length };
    };
    const after = async () => {
      const rows = await db
        .select()
        .from(messages)
        .where(eq(messages.sessionId, session.id))
        .orderBy(desc(messages.seq))
        .limit(KEEP + 1);
      return { read: rows.length, kept: rows.slice(0, KEEP).length };
    };
    const measure = async (q: () => Promise<{ read: number; kept: number }>) => {
      const times: number[] = [];
      let last = { read: 0, kept: 0 };
      for (let i = 0; i < SAMPLES; i++) {
        const t = performance.now();
        last = await q();
        times.push(performance.now() - t);
      }
      return { ...last, ms: median(times) };
    };
    await before();
    await after();
    const b = await measure(before);
    const a = await measure(after);
    console.log(
      `${size} messages: before ${b.read} rows read, ${b.ms.toFixed(2)} ms; after ${a.read} rows read, ${a.ms.toFixed(2)} ms (before/after ${(b.ms / a.ms).toFixed(1)}×), both send ${a.kept}`,
    );
    await db.delete(messages).where(eq(messages.sessionId, session.id));
    await db.delete(sessions).where(eq(sessions.id, session.id));
  }
} finally {
  await handle.close();
  rmSync(dir, { recursive: true, force: true });
}
