/**
 * Reads the loop probe's file (bench/turn/loop-probe.ts) back over one run of a live bench report:
 * `bun bench/live/loop-report.ts <probe file> <results json> [scenario]` (scenario: the main run's
 * by default). Prints the probe's seconds that overlap the app's run (each line stamps the end of
 * its second) and, over them, the longest loop block (wall and CPU) and the highest second's p99.
 */
import { readFileSync } from "node:fs";

export interface LoopSecond {
  at: number;
  maxMs: number;
  p99Ms: number;
  p50Ms: number;
  maxCpuMs: number;
}

export function readLoopSeconds(text: string): LoopSecond[] {
  const out: LoopSecond[] = [];
  for (const line of text.split("\n")) {
    const [at, maxMs, p99Ms, p50Ms, maxCpuMs] = line.split(" ").map(Number);
    if (at === undefined || maxMs === undefined || p99Ms === undefined || p50Ms === undefined || maxCpuMs === undefined) continue;
    if (![at, maxMs, p99Ms, p50Ms, maxCpuMs].every(Number.isFinite)) continue;
    out.push({ at, maxMs, p99Ms, p50Ms, maxCpuMs });
  }
  return out;
}

/** The probe's interval: the median gap between its lines (1000 ms, its default, with fewer than two). */
export function probeIntervalMs(seconds: LoopSecond[]): number {
  const gaps = seconds
    .slice(1)
    .map((s, i) => s.at - (seconds[i]?.at ?? s.at))
    .sort((a, b) => a - b);
  return gaps.length > 0 ? (gaps[Math.floor(gaps.length / 2)] ?? 1000) : 1000;
}

/** The intervals that overlap [fromMs, toMs], and the worst of them. */
export function loopOver(seconds: LoopSecond[], fromMs: number, toMs: number) {
  const intervalMs = probeIntervalMs(seconds);
  const within = seconds.filter((s) => s.at > fromMs && s.at - intervalMs < toMs);
  const worst = (pick: (s: LoopSecond) => number) => within.reduce((m, s) => Math.max(m, pick(s)), 0);
  return { seconds: within, maxMs: worst((s) => s.maxMs), maxCpuMs: worst((s) => s.maxCpuMs), p99Ms: worst((s) => s.p99Ms) };
}

if (import.meta.main) {
  const [probeFile, resultsFile, scenarioArg] = process.argv.slice(2);
  if (!probeFile || !resultsFile) throw new Error("usage: bun bench/live/loop-report.ts <probe file> <results json> [scenario]");
  const report = JSON.parse(readFileSync(resultsFile, "utf8")) as {
    mainScenario: string;
    runs: { target: string; scenario: string; cpuFromMs: number; cpuToMs: number }[];
  };
  const scenario = scenarioArg ?? report.mainScenario;
  const run = report.runs.find((r) => r.target === "app" && r.scenario === scenario);
  if (!run) throw new Error(`no app run named ${scenario}`);
  const over = loopOver(readLoopSeconds(readFileSync(probeFile, "utf8")), run.cpuFromMs, run.cpuToMs);
  for (const s of over.seconds) {
    console.log(
      `+${((s.at - probeIntervalMs(over.seconds) - run.cpuFromMs) / 1000).toFixed(1)} s: max ${s.maxMs} ms, p99 ${s.p99Ms} ms, p50 ${s.p50Ms} ms, longest CPU without a timer run ${s.maxCpuMs} ms`,
    );
  }
  console.log(`${scenario}: longest block ${over.maxMs} ms wall / ${over.maxCpuMs} ms CPU; loop p99 (worst second) ${over.p99Ms} ms`);
}
