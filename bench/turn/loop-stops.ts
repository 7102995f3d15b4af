/** Reads the loop probe's file (bench/turn/loop-probe.ts, 100 ms lines here) back for a window: the longest stops. */
import { existsSync, readFileSync } from "node:fs";
import { readLoopSeconds } from "../live/loop-report.ts";

export interface LoopStops {
  /** The five longest stops in the window by wall time (how late the probe's 1 ms timer ran), ms. */
  longest: number[];
  /** 100 ms intervals of the window whose longest stop exceeded 50 ms of wall time. */
  over50: number;
  /** The five longest runs of the JavaScript thread's CPU between two 1 ms timer runs, ms. */
  longestCpu: number[];
}

export function loopStops(file: string, window: { fromMs: number; toMs: number }): LoopStops | undefined {
  if (!existsSync(file)) return undefined;
  // A line stamps the end of its interval; the interval's stop may have begun just before the window.
  const lines = readLoopSeconds(readFileSync(file, "utf8")).filter((l) => l.at >= window.fromMs && l.at <= window.toMs + 200);
  const stops = lines.map((l) => l.maxMs);
  const top = (xs: number[]) => [...xs].sort((a, b) => b - a).slice(0, 5);
  return { longest: top(stops), over50: stops.filter((s) => s > 50).length, longestCpu: top(lines.map((l) => l.maxCpuMs)) };
}
