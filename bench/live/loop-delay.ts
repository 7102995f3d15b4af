/**
 * How late the bench's client process ran its callbacks during a run: every watcher's frame is
 * stamped when the client's loop gets to it, so a frame that arrives while the loop is busy with
 * other sockets' frames is stamped late by up to this much. Read for every target alike, beside
 * its latency figures: a fan-out p99 of the size of the client's own loop delay measures the
 * reader as much as the server.
 *
 * A 1 ms timer re-armed from its own callback; a sample is how much later than 1 ms after the
 * previous one it ran. (`perf_hooks.monitorEventLoopDelay` is not used: with two histograms open,
 * Bun 1.4.5 fed only one of them, and a whole-run p99 cannot be merged from per-second ones.) The
 * same ticks feed the probe preloaded into an API process (bench/turn/loop-probe.ts).
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

/** One run of the 1 ms timer: how much later than 1 ms after the previous run it ran, when, and the CPU between. */
export interface LoopTick {
  lateMs: number;
  sinceStartMs: number;
  /** The JavaScript thread's CPU since the previous run (`process.threadCpuUsage`), with `cpu`; else 0. */
  cpuMs: number;
}

/**
 * Runs `onTick` from a 1 ms timer re-armed from its own callback until the returned function is
 * called. With `cpu`, each tick also carries the thread's CPU since the previous one: the longest
 * such stretch is the longest block the loop did without reaching its timers, which the machine's
 * load does not inflate. `unref`: the timer does not keep the process alive (a preloaded probe).
 */
export function loopTicks(onTick: (tick: LoopTick) => void, opts: { cpu?: boolean; unref?: boolean } = {}): () => void {
  const cpuNow = () => {
    const u = process.threadCpuUsage();
    return (u.user + u.system) / 1000;
  };
  const startMs = performance.now();
  let last = startMs;
  let lastCpu = opts.cpu ? cpuNow() : 0;
  let timer: ReturnType<typeof setTimeout> | undefined;
  const arm = () => {
    timer = setTimeout(tick, 1);
    if (opts.unref) timer.unref();
  };
  const tick = () => {
    const now = performance.now();
    let cpuMs = 0;
    if (opts.cpu) {
      const c = cpuNow();
      cpuMs = c - lastCpu;
      lastCpu = c;
    }
    onTick({ lateMs: Math.max(0, now - last - 1), sinceStartMs: now - startMs, cpuMs });
    last = now;
    arm();
  };
  arm();
  return () => clearTimeout(timer);
}

/** Starts watching the loop; `stop()` returns what it saw. */
export function watchLoopDelay(): { stop(): LoopDelay } {
  const sinceStartMs: number[] = [];
  const delaysMs: number[] = [];
  const stop = loopTicks((t) => {
    sinceStartMs.push(t.sinceStartMs);
    delaysMs.push(t.lateMs);
  });
  return {
    stop() {
      stop();
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
