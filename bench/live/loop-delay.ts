/**
 * How late the bench's client process ran its callbacks during a run: every watcher's frame is
 * stamped when the client's loop gets to it, so a frame that arrives while the loop is busy with
 * other sockets' frames is stamped late by up to this much. Read for every target alike, beside
 * its latency figures: a fan-out p99 of the size of the client's own loop delay measures the
 * reader as much as the server.
 *
 * A 1 ms timer re-armed from its own callback; a sample is how much later than 1 ms after the
 * previous one it ran. (`perf_hooks.monitorEventLoopDelay` is not used: with two histograms open,
 * Bun 1.4.5 fed only one of them, and a whole-run p99 cannot be merged from per-second ones.)
 */
import { percentile } from "./clients.ts";

export interface LoopDelay {
  /** Samples taken (about one per millisecond of an idle loop). */
  samples: number;
  p50Ms: number;
  p99Ms: number;
  maxMs: number;
  /** The largest delay in each second of the run, in order (0 for a second without a sample). */
  perSecondMaxMs: number[];
}

/** Starts watching the loop; `stop()` returns what it saw. */
export function watchLoopDelay(): { stop(): LoopDelay } {
  const startMs = performance.now();
  const sinceStartMs: number[] = [];
  const delaysMs: number[] = [];
  let last = startMs;
  let timer: ReturnType<typeof setTimeout> | undefined;
  const tick = () => {
    const now = performance.now();
    sinceStartMs.push(now - startMs);
    delaysMs.push(Math.max(0, now - last - 1));
    last = now;
    timer = setTimeout(tick, 1);
  };
  timer = setTimeout(tick, 1);
  return {
    stop() {
      clearTimeout(timer);
      return summarise(sinceStartMs, delaysMs);
    },
  };
}

const tenth = (ms: number) => Math.round(ms * 10) / 10;

/** Percentiles of the delays (ms, to 0.1 ms) and the largest in each second (by `sinceStartMs`); all 0 without samples. */
export function summarise(sinceStartMs: readonly number[], delaysMs: readonly number[]): LoopDelay {
  const perSecondMaxMs: number[] = [];
  delaysMs.forEach((d, i) => {
    const second = Math.floor((sinceStartMs[i] ?? 0) / 1000);
    while (perSecondMaxMs.length <= second) perSecondMaxMs.push(0);
    perSecondMaxMs[second] = Math.max(perSecondMaxMs[second] ?? 0, tenth(d));
  });
  const at = (q: number) => (delaysMs.length > 0 ? tenth(percentile(delaysMs, q)) : 0);
  return { samples: delaysMs.length, p50Ms: at(0.5), p99Ms: at(0.99), maxMs: at(1), perSecondMaxMs };
}

/** "client loop delay p50 0.1 / p99 4.2 / max 31 ms (max per second: 12, 31)". */
export function describeLoopDelay(d: LoopDelay): string {
  return `client loop delay p50 ${d.p50Ms} / p99 ${d.p99Ms} / max ${d.maxMs} ms (max per second: ${d.perSecondMaxMs.map((m) => Math.round(m)).join(", ")})`;
}
