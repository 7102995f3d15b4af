import type { BusEvent, ReplayResult, RoomHead } from "./types.ts";

/**
 * Decides a replay from a consistent snapshot: the room's head and the stored events with
 * offset > `afterOffset` (ascending). Anything short of the complete range becomes a reset,
 * because a partial replay would look to the client like an exact one.
 */
export function resolveReplay(head: RoomHead, afterOffset: number, epoch: string | null | undefined, tail: readonly BusEvent[]): ReplayResult {
  const reset = (reason: "trimmed" | "epoch-changed" | "unknown-offset"): ReplayResult => ({
    kind: "reset",
    epoch: head.epoch,
    latestOffset: head.offset,
    reason,
  });
  if (epoch != null && head.epoch !== null && epoch !== head.epoch) return reset("epoch-changed");
  if (afterOffset > head.offset) return reset("unknown-offset");
  if (afterOffset === head.offset) return { kind: "events", epoch: head.epoch, events: [] };
  const first = tail[0];
  if (first === undefined || first.offset !== afterOffset + 1 || tail.length !== head.offset - afterOffset) {
    return reset("trimmed");
  }
  return { kind: "events", epoch: head.epoch, events: [...tail] };
}

/**
 * One room's numbering and bounded replay buffer, held in process memory. Used by the in-process
 * bus and by the Redis bus while it delivers locally. Keeps at least `limit` events (up to twice
 * that before compacting, like Redis' approximate `MAXLEN ~`).
 */
export class RoomLog {
  readonly epoch: string;
  private seq = 0;
  private events: BusEvent[] = [];
  private readonly limit: number;
  lastPublishAt = 0;

  constructor(epoch: string, limit: number) {
    this.epoch = epoch;
    this.limit = limit;
  }

  append(room: string, type: string, payload: unknown, at: string): BusEvent {
    this.seq += 1;
    const event: BusEvent = { room, epoch: this.epoch, offset: this.seq, type, payload, at };
    this.events.push(event);
    // Compacting in chunks keeps append amortised O(1) instead of shifting on every event.
    if (this.events.length >= this.limit * 2) this.events = this.events.slice(-this.limit);
    return event;
  }

  head(): RoomHead {
    return { epoch: this.epoch, offset: this.seq };
  }

  replay(afterOffset: number, epoch?: string | null): ReplayResult {
    const oldest = this.events[0]?.offset ?? this.seq + 1;
    const from = Math.max(0, afterOffset + 1 - oldest);
    return resolveReplay(this.head(), afterOffset, epoch, this.events.slice(from));
  }
}
