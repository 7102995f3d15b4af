/**
 * Preloaded into an API process (`bun --preload`) by the turn bench (BENCH_TURN_LOOP_PROBE=1) and,
 * opt-in, the live bench (its header): how long the event loop stops, one line per interval
 * (LOOP_PROBE_INTERVAL_MS, 1000 unless set) appended to LOOP_PROBE_FILE,
 * `<epoch ms> <max ms> <p99 ms> <p50 ms> <max cpu ms>`, from the ticks of a 1 ms timer
 * (bench/live/loop-delay.ts, as the live bench's client reads its own loop):
 * - max, p99, p50: how late the timer ran over the interval, wall time, so on a loaded machine it
 *   also counts the time the process waited for a core;
 * - max cpu: the longest run of the JavaScript thread's CPU between two runs of the timer
 *   (`process.threadCpuUsage`): the longest block the loop did without reaching its timers, which
 *   the machine's load does not inflate.
 * With LOOP_PROBE_INSTANCE set, only the instance whose INSTANCE_ID equals it runs the probe (the
 * live bench's settings reach every instance). Its timer costs the process CPU (≈ 1,000 wake-ups a
 * second), so CPU figures are read from runs without it. Read back by bench/turn/loop-stops.ts (a
 * phase's longest stops) and bench/live/loop-report.ts (a live run's intervals). Not part of the
 * app: nothing in apps/ imports it.
 */
import { appendFileSync } from "node:fs";
import { loopTicks, summarise } from "../live/loop-delay.ts";

const file = process.env.LOOP_PROBE_FILE;
const only = process.env.LOOP_PROBE_INSTANCE;
const intervalMs = Number(process.env.LOOP_PROBE_INTERVAL_MS) || 1000;
if (file && (!only || process.env.INSTANCE_ID === only)) {
  let sinceStartMs: number[] = [];
  let delaysMs: number[] = [];
  let maxCpu = 0;
  loopTicks(
    (t) => {
      sinceStartMs.push(t.sinceStartMs);
      delaysMs.push(t.lateMs);
      maxCpu = Math.max(maxCpu, t.cpuMs);
    },
    { cpu: true, unref: true },
  );
  const tick = setInterval(() => {
    const d = summarise(sinceStartMs, delaysMs);
    appendFileSync(file, `${Date.now()} ${d.maxMs.toFixed(1)} ${d.p99Ms.toFixed(1)} ${d.p50Ms.toFixed(1)} ${maxCpu.toFixed(1)}\n`);
    sinceStartMs = [];
    delaysMs = [];
    maxCpu = 0;
  }, intervalMs);
  tick.unref();
}
