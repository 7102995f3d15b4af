import { renderPrompt } from "@raptscallions/core";
import { type Db, runs, toolVersions } from "@raptscallions/db";
import { estimateTokens } from "@raptscallions/gateway";
import { and, eq, lt, sql } from "drizzle-orm";
import type { Logger } from "../../lib/logger.ts";
import { type RunRow, runRoom } from "../runs/dto.ts";
import { publishRunFinished } from "../runs/run-target.ts";
import { deltaReader, insertEstimatedUsage, type OrphanKind } from "./orphan-kind.ts";

/** Product tool runs a dead instance left `running`. */
export const orphanedRuns: OrphanKind = {
  name: "run",
  async stale(db, cutoff) {
    const rows = await db
      .select({ id: runs.id, content: runs.output, checkpointOffset: runs.checkpointOffset, checkpointEpoch: runs.checkpointEpoch })
      .from(runs)
      .where(and(eq(runs.state, "running"), lt(runs.heartbeatAt, cutoff)))
      .limit(200);
    return rows.map((r) => ({ ...r, content: r.content ?? "", room: runRoom(r.id) }));
  },
  deltaOf: deltaReader("run.delta", "runId"),
  async finalise({ db, bus, clock, logger }, orphan, content, cutoff) {
    const now = clock.now();
    const [row] = await db
      .update(runs)
      .set({ state: "interrupted", output: content, finishedAt: now, streamOwner: null })
      .where(and(eq(runs.id, orphan.id), eq(runs.state, "running"), lt(runs.heartbeatAt, cutoff), sql`coalesce(${runs.output}, '') = ${orphan.content}`))
      .returning();
    if (!row) return false;
    logger.warn("finalised an interrupted run", { runId: row.id });
    await publishRunFinished(bus, logger, row);
    await recordInterruptedUsage(db, logger, row).catch((err) => logger.warn("usage for interrupted run failed", { runId: row.id, err }));
    return true;
  },
};

/**
 * As for an interrupted answer: an estimated usage row, from the prompt the run's pinned version
 * renders from its stored inputs and the output it holds, so budgets and reports count it.
 */
async function recordInterruptedUsage(db: Db, logger: Logger, row: RunRow): Promise<void> {
  const model = typeof row.meta.model === "string" ? row.meta.model : null;
  // No model recorded: the run never started streaming, so nothing was billed.
  if (!model) return;
  const [version] = await db
    .select({ definition: toolVersions.definition })
    .from(toolVersions)
    .where(and(eq(toolVersions.toolId, row.toolId), eq(toolVersions.version, row.toolVersion)));
  const template = version?.definition.promptTemplate;
  const prompt = typeof template === "string" ? renderPrompt(template, row.input) : JSON.stringify(row.input);
  const inputTokens = estimateTokens(prompt);
  const outputTokens = estimateTokens(row.output ?? "");
  await insertEstimatedUsage(
    db,
    { userId: row.userId, groupId: row.groupId, classId: row.classId, toolId: row.toolId, runId: row.id, assignmentId: row.assignmentId },
    model,
    { inputTokens, outputTokens },
  );
  logger.info("recorded estimated usage for an interrupted run", { runId: row.id, model, inputTokens, outputTokens });
}
