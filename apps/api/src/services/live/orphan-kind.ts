import type { Bus } from "@raptscallions/bus";
import { aiModels, aiUsage, type Db } from "@raptscallions/db";
import { costOf, microsToUsd } from "@raptscallions/gateway";
import { eq } from "drizzle-orm";
import type { Clock } from "../../lib/clock.ts";
import type { Logger } from "../../lib/logger.ts";

/** A row a dead instance left streaming: where its text was last checkpointed, and its room. */
export interface Orphan {
  id: string;
  room: string;
  content: string;
  checkpointOffset: number | null;
  checkpointEpoch: string | null;
}

/**
 * One kind of streamed row the sweeper looks after (a chat answer, a product tool's run): how to
 * find the stale ones, which room events carry their text, and how one is finalised.
 */
export interface OrphanKind {
  name: string;
  stale(db: Db, cutoff: Date): Promise<Orphan[]>;
  /** A room event's part of this row's text, or null when the event is not one of its deltas. */
  deltaOf(event: { type: string; payload: unknown }, id: string): { charOffset: number; text: string } | null;
  /**
   * Finalises the row `interrupted` with `content`, only if it is still streaming, still stale at
   * `cutoff` and still holds `checkpointed` (a live owner that wrote since then is not dead, and
   * its own finalisation wins); then tells watchers and records the usage the dead instance could
   * not. False when the row was not finalised here.
   */
  finalise(deps: SweepDeps, orphan: Orphan, content: string, cutoff: Date): Promise<boolean>;
}

export interface SweepDeps {
  db: Db;
  bus: Bus;
  clock: Clock;
  logger: Logger;
}

/** A `{ <idKey>, charOffset, text }` delta payload of `type`, for {@link OrphanKind.deltaOf}. */
export function deltaReader(type: string, idKey: string): OrphanKind["deltaOf"] {
  return (event, id) => {
    if (event.type !== type) return null;
    const delta = event.payload as Record<string, unknown> | null;
    if (!delta || delta[idKey] !== id || typeof delta.charOffset !== "number" || typeof delta.text !== "string") return null;
    return { charOffset: delta.charOffset, text: delta.text };
  };
}

/** Who an estimated usage row is charged to: the orphan's user, group, class, tool and subject. */
export type EstimatedUsageScope = Pick<typeof aiUsage.$inferInsert, "userId" | "groupId" | "classId" | "toolId" | "sessionId" | "runId" | "assignmentId" | "messageId">;

/**
 * The usage row a dead instance could not write, estimated from token counts and priced at the
 * model's current price (0 for a model no longer listed), so budgets and reports still count what
 * the provider produced.
 */
export async function insertEstimatedUsage(db: Db, scope: EstimatedUsageScope, model: string, tokens: { inputTokens: number; outputTokens: number }): Promise<void> {
  const [price] = await db.select().from(aiModels).where(eq(aiModels.id, model));
  const costUsd = price ? microsToUsd(costOf(tokens, price)) : 0;
  await db.insert(aiUsage).values({ ...scope, model, ...tokens, costUsd, status: "interrupted", estimated: true });
}
