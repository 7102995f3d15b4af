/** Reconnect and retry delays: exponential with full jitter, so a fleet of clients does not reconnect in step. */
export interface BackoffOptions {
  initialMs: number;
  maxMs: number;
}

export const DEFAULT_BACKOFF: BackoffOptions = { initialMs: 250, maxMs: 15_000 };

/** Delay before retry number `attempt` (0-based): uniform in [cap/2, cap], cap = min(max, initial·2^attempt). */
export function backoffDelay(attempt: number, opts: BackoffOptions, random: () => number): number {
  const cap = Math.min(opts.maxMs, opts.initialMs * 2 ** Math.min(attempt, 30));
  return Math.round(cap / 2 + (random() * cap) / 2);
}
