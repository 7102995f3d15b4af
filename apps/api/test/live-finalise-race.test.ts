import { describe, expect, test } from "bun:test";
import { aiUsage, messages } from "@raptscallions/db";
import { makeSchoolScene, makeSession } from "@raptscallions/db/testing";
import { eq, sql } from "drizzle-orm";
import type { UsageRow } from "../src/lib/ai-service.ts";
import { createMemoryLogger } from "../src/lib/logger.ts";
import { answerTarget } from "../src/services/live/stream-target.ts";
import { testDatabaseUrl, useHarness } from "./helpers/harness.ts";
import { makeStaleAnswer } from "./helpers/live.ts";

/**
 * A finaliser that comes back late (its instance stalled past the stale limit) while the sweeper
 * finalises the same answer: the sweeper's transaction commits after the finaliser's statement took
 * its snapshot but before it got the row's lock. The answer's usage is the sweeper's estimated row
 * alone — the finaliser's statement, finding the row no longer streaming once it holds the lock,
 * writes neither the answer nor a second usage row. The race itself on Postgres only: PGlite runs
 * one statement at a time on its one connection, so no statement can commit inside another there.
 */
const h = useHarness();
const MSG = "finalising with the usage row failed; writing them apart";

/** A streaming answer of a stalled instance, its target (the finaliser) and the usage rows of its call. */
async function stalledAnswer() {
  const scene = await makeSchoolScene(h.db.db);
  const session = await makeSession(h.db.db, { toolId: scene.tool.id, studentId: scene.student.id, groupId: scene.department.id, classId: scene.cls.id });
  const messageId = (await makeStaleAnswer(h.db.db, { sessionId: session.id, seq: 2, content: "Partial", streamOwner: "stalled" })).id;
  const scope = { userId: scene.student.id, groupId: session.groupId, classId: scene.cls.id, sessionId: session.id, messageId, model: "dev-tutor" };
  const logger = createMemoryLogger();
  const target = answerTarget({ db: h.db.db, bus: h.deps.bus, logger }, { sessionId: session.id, classId: scene.cls.id, messageId });
  const ownUsage: UsageRow = { ...scope, inputTokens: 10, outputTokens: 7, costUsd: 0.000024, status: "complete", estimated: false };
  return {
    messageId,
    sweeperUsage: { ...scope, inputTokens: 10, outputTokens: 3, status: "interrupted" as const, estimated: true },
    finalise: () => target.finalize("complete", "Partial answer, and the rest", {}, new Date(), ownUsage),
    // The one statement ran, not the fallback that writes the answer and its usage apart.
    ranAsOneStatement: () => !logger.lines.some((l) => l.msg === MSG),
    usageRows: () => h.db.db.select().from(aiUsage).where(eq(aiUsage.messageId, messageId)),
    answerRow: async () => (await h.db.db.select().from(messages).where(eq(messages.id, messageId)))[0],
  };
}

describe("a late finaliser", () => {
  test("with no sweeper about, writes the answer and its one usage row in its statement", async () => {
    const a = await stalledAnswer();
    await a.finalise();
    expect(a.ranAsOneStatement()).toBe(true);
    expect(await a.answerRow()).toMatchObject({ state: "complete", content: "Partial answer, and the rest" });
    expect(await a.usageRows()).toMatchObject([{ status: "complete", estimated: false, outputTokens: 7 }]);
  });

  test.skipIf(!testDatabaseUrl)(
    "writes no second usage row when the sweeper commits between its snapshot and its row lock (Postgres)",
    async () => {
      const a = await stalledAnswer();
      // The sweeper, on a connection of its own: finalises the answer and writes its estimated usage,
      // and holds its transaction open until the late finaliser's statement waits for the row.
      const sweeperDb = await h.otherPool(1);
      let finaliser: Promise<void> | undefined;
      await sweeperDb.db.transaction(async (tx) => {
        await tx
          .update(messages)
          .set({ state: "interrupted", content: "Partial answer", finalizedAt: new Date(), streamOwner: null })
          .where(eq(messages.id, a.messageId));
        await tx.insert(aiUsage).values(a.sweeperUsage);
        finaliser = a.finalise();
        const [backend] = rowsOf<{ pid: number }>(await tx.execute(sql`select pg_backend_pid() as pid`));
        await waitUntilBlockedBy(backend?.pid ?? 0);
      });
      await finaliser;
      expect(a.ranAsOneStatement()).toBe(true);
      expect(await a.answerRow()).toMatchObject({ state: "interrupted", content: "Partial answer" });
      expect(await a.usageRows()).toMatchObject([{ status: "interrupted", estimated: true, outputTokens: 3 }]);
    },
    30_000,
  );
});

/** Until a statement (the finaliser's) waits for the sweeper's row lock: it has its snapshot then. */
async function waitUntilBlockedBy(sweeperPid: number): Promise<void> {
  for (let i = 0; i < 500; i++) {
    const [row] = rowsOf<{ n: number }>(
      await h.db.db.execute(sql`select count(*)::int as n from pg_stat_activity where ${sweeperPid}::int = any(pg_blocking_pids(pid))`),
    );
    if ((row?.n ?? 0) > 0) return;
    await Bun.sleep(10);
  }
  throw new Error("the finaliser never waited for the sweeper's row lock");
}

/** postgres-js answers `execute` with the rows themselves (the race runs on Postgres only). */
function rowsOf<T>(result: unknown): T[] {
  return Array.from(result as Iterable<T>);
}
