import { describe, expect, test } from "bun:test";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { loopOver, probeIntervalMs, readLoopSeconds } from "../live/loop-report.ts";
import { loopStops } from "../turn/loop-stops.ts";

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

  test("100 ms lines (the turn bench's interval): the overlap is one interval, not one second", () => {
    const fine = ["1000 1 1 0 1", "1100 2 1 0 2", "1200 60 30 1 40", "1300 3 1 0 3", "1400 4 1 0 4"].join("\n");
    expect(probeIntervalMs(readLoopSeconds(fine))).toBe(100);
    expect(probeIntervalMs(readLoopSeconds("1000 1 1 0 1"))).toBe(1000);
    expect(loopOver(readLoopSeconds(fine), 1150, 1250).seconds.map((s) => s.at)).toEqual([1200, 1300]);
  });

  test("the turn bench reads the same lines: a window's longest stops, wall and CPU", () => {
    const dir = mkdtempSync(join(tmpdir(), "loop-stops-"));
    try {
      const file = join(dir, "probe.txt");
      writeFileSync(file, ["1000 10 1 0 5", "1100 70 30 1 48", "1200 55 20 1 31", "1300 2 1 0 1", "9000 500 1 0 400"].join("\n"));
      expect(loopStops(file, { fromMs: 1050, toMs: 1300 })).toEqual({ longest: [70, 55, 2], over50: 2, longestCpu: [48, 31, 1] });
      expect(loopStops(join(dir, "absent.txt"), { fromMs: 0, toMs: 1 })).toBeUndefined();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test("the probe preloaded into a process writes its intervals: a block of the loop shows as wall and CPU", async () => {
    const dir = mkdtempSync(join(tmpdir(), "loop-probe-"));
    try {
      const file = join(dir, "probe.txt");
      const script = join(dir, "block.ts");
      // Idle for 300 ms, then a 150 ms block of CPU, then idle until the probe's next lines are out.
      writeFileSync(
        script,
        `const cpu = () => { const u = process.threadCpuUsage(); return (u.user + u.system) / 1000; };
await Bun.sleep(300);
const from = cpu();
while (cpu() - from < 150) {}
await Bun.sleep(300);`,
      );
      const proc = Bun.spawn([process.execPath, "--preload", join(import.meta.dir, "../turn/loop-probe.ts"), script], {
        env: { ...process.env, LOOP_PROBE_FILE: file, LOOP_PROBE_INTERVAL_MS: "100" },
        stderr: "inherit",
      });
      expect(await proc.exited).toBe(0);
      const lines = readLoopSeconds(readFileSync(file, "utf8"));
      expect(lines.length).toBeGreaterThanOrEqual(3);
      expect(probeIntervalMs(lines)).toBeGreaterThanOrEqual(100);
      // The block is one stretch of the thread's CPU between two timer runs, and the timer ran that late.
      expect(Math.max(...lines.map((l) => l.maxCpuMs))).toBeGreaterThanOrEqual(140);
      expect(Math.max(...lines.map((l) => l.maxMs))).toBeGreaterThanOrEqual(140);
      // The idle intervals before it read no such block.
      expect(lines[0]?.maxCpuMs ?? 0).toBeLessThan(140);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
