/**
 * Preloaded into an API process (`bun --preload`) by the turn bench (BENCH_TURN_LOOP_PROBE=1) and,
 * opt-in, the live bench (its header): how long the event loop stops, one line per interval
 * (LOOP_PROBE_INTERVAL_MS, 1000 unless set) appended to LOOP_PROBE_FILE,
 * `<epoch ms> <max ms> <p99 ms> <p50 ms> <max cpu ms>`:
 * - max, p99, p50: `perf_hooks.monitorEventLoopDelay` (1 ms resolution) over the interval, wall
 *   time, so on a loaded machine it also counts the time the process waited for a core;
 * - max cpu: the longest run of the JavaScript thread's CPU between two runs of a 1 ms timer
 *   (`process.threadCpuUsage`): the longest block the loop did without reaching its timers, which
 *   the machine's load does not inflate.
 * With LOOP_PROBE_INSTANCE set, only the instance whose INSTANCE_ID equals it runs the probe (the
 * live bench's settings reach every instance). Its timers cost the process CPU (≈ 1,000 wake-ups a
 * second), so CPU figures are read from runs without it. Read back by bench/turn/loop-stops.ts (a
 * phase's longest stops) and bench/live/loop-report.ts (a live run's seconds). Not part of the app:
 * nothing in apps/ imports it.
 */
import { appendFileSync } from "node:fs";
import { monitorEventLoopDelay } from "node:perf_hooks";

const file = process.env.LOOP_PROBE_FILE;
const only = process.env.LOOP_PROBE_INSTANCE;
const intervalMs = Number(process.env.LOOP_PROBE_INTERVAL_MS) || 1000;
if (file && (!only || process.env.INSTANCE_ID === only)) {
  const h = monitorEventLoopDelay({ resolution: 1 });
  h.enable();
  const cpuNow = () => {
    const u = process.threadCpuUsage();
    return (u.user + u.system) / 1000;
  };
  let last = cpuNow();
  let maxCpu = 0;
  const beat = setInterval(() => {
    const now = cpuNow();
    maxCpu = Math.max(maxCpu, now - last);
    last = now;
  }, 1);
  beat.unref();
  const ms = (ns: number) => (ns / 1e6).toFixed(1);
  const tick = setInterval(() => {
    appendFileSync(file, `${Date.now()} ${ms(h.max)} ${ms(h.percentile(99))} ${ms(h.percentile(50))} ${maxCpu.toFixed(1)}\n`);
    h.reset();
    maxCpu = 0;
  }, intervalMs);
  tick.unref();
}
