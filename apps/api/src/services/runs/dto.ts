import type { RunDto } from "@raptscallions/core";
import type { runs } from "@raptscallions/db";

export type RunRow = typeof runs.$inferSelect;

export const runRoom = (runId: string) => `run:${runId}`;

export function toRunDto(r: RunRow): RunDto {
  return {
    id: r.id,
    toolId: r.toolId,
    toolVersion: r.toolVersion,
    userId: r.userId,
    groupId: r.groupId,
    classId: r.classId,
    input: r.input,
    output: r.output ?? "",
    state: r.state,
    meta: r.meta,
    createdAt: r.createdAt.toISOString(),
    finishedAt: r.finishedAt?.toISOString() ?? null,
  };
}
