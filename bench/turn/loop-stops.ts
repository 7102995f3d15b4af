/** Reads the loop probe's file (bench/turn/loop-probe.ts) back for a window: the longest stops. */
import { existsSync, readFileSync } from "node:fs";

export interface LoopStops {
  /** Longest loop stop in the window, ms. */
  maxMs: number;
  /** 100 ms intervals of the window whose longest stop exceeded 50 ms. */
  over50: number;
  /** The five longest, ms. */
  longest: number[];
}

export function loopStops(file: string, window: { fromMs: number; toMs: number }): LoopStops | undefined {
  if (!existsSync(file)) return undefined;
  const stops: number[] = [];
  for (const line of readFileSync(file, "utf8").split("\n")) {
    const [at, max] = line.split(" ").map(Number);
    // A line stamps the end of its interval; the interval's stop may have begun just before the window.
    if (at === undefined || max === undefined || !Number.isFinite(at) || at < window.fromMs || at > window.toMs + 200) continue;
    stops.push(max);
  }
  stops.sort((a, b) => b - a);
  return { maxMs: stops[0] ?? 0, over50: stops.filter((s) => s > 50).length, longest: stops.slice(0, 5) };
}
