import { edenGC } from "bun:jsc";
import type { Logger } from "./logger.ts";

/** What the reducer reads and does; the real ones are the process's, tests pass their own. */
export interface MemoryProbe {
  /** CPU time the process has used so far (user + system), µs. */
  cpuMicros(): number;
  rssBytes(): number;
  /** A full, synchronous collection. */
  collect(): void;
  /** Bytes of the JavaScript heap's blocks (its capacity: what new blocks grow, not what is live). */
  heapBlockBytes(): number;
  /** A young-generation collection: the garbage allocated since the last one, not the whole heap. */
  collectYoung(): void;
  now(): number;
}

export interface MemoryReducerConfig {
  /** How long the process must have been quiet before a collection, ms; 0 switches the reducer off. */
  quietMs: number;
  /**
   * RSS growth since the last collection (or start) that makes one worth its pause, bytes: the
   * floor under `growthShare`'s share of the heap.
   */
  growthBytes: number;
  /**
   * The growth that makes a collection worth it as a share of the JavaScript heap's blocks (0, the
   * default: `growthBytes` alone). A full collection's cost grows with the heap (it marks every
   * live object: 55–80 ms of CPU for the API's 55–65 MB), so the growth that pays for one does too.
   */
  growthShare?: number;
  /** The share of one core the process may use over `quietMs` and still count as quiet. */
  quietCpuShare?: number;
  /**
   * New heap blocks (bytes) after which a young-generation collection runs, busy or not, so a
   * burst reuses the blocks its garbage freed instead of taking new ones; 0 switches it off.
   */
  youngGrowthBytes?: number;
  /** How often the heap's blocks are read for `youngGrowthBytes`, ms. */
  youngCheckMs?: number;
  /**
   * The young collections' CPU budget: they may use this share of the process's CPU time (1%),
   * with at most `youngBudgetMs` (25) saved up, so a heap that grows with live data (which they
   * cannot free) is not collected over and over.
   */
  youngCpuShare?: number;
  youngBudgetMs?: number;
}

export interface MemoryReducerStats {
  collections: number;
  /** Wall-clock time the event loop stood still in collections, ms (sum and the longest). */
  pauseMs: number;
  maxPauseMs: number;
  /** CPU time the collections used, ms (the collector's helper threads included). */
  cpuMs: number;
  /** Young-generation collections run because the heap took new blocks, and their CPU time, ms. */
  youngCollections: number;
  youngCpuMs: number;
  /** Checks that found the heap grown but the budget spent (the collection waited). */
  youngDeferred: number;
}

/**
 * Besides growth, a quiet process is collected once it has done this many times the last
 * collection's CPU in work since (closing a thousand sockets frees their objects without growing
 * RSS): the collections then cost at most a tenth of the work that made their garbage.
 */
const WORK_PER_COLLECTION = 10;
/** A floor on a collection's measured cost, so a cheap one on a small heap does not re-arm at once. */
const MIN_COLLECTION_CPU_MS = 10;

/** Bun's process: `Bun.gc(true)` is a full collection that also frees the emptied heap blocks. */
export const processMemoryProbe: MemoryProbe = {
  cpuMicros: () => {
    const u = process.cpuUsage();
    return u.user + u.system;
  },
  rssBytes: () => process.memoryUsage.rss(),
  collect: () => Bun.gc(true),
  // Bun's heapTotal is JavaScriptCore's heap capacity, read without walking the objects.
  heapBlockBytes: () => process.memoryUsage().heapTotal,
  collectYoung: () => edenGC(),
  now: () => performance.now(),
};

/**
 * Gives memory back after a burst, the way V8's memory reducer does for Node: one full collection
 * once the process has gone quiet after its RSS grew by `growthBytes`. JavaScriptCore collects
 * when allocation asks it to, so the garbage of a burst of connection setups (tokens, statements,
 * Redis replies) stays in the heap's blocks, and in RSS, until the next burst, however long the
 * instance then idles; Bun's own timer runs young-generation collections, which leave it there.
 *
 * Never while traffic flows: "quiet" is measured, not guessed — the process used at most
 * `quietCpuShare` of a core over the last `quietMs` (the process's own CPU time, so other
 * processes on the machine do not count). A frame or request that arrives during the collection
 * waits for it (tens of ms on a heap of tens of MB: see bench/README.md), so it runs at most once
 * per `growthBytes` (or `growthShare` of the heap) of growth, or per ten times its own cost in
 * work done since (below), and a
 * steady instance that only holds more sockets is collected once, not on every quiet spell.
 */
export function startMemoryReducer(config: MemoryReducerConfig, logger: Logger, probe: MemoryProbe = processMemoryProbe) {
  const stats: MemoryReducerStats = { collections: 0, pauseMs: 0, maxPauseMs: 0, cpuMs: 0, youngCollections: 0, youngCpuMs: 0, youngDeferred: 0 };
  const young = startYoungPacer(config, probe, stats);
  if (config.quietMs <= 0) return { stats, stop: young };
  const share = config.quietCpuShare ?? 0.03;
  const growthShare = config.growthShare ?? 0;
  const tickMs = Math.max(25, Math.round(config.quietMs / 4));
  // CPU readings of the last `quietMs` (one per tick), oldest first.
  const window: { at: number; cpu: number }[] = [{ at: probe.now(), cpu: probe.cpuMicros() }];
  // Growth is counted from the lowest RSS read since the last collection (or start), busy or not:
  // memory given back in between (by the allocator or the runtime) lowers the bar. Read only when
  // quiet, a process's RSS at start — still holding the start-up's garbage, 151–164 MB for the API
  // run to run, then given back while it served its first requests — stayed the bar, and a burst
  // of a thousand setups after it (+10–14 MB) went uncollected whenever the start had been high
  // (bench/README.md, idle-heap.bench.ts: the live bench read 10–11 KB per idle socket then).
  let baseline = probe.rssBytes();
  // CPU time at the last collection, and what that collection cost: work done since (sockets
  // closed, requests answered) left garbage even when RSS did not grow.
  let cpuAtCollection = window[0]?.cpu ?? 0;
  let collectionCpuMs = 0;

  const tick = () => {
    const at = probe.now();
    const cpu = probe.cpuMicros();
    const rss = probe.rssBytes();
    window.push({ at, cpu });
    while (window.length > 2 && at - (window[1]?.at ?? at) >= config.quietMs) window.shift();
    const first = window[0];
    const quiet = first !== undefined && at - first.at >= config.quietMs && (cpu - first.cpu) / 1000 <= share * (at - first.at);
    const workMs = (cpu - cpuAtCollection) / 1000;
    const worked = collectionCpuMs > 0 && workMs >= WORK_PER_COLLECTION * collectionCpuMs;
    // The heap's size is read only for a quiet tick whose growth passed the floor.
    const grown = rss - baseline;
    if (!quiet || ((grown < config.growthBytes || grown < growthShare * probe.heapBlockBytes()) && !worked)) {
      baseline = Math.min(baseline, rss);
      return;
    }
    const started = probe.now();
    probe.collect();
    const pauseMs = probe.now() - started;
    const cpuMs = (probe.cpuMicros() - cpu) / 1000;
    stats.collections += 1;
    stats.pauseMs += pauseMs;
    stats.maxPauseMs = Math.max(stats.maxPauseMs, pauseMs);
    stats.cpuMs += cpuMs;
    baseline = probe.rssBytes();
    collectionCpuMs = Math.max(cpuMs, MIN_COLLECTION_CPU_MS);
    // The collection's own CPU must not make the next window look busy, nor this one quiet twice.
    window.length = 0;
    window.push({ at: probe.now(), cpu: probe.cpuMicros() });
    cpuAtCollection = window[0]?.cpu ?? 0;
    logger.info("memory reducer: collected after a quiet spell", {
      pauseMs: Math.round(pauseMs),
      cpuMs: Math.round(cpuMs),
      rssBeforeMb: Math.round(rss / 1048576),
      rssAfterMb: Math.round(baseline / 1048576),
      youngCollections: stats.youngCollections,
      youngCpuMs: Math.round(stats.youngCpuMs),
      youngDeferred: stats.youngDeferred,
    });
  };
  const timer = setInterval(tick, tickMs);
  timer.unref?.();
  return {
    stats,
    stop: () => {
      clearInterval(timer);
      young();
    },
  };
}

/**
 * Keeps a burst's garbage in the blocks it already has. JavaScriptCore collects the young
 * generation only after allocating a share of the heap's size since the last collection (about
 * 28 MB for this server's heap), so a burst of a thousand connection setups (tens of KB of
 * garbage each) takes that much in new blocks, and the few objects that outlive each setup (its
 * socket's, the caches') are spread over all of them: no collection can give those blocks back
 * (it does not move objects), and RSS stays there for as long as the sockets are open. A
 * young-generation collection as soon as the heap has taken `youngGrowthBytes` of new blocks
 * frees the garbage where it lies, and the burst goes on in the blocks it freed. It costs a few
 * ms of CPU for each `youngGrowthBytes` the heap would otherwise have grown (bench/README.md);
 * once the heap has the blocks a workload needs it takes no new ones, and this does nothing.
 * A heap that grows with live data (an instance starting hundreds of answers: each collection
 * then finds little garbage and costs more) would be collected again and again, so the
 * collections spend from a CPU budget refilled by the process's own work. Returns the function
 * that stops it.
 */
function startYoungPacer(config: MemoryReducerConfig, probe: MemoryProbe, stats: MemoryReducerStats): () => void {
  const growth = config.youngGrowthBytes ?? 0;
  if (growth <= 0) return () => {};
  const share = config.youngCpuShare ?? 0.01;
  const capMs = config.youngBudgetMs ?? 25;
  let budgetMs = capMs;
  let lastCpu = probe.cpuMicros();
  let base = probe.heapBlockBytes();
  const timer = setInterval(
    () => {
      const cpu = probe.cpuMicros();
      budgetMs = Math.min(capMs, budgetMs + (share * (cpu - lastCpu)) / 1000);
      lastCpu = cpu;
      const blocks = probe.heapBlockBytes();
      // Blocks given back (a full collection) lower the mark: growth is counted from the lowest.
      if (blocks - base < growth) {
        base = Math.min(base, blocks);
        return;
      }
      // Over budget: the growth stays counted, and a later check collects once work refilled it.
      if (budgetMs <= 0) {
        stats.youngDeferred += 1;
        return;
      }
      probe.collectYoung();
      // The collection's own CPU is spent from the budget, not added to it.
      lastCpu = probe.cpuMicros();
      const spentMs = (lastCpu - cpu) / 1000;
      budgetMs -= spentMs;
      stats.youngCollections += 1;
      stats.youngCpuMs += spentMs;
      base = probe.heapBlockBytes();
    },
    Math.max(5, config.youngCheckMs ?? 50),
  );
  timer.unref?.();
  return () => clearInterval(timer);
}
