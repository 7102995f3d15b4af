import type { Bus } from "@raptscallions/bus";
import { aiUsage, type Db, runs } from "@raptscallions/db";
import { and, eq, sql } from "drizzle-orm";
import type { StreamTarget } from "../../lib/ai-service.ts";
import type { Logger } from "../../lib/logger.ts";
import { classRoom, publishBestEffort } from "../rooms.ts";
import { type RunRow, runRoom, toRunDto } from "./dto.ts";

/**
 * A product tool's run as the live runner streams it: the `runs` row (output checkpointed with the
 * room offset it reached, exactly as a chat answer's message row) and the run's own room. Each
 * write is conditional on the run still `running`, so the sweeper and the runner cannot both
 * finalise it.
 */
export function runTarget(
  deps: { db: Db; bus: Bus; logger: Logger; afterRun?: (row: RunRow) => Promise<void> },
  run: { id: string; classId: string | null; epoch: string | null; offset: number | null },
): StreamTarget {
  const running = and(eq(runs.id, run.id), eq(runs.state, "running"));
  const merge = (meta: Record<string, unknown>) => sql`${runs.meta} || ${JSON.stringify(meta)}::jsonb`;
  return {
    id: run.id,
    room: runRoom(run.id),
    epoch: run.epoch,
    offset: run.offset,
    delta: (charOffset, text) => ({ type: "run.delta", payload: { runId: run.id, charOffset, text } }),
    stopType: "run.stop-requested",
    isStopRequest: (ev) => ev.type === "run.stop-requested" && (ev.payload as { runId?: string } | null)?.runId === run.id,
    async recordStarted(model) {
      await deps.db
        .update(runs)
        .set({ meta: merge({ model }), ...(run.offset !== null ? { checkpointOffset: run.offset, checkpointEpoch: run.epoch } : {}) })
        .where(running);
    },
    async checkpoint(text, offset, epoch, model, at) {
      await deps.db
        .update(runs)
        .set({ output: text, checkpointOffset: offset, checkpointEpoch: epoch, heartbeatAt: at, meta: merge(model ? { model } : {}) })
        .where(running);
    },
    async checkpointForAnnounce(text, offset, epoch, model, at) {
      const [row] = await deps.db
        .update(runs)
        .set({ output: text, checkpointOffset: offset, checkpointEpoch: epoch, heartbeatAt: at, meta: merge(model ? { model } : {}) })
        .where(running)
        .returning();
      return row ? { type: "run.started", payload: { run: toRunDto(row) } } : null;
    },
    async finalize(state, content, meta, at, usage) {
      const [row] = await deps.db
        .update(runs)
        .set({ state, output: content, meta: merge(meta), finishedAt: at, streamOwner: null, heartbeatAt: at })
        .where(running)
        .returning();
      // A sweeper that finalised the run first (this instance stalled and came back) wrote the
      // call's usage row and settled its limits to it: no second row.
      if (!row) return;
      if (usage) {
        await deps.db
          .insert(aiUsage)
          .values(usage)
          .catch((err: unknown) => deps.logger.error("writing the ai_usage row failed", { err, runId: run.id, model: usage.model }));
      }
      await publishRunFinished(deps.bus, deps.logger, row);
      if (deps.afterRun) {
        try {
          await deps.afterRun(row);
        } catch (err) {
          deps.logger.error("run hook failed", { runId: row.id, err });
        }
      }
    },
  };
}

/** The finished run to its room, and a short note to its class's room (teachers see runs finish). */
export async function publishRunFinished(bus: Bus, logger: Logger, row: RunRow) {
  await publishBestEffort(bus, logger, runRoom(row.id), "run.completed", { run: toRunDto(row) });
  if (row.classId) {
    await publishBestEffort(bus, logger, classRoom(row.classId), "run.completed", {
      runId: row.id,
      toolId: row.toolId,
      userId: row.userId,
      state: row.state,
      preview: (row.output ?? "").slice(0, 280),
    });
  }
}
