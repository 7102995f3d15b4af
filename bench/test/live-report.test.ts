import { describe, expect, test } from "bun:test";
import { bestSaturationPeak, cpuPerFrameUs, type GoalInputs, goalRows, goalTable } from "../live/goals.ts";
import { comparisonTable } from "../live/report.ts";
import type { IdleResult, RunResult } from "../live/scenario.ts";
import type { TargetKind } from "../live/targets.ts";

const MAIN = "main 200×4";

function run(scenario: string, target: TargetKind, over: Partial<RunResult> = {}): RunResult {
  return {
    scenario,
    target,
    sessions: 200,
    watchersPerSession: 4,
    events: 1000,
    seconds: 1,
    eventsPerSecond: 1000,
    peakEventsPerSecond: 1000,
    latencySamples: 900,
    p50Ms: 1,
    p99Ms: 10,
    maxMs: 20,
    cpuMsA: 100,
    cpuMsB: 100,
    cpuMsClient: 50,
    incompleteWatchers: 0,
    closedWatchers: 0,
    errors: [],
    ...over,
  };
}

function idle(target: TargetKind, kb: number): IdleResult {
  return { target, connections: 1000, rssBeforeKb: 0, rssAfterKb: kb * 1000, rssAfterCloseKb: 0, perConnectionKb: kb, perConnectionKbSecondRound: kb };
}

/** A run of all three targets: app 30 ms p99, relay 10 ms, Socket.IO 40 ms; saturation at two rates. */
function inputs(over: Partial<GoalInputs> = {}): GoalInputs {
  return {
    mainScenario: MAIN,
    socketIo: "socket.io 4.8.4",
    idle: [idle("app", 3), idle("relay", 1), idle("socket.io", 20)],
    runs: [
      run(MAIN, "app", { p99Ms: 30 }),
      run(MAIN, "relay", { p99Ms: 10 }),
      run(MAIN, "socket.io", { p99Ms: 40 }),
      run("saturation 50 tok/s", "app", { peakEventsPerSecond: 900, cpuMsB: 30, events: 1000 }),
      run("saturation 50 tok/s", "relay", { peakEventsPerSecond: 1000, cpuMsB: 10, events: 1000 }),
      run("saturation 50 tok/s", "socket.io", { peakEventsPerSecond: 700, cpuMsB: 40, events: 1000 }),
      run("saturation 100 tok/s", "app", { peakEventsPerSecond: 1500, cpuMsB: 10, events: 1000 }),
      run("saturation 100 tok/s", "relay", { peakEventsPerSecond: 2000, cpuMsB: 10, events: 1000 }),
      run("saturation 100 tok/s", "socket.io", { peakEventsPerSecond: 800, cpuMsB: 20, events: 1000 }),
    ],
    ...over,
  };
}

const row = (rows: ReturnType<typeof goalRows>, aimStart: string) => {
  const r = rows.find((x) => x.aim.startsWith(aimStart));
  if (!r) throw new Error(`no row for ${aimStart}`);
  return r;
};

describe("live bench aims", () => {
  test("every goal of the issue has a row; scenarios that did not run are not measured, never met", () => {
    const rows = goalRows(inputs());
    expect([...new Set(rows.map((r) => r.goal))]).toEqual([1, 2, 3, 4, 5, 6, 7]);
    for (const goal of [2, 5, 6, 7]) {
      for (const r of rows.filter((x) => x.goal === goal)) {
        expect(r.met).toBeNull();
        expect(r.measured).toBe("not measured in this run");
      }
    }
    expect(goalTable(rows)).toContain("not measured in this run");
  });

  test("fan-out figures are judged against both baselines", () => {
    const rows = goalRows(inputs());
    expect(row(rows, "Socket.IO 4.8").met).toBe(true);
    // 30 ms against the relay's 10 ms: 3×, above the aim of 2×.
    expect(row(rows, "fan-out p99").met).toBe(false);
    expect(row(rows, "… and below Socket.IO's").met).toBe(true);
    // B's CPU over both saturation runs: app 40 ms / 2000 frames = 20 µs, relay 10 µs: 2×.
    expect(cpuPerFrameUs(inputs().runs, "app")).toBeCloseTo(20);
    expect(row(rows, "B's CPU per delivered frame").met).toBe(false);
    // Best peaks: app 1500, relay 2000: 0.75×.
    expect(bestSaturationPeak(inputs().runs, "app")).toBe(1500);
    expect(row(rows, "saturation, best peak").met).toBe(false);
    expect(row(rows, "saturation, best peak").measured).toContain("0.75×");
    expect(row(rows, "RSS per idle").met).toBe(true);
    expect(goalTable(rows)).toContain("MISSED");
  });

  test("equal p99s are not below Socket.IO's, and an app above 4 KB per idle connection misses", () => {
    const base = inputs();
    const runs = base.runs.map((r) => (r.scenario === MAIN && r.target === "app" ? { ...r, p99Ms: 40 } : r));
    const rows = goalRows({ ...base, runs, idle: [idle("app", 5), idle("relay", 1), idle("socket.io", 20)] });
    expect(row(rows, "… and below Socket.IO's").met).toBe(false);
    expect(row(rows, "RSS per idle").met).toBe(false);
  });

  test("without Socket.IO its rows are not measured rather than met", () => {
    const base = inputs();
    const rows = goalRows({ ...base, socketIo: undefined, runs: base.runs.filter((r) => r.target !== "socket.io") });
    expect(row(rows, "Socket.IO 4.8").met).toBeNull();
    expect(row(rows, "… and below Socket.IO's").met).toBeNull();
  });

  test("a filled slot is judged against its aim", () => {
    const rows = goalRows(
      inputs({
        chatTurn: { turns: 200, cpuMsPerTurn: 4.2, turnsPerSecond: 80 },
        reconnectStorm: { clients: 5000, seconds: 8.5, unneededResets: 0, setupsPerSecond: 1200 },
        lateJoiner: { sessionMessages: 5000, sentMessages: 200, rowsRead: 201 },
        cluster: { primaries: 3, replicas: 3, p99Ms: 20, failover: { lostMessages: 0, roomsReset: 2 } },
      }),
    );
    expect(row(rows, "chat turn").met).toBe(false);
    expect(row(rows, "chat turn").measured).toContain("4.20 ms/turn");
    expect(row(rows, "reconnect storm").met).toBe(true);
    expect(row(rows, "connection setup").met).toBe(true);
    expect(row(rows, "late joiner").met).toBe(false);
    expect(row(rows, "live path on Redis Cluster").met).toBe(true);
  });
});

describe("live bench comparison table", () => {
  test("prints app/relay and app/Socket.IO for every figure", () => {
    const { idle: i, runs } = inputs();
    const lines = comparisonTable(i, runs).split("\n");
    const p99 = lines.find((l) => l.startsWith(MAIN) && l.includes("p99 fan-out latency"));
    // app 30, relay 10, Socket.IO 40 → 3.00 and 0.75.
    expect(p99?.split(/\s{2,}/).slice(-2)).toEqual(["3.00", "0.75"]);
    const rss = lines.find((l) => l.includes("RSS per idle connection"));
    expect(rss?.split(/\s{2,}/).slice(-2)).toEqual(["3.00", "0.15"]);
    for (const figure of ["p50 fan-out latency", "events/s", "peak events/s", "CPU of A", "CPU of B, ms", "CPU of B per delivered frame", "CPU of the client"]) {
      expect(lines.some((l) => l.startsWith(MAIN) && l.includes(figure))).toBe(true);
    }
    expect(lines.some((l) => l.startsWith("all saturation runs"))).toBe(true);
  });
});
