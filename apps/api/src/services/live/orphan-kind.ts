import type { Bus } from "@raptscallions/bus";
import type { Db } from "@raptscallions/db";
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
