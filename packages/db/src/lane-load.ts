import type { LaneReset } from "./lane-reset.ts";

/**
 * How busy a lane is, as both pools' lanes (tenant-lanes.ts, system-lanes.ts) weigh it when they
 * pick one for a statement or a transaction.
 */
export interface LaneLoad {
  inFlight: number;
  transactions: number;
  /** When a statement last finished on it, or it last went from idle to busy (performance.now()). */
  progressAt: number;
  /** Set from a connection failure until its connection has closed (lane-reset.ts). */
  reset: LaneReset;
}

// A lane in a transaction holds its connection across the app's awaits: a standalone statement
// goes there only when every lane is in one.
export const TRANSACTION_WEIGHT = 1_000;
// How many statements may be in flight on a lane that a statement of the same turn still joins.
export const JOIN_DEPTH = 16;
// A busy lane that finished nothing for this long is stalled (a slow statement, or one waiting
// for a lock, perhaps held by a transaction that itself waits for a statement): new statements
// go elsewhere, as they avoid a lane in a transaction, so they do not queue behind it.
export const STALL_MS = 25;

/** What holds a lane beyond its statements in flight: transactions, a reset, a stall. */
export function heldWeight(lane: LaneLoad, now: number): number {
  return (lane.transactions + (lane.reset.pending ? 1 : 0)) * TRANSACTION_WEIGHT + (lane.inFlight > 0 && now - lane.progressAt > STALL_MS ? TRANSACTION_WEIGHT : 0);
}

/** The least loaded lane, for a transaction (which holds its lane across the app's awaits). */
export function leastLoaded<L extends LaneLoad>(lanes: readonly L[]): L {
  const now = performance.now();
  let lane = lanes[0] as L;
  for (const l of lanes) if (heldWeight(l, now) + l.inFlight < heldWeight(lane, now) + lane.inFlight) lane = l;
  return lane;
}
