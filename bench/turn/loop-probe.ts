/**
 * Preloaded into the turn bench's API process with BENCH_TURN_LOOP_PROBE=1 (`bun --preload`): how
 * long the event loop stops, two ways, as the longest in each 100 ms, one line
 * `<epoch ms> <delay ms> <cpu ms>` appended to LOOP_PROBE_FILE:
 * - delay: `perf_hooks.monitorEventLoopDelay` (1 ms resolution), wall time, so on a loaded machine
 *   it also counts the time the process waited for a core;
 * - cpu: the JavaScript thread's CPU time between two runs of a 1 ms timer
 *   (`process.threadCpuUsage`): the work the loop did without reaching its timers, which the
 *   machine's load does not inflate.
 * So the bench can read back the longest stop of each phase (the turn starts' synchronous work
 * when many sends arrive together). Not part of the app: nothing in apps/ imports it.
 */
import { appendFileSync } from "node:fs";
import { monitorEventLoopDelay } from "node:perf_hooks";

const file = process.env.LOOP_PROBE_FILE;
if (file) {
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
  const tick = setInterval(() => {
    appendFileSync(file, `${Date.now()} ${(h.max / 1e6).toFixed(1)} ${maxCpu.toFixed(1)}\n`);
    h.reset();
    maxCpu = 0;
  }, 100);
  tick.unref();
}
