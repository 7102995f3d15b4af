/**
 * Opt-in probe for one API instance of the live bench (`BENCH_LIVE_APP_ENV=BUN_OPTIONS=--preload
 * <this file>,LOOP_PROBE_FILE=<file>,LOOP_PROBE_INSTANCE=bench-paced-a`): A's event loop, one line a
 * second (LOOP_PROBE_INTERVAL_MS, for a closer look) appended to LOOP_PROBE_FILE,
 * `<epoch ms> <max ms> <p99 ms> <p50 ms> <max cpu ms>`:
 * - max, p99, p50: `perf_hooks.monitorEventLoopDelay` (1 ms resolution) over that interval, wall
 *   time, so on a loaded machine it also counts the time the process waited for a core;
 * - max cpu: the longest run of the JavaScript thread's CPU between two runs of a 1 ms timer
 *   (`process.threadCpuUsage`): the longest block the loop did without reaching its timers, which
 *   the machine's load does not inflate.
 * Only the instance whose INSTANCE_ID equals LOOP_PROBE_INSTANCE runs it (the setting reaches every
 * instance). Its timers cost the instance CPU (≈ 1,000 wake-ups a second), so goal 2's figure is
 * read from runs without it. `bun bench/live/loop-report.ts <file> <results json>` reads it back
 * over the main run. Not part of the app: nothing in apps/ imports it.
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
