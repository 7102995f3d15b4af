/** Reads the loop probe's file (bench/turn/loop-probe.ts) back for a window: the longest stops. */
import { existsSync, readFileSync } from "node:fs";

export interface LoopStops {
  /** The five longest stops in the window by wall time (monitorEventLoopDelay), ms. */
  longest: number[];
  /** 100 ms intervals of the window whose longest stop exceeded 50 ms of wall time. */
  over50: number;
  /** The five longest runs of the JavaScript thread's CPU between two 1 ms timer runs, ms. */
  longestCpu: number[];
}

export function loopStops(file: string, window: { fromMs: number; toMs: number }): LoopStops | undefined {
  if (!existsSync(file)) return undefined;
  const stops: number[] = [];
  const cpu: number[] = [];
  for (const line of readFileSync(file, "utf8").split("\n")) {
    const [at, max, maxCpu] = line.split(" ").map(Number);
    // A line stamps the end of its interval; the interval's stop may have begun just before the window.
    if (at === undefined || max === undefined || !Number.isFinite(at) || at < window.fromMs || at > window.toMs + 200) continue;
    stops.push(max);
    if (maxCpu !== undefined && Number.isFinite(maxCpu)) cpu.push(maxCpu);
  }
  const top = (xs: number[]) => [...xs].sort((a, b) => b - a).slice(0, 5);
  return { longest: top(stops), over50: stops.filter((s) => s > 50).length, longestCpu: top(cpu) };
}
