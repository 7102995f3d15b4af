/**
 * The live bench's output: every run's raw figures, each figure of the app next to both baselines
 * (app/relay and app/Socket.IO), the seven aims of the issue (goals.ts), and the JSON written to
 * bench/results/.
 */
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { B_FED, cpuPerFrameUs, fedCpuPerFrameUs, type GoalInputs, type GoalRow, goalTable, relayAtAppPaceUs } from "./goals.ts";
import { formatProfile } from "./profiles.ts";
import type { IdleResult, RunResult } from "./scenario.ts";
import type { TargetKind } from "./targets.ts";

export interface LiveReport extends GoalInputs {
  startedAt: string;
  /** `cpuModel`: figures read on different machines differ by more than a pass's change (since session 22). */
  machine: { cpus: number; cpuModel?: string; loadBefore: string; loadAfter: string; bun: string };
  config: Record<string, string | number>;
  goals: GoalRow[];
  /** How long each part took (s), and each part's own figures beyond its aims' slot. */
  parts?: { seconds: Record<string, number>; totalSeconds: number; [part: string]: unknown };
  notes: string[];
}

const f = (n: number, digits = 0) => (Number.isFinite(n) ? n.toFixed(digits) : "—");

function layout(head: string[], rows: string[][]): string {
  const widths = head.map((h, c) => Math.max(h.length, ...rows.map((r) => (r[c] ?? "").length)));
  const line = (cells: string[]) =>
    cells
      .map((cell, c) => cell.padEnd(widths[c] ?? 0))
      .join("  ")
      .trimEnd();
  return [line(head), line(widths.map((w) => "-".repeat(w))), ...rows.map(line)].join("\n");
}

/** One row per idle measurement and per run, as measured. */
export function runsTable(idle: IdleResult[], runs: RunResult[]): string {
  const head = [
    "scenario",
    "target",
    "sessions×watchers",
    "events",
    "events/s",
    "peak/s",
    "p50 ms",
    "p99 ms",
    "max ms",
    "incomplete",
    "CPU A/B/client ms",
    "B µs/frame",
    "RSS/idle conn KB",
  ];
  const rows: string[][] = [];
  for (const i of idle) {
    const dash = Array.from({ length: 10 }, () => "—");
    const further = i.more > 0 ? `, +${i.more}: ${f(i.perFurtherConnectionKb, 2)} each` : "";
    rows.push([`idle ×${i.connections}`, i.target, ...dash, `${f(i.perConnectionKb, 1)} (again: ${f(i.perConnectionKbSecondRound, 1)}${further})`]);
  }
  for (const r of runs) {
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
      `${r.cpuMsA}/${r.cpuMsB}/${r.cpuMsClient}`,
      f(r.events > 0 ? (r.cpuMsB * 1000) / r.events : Number.NaN, 1),
      "—",
    ]);
  }
  return layout(head, rows);
}

interface Figure {
  name: string;
  value: (r: RunResult) => number;
  digits?: number;
}

const FIGURES: Figure[] = [
  { name: "p50 fan-out latency, ms", value: (r) => r.p50Ms },
  { name: "p99 fan-out latency, ms", value: (r) => r.p99Ms },
  { name: "events/s (first to last frame)", value: (r) => r.eventsPerSecond },
  { name: "peak events/s", value: (r) => r.peakEventsPerSecond },
  { name: "CPU of A, ms", value: (r) => r.cpuMsA },
  { name: "CPU of B, ms", value: (r) => r.cpuMsB },
  { name: "CPU of B per delivered frame, µs", value: (r) => (r.events > 0 ? (r.cpuMsB * 1000) / r.events : Number.NaN), digits: 1 },
  { name: "CPU of the client process, ms", value: (r) => r.cpuMsClient },
  // The reader's own delay (bench/live/loop-delay.ts): how much of a latency figure can be the client's.
  { name: "client loop delay p99, ms", value: (r) => r.clientLoopDelay?.p99Ms ?? Number.NaN, digits: 1 },
  { name: "client loop delay max, ms", value: (r) => r.clientLoopDelay?.maxMs ?? Number.NaN, digits: 1 },
];

/**
 * Every figure of every scenario for the app and both baselines, with app/relay and app/Socket.IO.
 * A ratio above 1 means the app's number is larger: worse for latency, CPU and memory, better for
 * events/s. Latency ratios floor the baseline at 1 ms (timestamps are whole milliseconds).
 */
export function comparisonTable(idle: IdleResult[], runs: RunResult[]): string {
  const head = ["scenario", "figure", "app", "relay", "Socket.IO", "app/relay", "app/Socket.IO"];
  const rows: string[][] = [];
  const ratio = (app: number, base: number, floor: number) => (Number.isFinite(app) && Number.isFinite(base) ? f(app / Math.max(floor, base), 2) : "—");
  const idleOf = (t: TargetKind) => idle.find((i) => i.target === t);
  const idleApp = idleOf("app");
  if (idleApp) {
    const figures: [string, (i: IdleResult) => number, number][] = [
      ["RSS per idle connection, KB", (i) => i.perConnectionKb, 1],
      ["… opened again, KB", (i) => i.perConnectionKbSecondRound, 1],
    ];
    if (idleApp.more > 0) figures.push([`… KB per further socket (${idleApp.more} more on top)`, (i) => i.perFurtherConnectionKb, 2]);
    for (const [name, value, digits] of figures) {
      const [a, r, s] = (["app", "relay", "socket.io"] as const).map((t) => {
        const i = idleOf(t);
        return i ? value(i) : Number.NaN;
      }) as [number, number, number];
      rows.push([`idle ×${idleApp.connections}`, name, f(a, digits), f(r, digits), f(s, digits), ratio(a, r, 0), ratio(a, s, 0)]);
    }
  }
  const scenarios = [...new Set(runs.map((r) => r.scenario))];
  for (const scenario of scenarios) {
    // "B fed unpaced, <saturation run>" has the app alone: beside it, the baselines' unpaced replays of that run.
    const base = scenario.startsWith(B_FED) ? scenario.slice(B_FED.length) : scenario;
    const of = (t: TargetKind) => runs.find((r) => r.scenario === (t === "app" ? scenario : base) && r.target === t);
    const [app, relay, sio] = [of("app"), of("relay"), of("socket.io")];
    for (const fig of FIGURES) {
      const [a, r, s] = [app, relay, sio].map((x) => (x ? fig.value(x) : Number.NaN)) as [number, number, number];
      const floor = fig.name.includes("latency") ? 1 : 0;
      rows.push([scenario, fig.name, f(a, fig.digits), f(r, fig.digits), f(s, fig.digits), ratio(a, r, floor), ratio(a, s, floor)]);
    }
  }
  const sat = (["app", "relay", "socket.io"] as const).map((t) => cpuPerFrameUs(runs, t)) as [number, number, number];
  if (sat.some(Number.isFinite)) {
    rows.push(["all saturation runs", "CPU of B per delivered frame, µs", f(sat[0], 1), f(sat[1], 1), f(sat[2], 1), ratio(sat[0], sat[1], 0), ratio(sat[0], sat[2], 0)]);
  }
  const paced = relayAtAppPaceUs(runs);
  if (Number.isFinite(paced)) {
    rows.push(["… relay at the app's pace", "CPU of B per delivered frame, µs", f(sat[0], 1), f(paced, 1), "—", ratio(sat[0], paced, 0), "—"]);
  }
  const fed = fedCpuPerFrameUs(runs);
  if (Number.isFinite(fed.app)) {
    rows.push(["… B fed unpaced (A's messages replayed)", "CPU of B per delivered frame, µs", f(fed.app, 1), f(fed.relay, 1), "—", ratio(fed.app, fed.relay, 0), "—"]);
  }
  return layout(head, rows);
}

/**
 * Under the aims: for each missed aim, what the instance that explains it spent its CPU on while
 * it was measured; without profiles, how to get them.
 */
export function missProfiles(rows: GoalRow[], profiled: boolean): string[] {
  const missed = rows.filter((r) => r.met === false);
  if (missed.length === 0) return [];
  const out = ["", "Profiles of the missed aims (top self time of the instance, over the measured window)"];
  for (const r of missed) {
    out.push("", `goal ${r.goal}: ${r.aim}`);
    if (r.profile) out.push(formatProfile(r.profile));
    else if (!profiled) out.push("  no profile: run with BENCH_LIVE_CPU_PROF_DIR=<dir>");
    else out.push("  no profile for this aim (memory, or no instance's CPU explains it)");
  }
  return out;
}

/** The whole printed report: raw runs, the comparison, the aims, and the profiles of the misses. */
export function table(report: LiveReport, profiled = false): string {
  const fanout =
    report.runs.length + report.idle.length > 0
      ? [
          runsTable(report.idle, report.runs),
          "",
          "Each figure against both baselines (ratio > 1: the app's number is larger)",
          "",
          comparisonTable(report.idle, report.runs),
          "",
        ]
      : [];
  return [
    ...fanout,
    "The issue's aims",
    "",
    goalTable(report.goals),
    ...missProfiles(report.goals, profiled),
    ...(report.socketIo ? ["", `Socket.IO baseline: ${report.socketIo}`] : []),
  ].join("\n");
}

/** Writes bench/results/live-<timestamp>.json and returns its path. */
export function writeReport(report: LiveReport, dir: string): string {
  mkdirSync(dir, { recursive: true });
  const file = join(dir, `live-${report.startedAt.replace(/[:.]/g, "-")}.json`);
  writeFileSync(file, `${JSON.stringify(report, null, 2)}\n`);
  return file;
}
