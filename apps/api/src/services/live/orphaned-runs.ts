import { renderPrompt } from "@raptscallions/core";
import { type Db, runs, toolVersions } from "@raptscallions/db";
import { estimateTokens } from "@raptscallions/gateway";
import { and, eq, lt, sql } from "drizzle-orm";
import { reservationSubject } from "../../lib/ai-service.ts";
import { type RunRow, runRoom } from "../runs/dto.ts";
import { publishRunFinished } from "../runs/run-target.ts";
import { deltaReader, type InterruptedUsage, type OrphanKind, recordInterruptedCall } from "./orphan-kind.ts";

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
  async finalise(deps, orphan, content, cutoff) {
    const { db, bus, clock, logger } = deps;
    const now = clock.now();
    const [row] = await db
      .update(runs)
      .set({ state: "interrupted", output: content, finishedAt: now, streamOwner: null })
      .where(and(eq(runs.id, orphan.id), eq(runs.state, "running"), lt(runs.heartbeatAt, cutoff), sql`coalesce(${runs.output}, '') = ${orphan.content}`))
      .returning();
    if (!row) return false;
    logger.warn("finalised an interrupted run", { runId: row.id });
    await publishRunFinished(bus, logger, row);
    try {
      await recordInterruptedCall(deps, reservationSubject({ runId: row.id }), await interruptedUsage(db, row));
    } catch (err) {
      logger.warn("usage for interrupted run failed", { runId: row.id, err });
    }
    return true;
  },
};

/**
 * As for an interrupted answer: estimated from the prompt the run's pinned version renders from its
 * stored inputs and the output it holds; null when it never started streaming.
 */
async function interruptedUsage(db: Db, row: RunRow): Promise<InterruptedUsage | null> {
  const model = typeof row.meta.model === "string" ? row.meta.model : null;
  if (!model) return null;
  const [version] = await db
    .select({ definition: toolVersions.definition })
    .from(toolVersions)
    .where(and(eq(toolVersions.toolId, row.toolId), eq(toolVersions.version, row.toolVersion)));
  const template = version?.definition.promptTemplate;
  const prompt = typeof template === "string" ? renderPrompt(template, row.input) : JSON.stringify(row.input);
  return {
    scope: { userId: row.userId, groupId: row.groupId, classId: row.classId, toolId: row.toolId, runId: row.id, assignmentId: row.assignmentId },
    model,
    inputTokens: estimateTokens(prompt),
    outputTokens: estimateTokens(row.output ?? ""),
  };
}
