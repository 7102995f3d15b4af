/**
 * How late the bench's client process ran its callbacks during a run: every watcher's frame is
 * stamped when the client's loop gets to it, so a frame that arrives while the loop is busy with
 * other sockets' frames is stamped late by about this much. Read for every target alike, beside
 * its latency figures: a fan-out p99 of the same size as the client's own loop delay measures the
 * reader as much as the server.
 *
 * Node's `perf_hooks.monitorEventLoopDelay` (Bun supports it) samples the loop every millisecond;
 * a reading is the delay beyond that millisecond.
 */
import { monitorEventLoopDelay } from "node:perf_hooks";

export interface LoopDelay {
  /** Samples taken (about one per millisecond of an idle loop). */
  samples: number;
  p50Ms: number;
  p99Ms: number;
  maxMs: number;
  /** The largest delay in each second of the run, in order. */
  perSecondMaxMs: number[];
}

/** Starts watching the loop; `stop()` returns what it saw. */
export function watchLoopDelay(): { stop(): LoopDelay } {
  const whole = monitorEventLoopDelay({ resolution: 1 });
  const second = monitorEventLoopDelay({ resolution: 1 });
  const perSecondMaxMs: number[] = [];
  whole.enable();
  second.enable();
  const tick = setInterval(() => {
    perSecondMaxMs.push(nsToMs(second.max));
    second.reset();
  }, 1000);
  return {
    stop() {
      clearInterval(tick);
      whole.disable();
      second.disable();
      if (second.count > 0) perSecondMaxMs.push(nsToMs(second.max));
      return summarise(whole.count, whole.percentile(50), whole.percentile(99), whole.max, perSecondMaxMs);
    },
  };
}

const nsToMs = (ns: number) => Math.round(ns / 1e5) / 10;

/** The histogram's nanoseconds as milliseconds to 0.1 ms (an empty histogram reads 0). */
export function summarise(samples: number, p50Ns: number, p99Ns: number, maxNs: number, perSecondMaxMs: number[]): LoopDelay {
  const ms = (ns: number) => (samples > 0 && Number.isFinite(ns) ? nsToMs(ns) : 0);
  return { samples, p50Ms: ms(p50Ns), p99Ms: ms(p99Ns), maxMs: ms(maxNs), perSecondMaxMs };
}

/** "loop delay p50 0.1 / p99 4.2 / max 31.0 ms (per second: 12, 31, 3)". */
export function describeLoopDelay(d: LoopDelay): string {
  return `client loop delay p50 ${d.p50Ms} / p99 ${d.p99Ms} / max ${d.maxMs} ms (max per second: ${d.perSecondMaxMs.map((m) => Math.round(m)).join(", ")})`;
}
