import type { RetentionConfig } from "./config.ts";
import { type RetentionDeps, runRetention } from "./scrub.ts";

/**
 * Runs the retention job every `intervalMs` on this instance (every instance may run it: batches
 * lock with SKIP LOCKED). The first run is jittered so instances started together do not all
 * wake at once. Returns a stop function.
 */
export function startRetentionJob(deps: RetentionDeps, config: RetentionConfig, random: () => number = Math.random): () => void {
  let running = false;
  const tick = async () => {
    if (running) return; // a slow run is never overlapped by the next tick on the same instance
    running = true;
    try {
      await runRetention(deps, config);
    } catch (err) {
      deps.logger.error("retention run failed", { err });
    } finally {
      running = false;
    }
  };
  const first = setTimeout(() => void tick(), Math.floor(random() * Math.min(config.intervalMs, 60_000)));
  const timer = setInterval(() => void tick(), config.intervalMs);
  return () => {
    clearTimeout(first);
    clearInterval(timer);
  };
}
