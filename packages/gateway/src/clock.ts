/**
 * Time source for the gateway package. Injected so tests can record the delays the client asks
 * for (retry backoff, dev-model pacing) without waiting for them.
 */
export interface Clock {
  /** Milliseconds since the Unix epoch. Durations (ttft, latency) are differences of this. */
  now(): number;
  /**
   * Resolves after `ms`, or rejects with `signal.reason` as soon as `signal` aborts (also when it
   * was already aborted).
   */
  sleep(ms: number, signal?: AbortSignal): Promise<void>;
}

/** The real clock: `Date.now()` and `setTimeout`. */
export const systemClock: Clock = {
  now: () => Date.now(),
  sleep: (ms, signal) =>
    new Promise<void>((resolve, reject) => {
      if (signal?.aborted) {
        reject(signal.reason);
        return;
      }
      const onAbort = (): void => {
        clearTimeout(timer);
        reject(signal?.reason);
      };
      const timer = setTimeout(
        () => {
          signal?.removeEventListener("abort", onAbort);
          resolve();
        },
        Math.max(0, ms),
      );
      signal?.addEventListener("abort", onAbort, { once: true });
    }),
};
