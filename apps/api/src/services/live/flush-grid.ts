// When a streaming answer's coalesced text is published. A window still starts with each answer's
// first pending token, but it ends on a grid step shared by the instance: every answer whose window
// ends in the same step flushes in the same timer callback, so the bus's publisher sends their
// deltas as one script call (one socket write, one reply, one pub/sub read back on every instance
// following the rooms) instead of one each. One timer per step, not per answer: Bun computes a
// timer's due time from the loop's cached clock, so per-answer timers aimed at the same instant
// from a busy loop land milliseconds apart and fire in separate turns. The window is never
// lengthened: a flush runs at the last step inside it, up to one step sooner. A step holds only
// the answers due in it (a shared clock for the whole window made one burst of every answer, see
// bench/README.md).

/** Cancels a requested flush. */
export type CancelFlush = () => void;

export class FlushGrid {
  // Flushes waiting, by the step (its end in ms on `now`'s clock) they run at.
  private readonly steps = new Map<number, Set<() => void>>();

  constructor(
    private readonly windowMs: number,
    private readonly gridMs: number,
    private readonly onError: (err: unknown) => void,
    private readonly now: () => number = () => performance.now(),
  ) {}

  /** Runs `flush` once, at the end of a window that starts now. */
  request(flush: () => void): CancelFlush {
    if (this.gridMs <= 0 || this.gridMs >= this.windowMs) {
      const timer = setTimeout(flush, this.windowMs);
      return () => clearTimeout(timer);
    }
    const now = this.now();
    const step = Math.floor((now + this.windowMs) / this.gridMs) * this.gridMs;
    let due = this.steps.get(step);
    if (!due) {
      due = new Set();
      this.steps.set(step, due);
      setTimeout(() => this.run(step), Math.max(0, Math.round(step - now)));
    }
    due.add(flush);
    const waiting = due;
    return () => {
      waiting.delete(flush);
    };
  }

  private run(step: number): void {
    const due = this.steps.get(step);
    this.steps.delete(step);
    if (!due) return;
    for (const flush of due) {
      try {
        flush();
      } catch (err) {
        this.onError(err);
      }
    }
  }
}

/**
 * The delay `FlushGrid` gives a flush requested at `nowMs`: the window itself when the grid is off
 * (0) or not finer than the window, else up to the last grid step inside it.
 */
export function flushDelay(windowMs: number, gridMs: number, nowMs: number = performance.now()): number {
  if (gridMs <= 0 || gridMs >= windowMs) return windowMs;
  const due = Math.floor((nowMs + windowMs) / gridMs) * gridMs;
  return Math.max(0, Math.min(windowMs, Math.round(due - nowMs)));
}
