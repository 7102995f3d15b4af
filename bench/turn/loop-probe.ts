/**
 * Preloaded into the turn bench's API process with BENCH_TURN_LOOP_PROBE=1 (`bun --preload`): the
 * event loop's delay (`perf_hooks.monitorEventLoopDelay`, 1 ms resolution) as the longest stop in
 * each 100 ms, one line `<epoch ms> <max ms>` appended to LOOP_PROBE_FILE, so the bench can read
 * back the longest stop of each phase (the turn starts' synchronous work when many sends arrive
 * together). Not part of the app: nothing in apps/ imports it.
 */
import { appendFileSync } from "node:fs";
import { monitorEventLoopDelay } from "node:perf_hooks";

const file = process.env.LOOP_PROBE_FILE;
if (file) {
  const h = monitorEventLoopDelay({ resolution: 1 });
  h.enable();
  const tick = setInterval(() => {
    appendFileSync(file, `${Date.now()} ${(h.max / 1e6).toFixed(1)}\n`);
    h.reset();
  }, 100);
  tick.unref();
}
