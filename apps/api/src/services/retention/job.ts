import type { RetentionConfig } from "./config.ts";
import { type RetentionDeps, runRetention } from "./scrub.ts";

/**
 * Runs the retention job every `intervalMs` on this instance (every instance may run it: batches
 * lock with SKIP LOCKED). The first run is jittered so instances started together do not all
 * wake at once. Returns a stop function that resolves once a run in flight has finished, so
 * the caller can close the database after it.
 */
export function startRetentionJob(deps: RetentionDeps, config: RetentionConfig, random: () => number = Math.random): () => Promise<void> {
  let running: Promise<void> | null = null;
  const tick = () => {
    if (running) return; // a slow run is never overlapped by the next tick on the same instance
    running = runRetention(deps, config)
      .then(
        () => undefined,
        (err: unknown) => deps.logger.error("retention run failed", { err }),
      )
      .finally(() => {
        running = null;
      });
  };
  const first = setTimeout(tick, Math.floor(random() * Math.min(config.intervalMs, 60_000)));
  const timer = setInterval(tick, config.intervalMs);
  return async () => {
    clearTimeout(first);
    clearInterval(timer);
    await running;
  };
}
