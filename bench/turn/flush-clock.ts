/**
 * One coalescing window for every answer streaming on an instance (measured in delta.bench.ts
 * against a timer per answer; not what the runner does: see bench/README.md). An answer with new text
 * asks for a flush; the first request arms one timer for `windowMs`, and when it fires every
 * answer that asked meanwhile flushes in the same callback. So a delta still waits at most one
 * window, and the publishes of all answers leave in one event-loop turn: the bus's publisher
 * sends them to Redis in one write (auto-pipelining) and Redis hands the subscriber their
 * messages back together, instead of a write, a reply and a message read per answer and window.
 */
export class FlushClock {
  private pending = new Set<() => void>();
  private timer: ReturnType<typeof setTimeout> | undefined;

  constructor(
    private readonly windowMs: number,
    private readonly onError: (err: unknown) => void,
  ) {}

  /** Runs `flush` at the end of the current window (once, however often it is asked). */
  request(flush: () => void): void {
    this.pending.add(flush);
    this.timer ??= setTimeout(this.tick, this.windowMs);
  }

  /** Drops a requested flush (the answer flushes itself as it ends). */
  cancel(flush: () => void): void {
    this.pending.delete(flush);
  }

  private readonly tick = (): void => {
    this.timer = undefined;
    const due = this.pending;
    this.pending = new Set();
    for (const flush of due) {
      try {
        flush();
      } catch (err) {
        this.onError(err);
      }
    }
  };
}
