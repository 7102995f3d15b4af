import type { Bus, KeyValueStore } from "@raptscallions/bus";
import { aiModels, aiUsage, type Db } from "@raptscallions/db";
import { costOf, microsToUsd } from "@raptscallions/gateway";
import { eq } from "drizzle-orm";
import type { AiService } from "../../lib/ai-service.ts";
import type { Clock } from "../../lib/clock.ts";
import type { Logger } from "../../lib/logger.ts";
import { settleInterruptedCall } from "./settle-retry.ts";

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
   * its own finalisation wins); then tells watchers, records the usage the dead instance could
   * not and settles its limit reservation ({@link recordInterruptedCall}). False when the row was
   * not finalised here.
   */
  finalise(deps: SweepDeps, orphan: Orphan, content: string, cutoff: Date): Promise<boolean>;
}

export interface SweepDeps {
  db: Db;
  bus: Bus;
  clock: Clock;
  logger: Logger;
  /** Settles what the dead instance reserved against limits and budgets. */
  ai: Pick<AiService, "settleAbandoned">;
  /** Dedupes the budget alerts a settle may raise (once per group and month). */
  kv: KeyValueStore;
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

/** What an interrupted call consumed, as far as its row shows: model, scope and estimated tokens. */
export interface InterruptedUsage {
  scope: EstimatedUsageScope;
  model: string;
  inputTokens: number;
  outputTokens: number;
}

/**
 * What the dead instance could not do when its call ended. The usage row, estimated from the row's
 * text (everything watchers were shown) and its prompt, priced at the model's current price (0 for a
 * model no longer listed), so budgets and reports still count what the provider produced. And the
 * limit reservation it made before calling (the estimate with the whole output allowance, still
 * charged to the student's day and every group's month) settled to those same figures — or to zero
 * when the call never started streaming (`usage` null: no model recorded, nothing billed). The limit
 * store counts the settle once, whoever makes it. A failure is logged and the rest still runs; a
 * settle the limit store could not take is retried by the next sweeps ({@link settleInterruptedCall}).
 */
export async function recordInterruptedCall(deps: SweepDeps, subject: string | undefined, usage: InterruptedUsage | null): Promise<void> {
  let costMicros = 0;
  if (usage) {
    const tokens = { inputTokens: usage.inputTokens, outputTokens: usage.outputTokens };
    const [price] = await deps.db.select().from(aiModels).where(eq(aiModels.id, usage.model));
    costMicros = price ? costOf(tokens, price) : 0;
    try {
      await deps.db.insert(aiUsage).values({ ...usage.scope, model: usage.model, ...tokens, costUsd: microsToUsd(costMicros), status: "interrupted", estimated: true });
      deps.logger.info("recorded estimated usage for an interrupted call", { subject, model: usage.model, ...tokens });
    } catch (err) {
      deps.logger.warn("usage for an interrupted call failed", { subject, err });
    }
  }
  if (!subject) return;
  const actual = usage ? { tokens: usage.inputTokens + usage.outputTokens, costMicros } : { tokens: 0, costMicros: 0 };
  await settleInterruptedCall(deps, subject, actual);
}
