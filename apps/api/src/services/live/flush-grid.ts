// When a streaming answer's coalesced text is published. Each answer keeps its own timer (a shared
// one turned the stream into one burst of every answer per window, see bench/README.md), but the
// timers are due on a grid shared by the instance: the answers whose windows end in the same grid
// step flush in the same event-loop turn, so the bus's publisher sends their deltas as one script
// call (one socket write, one reply, one pub/sub read back on every instance following the rooms)
// instead of one each. The window is never lengthened: a flush is due at the last grid step
// inside it, so no delta waits longer than `windowMs` (it may wait up to one step less).

/**
 * The delay of a flush armed at `nowMs` (a monotonic clock every answer shares) for a coalescing
 * window of `windowMs` on a grid of `gridMs`; the window itself when the grid is off (0) or not
 * smaller than the window.
 */
export function flushDelay(windowMs: number, gridMs: number, nowMs: number = performance.now()): number {
  if (gridMs <= 0 || gridMs >= windowMs) return windowMs;
  const due = Math.floor((nowMs + windowMs) / gridMs) * gridMs;
  return Math.max(0, Math.min(windowMs, Math.round(due - nowMs)));
}
