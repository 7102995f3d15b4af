/** The live bench's table, ratios against the aims, and the JSON written to bench/results/. */
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import type { IdleResult, RunResult } from "./scenario.ts";

export interface Aim {
  name: string;
  ratio: number;
  aim: string;
  met: boolean;
}

export interface LiveReport {
  startedAt: string;
  machine: { cpus: number; loadBefore: string; loadAfter: string; bun: string };
  config: Record<string, string | number>;
  idle: IdleResult[];
  runs: RunResult[];
  aims: Aim[];
  notes: string[];
}

const f = (n: number, digits = 0) => (Number.isFinite(n) ? n.toFixed(digits) : "—");

/** Ratios of the app to the relay for the three aims of the issue. */
export function aims(idle: IdleResult[], runs: RunResult[], mainScenario: string): Aim[] {
  const out: Aim[] = [];
  const main = (t: "app" | "relay") => runs.find((r) => r.scenario === mainScenario && r.target === t);
  const appMain = main("app");
  const relayMain = main("relay");
  if (appMain && relayMain) {
    // Millisecond timestamps: a relay p99 of 0 would make any ratio infinite, so floor it at 1 ms.
    const ratio = appMain.p99Ms / Math.max(1, relayMain.p99Ms);
    out.push({ name: `p99 fan-out latency, ${mainScenario} (app/relay)`, ratio, aim: "≤ 2", met: ratio <= 2 });
  }
  const best = (t: "app" | "relay") =>
    Math.max(
      0,
      ...runs
        .filter((r) => r.target === t && r.scenario.startsWith("saturation"))
        .map((r) => r.peakEventsPerSecond)
        .filter(Number.isFinite),
    );
  const appSat = best("app");
  const relaySat = best("relay");
  if (appSat > 0 && relaySat > 0) {
    const ratio = appSat / relaySat;
    out.push({ name: "saturation throughput, best peak events/s (app/relay)", ratio, aim: "≥ 0.8", met: ratio >= 0.8 });
  }
  const appIdle = idle.find((i) => i.target === "app");
  const relayIdle = idle.find((i) => i.target === "relay");
  if (appIdle && relayIdle && relayIdle.perConnectionKb > 0) {
    const ratio = appIdle.perConnectionKb / relayIdle.perConnectionKb;
    out.push({ name: "RSS per idle connection (app/relay)", ratio, aim: "≤ 2", met: ratio <= 2 });
  }
  return out;
}

export function table(report: LiveReport): string {
  const head = ["scenario", "target", "sessions×watchers", "events", "events/s", "peak/s", "p50 ms", "p99 ms", "max ms", "incomplete", "CPU A/B ms", "RSS/idle conn KB"];
  const rows: string[][] = [];
  for (const i of report.idle) {
    rows.push([
      `idle ×${i.connections}`,
      i.target,
      "—",
      "—",
      "—",
      "—",
      "—",
      "—",
      "—",
      "—",
      "—",
      `${f(i.perConnectionKb, 1)} (again: ${f(i.perConnectionKbSecondRound, 1)})`,
    ]);
  }
  for (const r of report.runs) {
    rows.push([
      r.scenario,
      r.target,
      `${r.sessions}×${r.watchersPerSession}`,
      String(r.events),
      f(r.eventsPerSecond),
      f(r.peakEventsPerSecond),
      f(r.p50Ms),
      f(r.p99Ms),
      f(r.maxMs),
      String(r.incompleteWatchers),
      `${r.cpuMsA}/${r.cpuMsB}`,
      "—",
    ]);
  }
  const widths = head.map((h, c) => Math.max(h.length, ...rows.map((r) => (r[c] ?? "").length)));
  const line = (cells: string[]) => cells.map((cell, c) => cell.padEnd(widths[c] ?? 0)).join("  ");
  const out = [line(head), line(widths.map((w) => "-".repeat(w))), ...rows.map(line)];
  out.push("");
  for (const r of report.runs) {
    if (r.events > 0) out.push(`      ${r.scenario} ${r.target}: B spent ${f((r.cpuMsB * 1000) / r.events, 1)} µs CPU per delivered frame`);
  }
  out.push("");
  for (const a of report.aims) out.push(`${a.met ? "MET " : "MISS"}  ${a.name}: ${f(a.ratio, 2)} (aim ${a.aim})`);
  return out.join("\n");
}

/** Writes bench/results/live-<timestamp>.json and returns its path. */
export function writeReport(report: LiveReport, dir: string): string {
  mkdirSync(dir, { recursive: true });
  const file = join(dir, `live-${report.startedAt.replace(/[:.]/g, "-")}.json`);
  writeFileSync(file, `${JSON.stringify(report, null, 2)}\n`);
  return file;
}
