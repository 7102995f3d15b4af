/** The part of an `lru-cache` with a TTL that sweeping needs. */
export interface SweepableCache {
  readonly size: number;
  purgeStale(): boolean;
}

/**
 * Drops a TTL cache's expired entries every `everyMs`, on one timer that runs only while the cache
 * holds anything. `lru-cache` without `ttlAutopurge` keeps an expired entry until it is read again
 * or evicted by `max`, so a cache of connection-setup data would otherwise hold every user who ever
 * connected (up to `max`) long after the entries stopped being usable; `ttlAutopurge` instead
 * arms a timer per entry. Call `armed()` after each `set`; `stop()` on close. The timer never
 * keeps the process alive.
 */
export function staleSweep(cache: SweepableCache, everyMs: number) {
  let timer: ReturnType<typeof setTimeout> | null = null;
  let stopped = false;
  const sweep = () => {
    timer = null;
    cache.purgeStale();
    if (cache.size > 0) armed();
  };
  function armed() {
    if (timer || stopped) return;
    timer = setTimeout(sweep, Math.max(1, everyMs));
    timer.unref?.();
  }
  return {
    armed,
    stop() {
      stopped = true;
      if (timer) clearTimeout(timer);
      timer = null;
    },
  };
}
