import { describe, expect, test } from "bun:test";
import { loopOver, readLoopSeconds } from "../live/loop-report.ts";

describe("loop probe report", () => {
  const text = ["1000 5.0 1.2 0.3 2.0", "2000 130.5 54.9 0.7 46.0", "garbage line", "3000 88.1 28.1 0.9 23.8", "4000 12.0 3.0 0.1 4.0", ""].join("\n");

  test("reads the probe's lines and skips anything else", () => {
    const seconds = readLoopSeconds(text);
    expect(seconds.map((s) => s.at)).toEqual([1000, 2000, 3000, 4000]);
    expect(seconds[1]).toEqual({ at: 2000, maxMs: 130.5, p99Ms: 54.9, p50Ms: 0.7, maxCpuMs: 46 });
  });

  test("takes the seconds that overlap the run (a line stamps its second's end) and their worst", () => {
    const over = loopOver(readLoopSeconds(text), 1500, 2500);
    expect(over.seconds.map((s) => s.at)).toEqual([2000, 3000]);
    expect(over).toMatchObject({ maxMs: 130.5, maxCpuMs: 46, p99Ms: 54.9 });
  });

  test("a run outside every second reads as zero, not as another run's seconds", () => {
    expect(loopOver(readLoopSeconds(text), 9000, 9500)).toMatchObject({ seconds: [], maxMs: 0, maxCpuMs: 0, p99Ms: 0 });
  });
});
