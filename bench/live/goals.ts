/**
 * The seven aims of the live path's issue, one row each (some aims have two or three rows), judged
 * from one bench run. Goals whose scenario did not run in this run print "not measured in this run":
 * a scenario plugs in by filling its slot of `GoalInputs` (the typed optional fields below) and, if
 * its aim needs more than the row here reads, by editing that one row.
 */
import type { ProfileWindow, WindowProfile } from "./profiles.ts";
import type { IdleResult, RunResult } from "./scenario.ts";
import type { TargetKind } from "./targets.ts";

/** Goal 2: a chat turn's CPU on the generating instance (A), the model's own stream excluded. */
export interface ChatTurnResult {
  turns: number;
  /** CPU of A per turn, ms. */
  cpuMsPerTurn: number;
  /** Turns per second one instance sustains with the dev model. */
  turnsPerSecond: number;
  /** Database round trips per turn, when counted. */
  dbRoundTripsPerTurn?: number;
  /** The JavaScript thread's and the JIT compiler's share of `cpuMsPerTurn`, ms (the rest is Bun's other threads). */
  jsThreadMsPerTurn?: number;
  jitMsPerTurn?: number;
  /** The same instance's warm-up turns, its first after start (JIT compiling included). */
  coldTurns?: number;
  coldCpuMsPerTurn?: number;
}

/** Goal 5: the clients of a killed instance reconnect to the survivor and resume by offset. */
export interface ReconnectStormResult {
  clients: number;
  /** Clients that resumed and caught up (the rest failed or timed out). */
  caughtUp: number;
  /** From the kill until the last client is caught up, s (NaN when some never were). */
  seconds: number;
  /**
   * Rooms answered with `reset` although their replay buffer still reached the client's offset.
   * In the bench's storm every room's buffer reaches back to the kill, so every reset counts.
   */
  unneededResets: number;
  /** Events missed or seen twice across all clients (aim: none). */
  gapsAndDuplicates: number;
  /** Connection setups (ticket + upgrade + subscribe) per second on one instance core, from its CPU. */
  setupsPerSecond: number;
  /** The same setups per second by the wall clock, with the client on the same machine. */
  setupsPerSecondWall?: number;
}

/** Goal 6: a late joiner's snapshot of a long session. */
export interface LateJoinerResult {
  sessionMessages: number;
  /** Messages the snapshot sends. */
  sentMessages: number;
  /** Message rows the snapshot reads from the database (per joiner). */
  rowsRead: number;
  /** Late joiners measured. */
  joiners?: number;
  p50Ms?: number;
}

/** Goal 7: the live path on a Redis Cluster. */
export interface ClusterResult {
  primaries: number;
  replicas: number;
  /** The fan-out scenario on the cluster (`sessions×watchers`). */
  scenario?: string;
  /** Fan-out p99 of that scenario on the cluster, ms. */
  p99Ms: number;
  /** Watchers that never saw their room's answer complete. */
  incompleteWatchers?: number;
  /**
   * A primary killed mid-answer: stored messages lost (aim 0), rooms reset (allowed, as the
   * protocol documents), and watchers that saw a gap or a repeat without a reset (aim 0).
   */
  failover?: {
    answers: number;
    lostMessages: number;
    roomsReset: number;
    silentGaps: number;
    unresumedWatchers?: number;
    /** Rooms whose slot was on the killed primary, and resets of rooms that were not (needless). */
    roomsOnKilledShard?: number;
    roomsResetElsewhere?: number;
  };
}

/** Everything the rows are judged from; `idle` and `runs` come from the fan-out scenarios. */
export interface GoalInputs {
  mainScenario: string;
  idle: IdleResult[];
  runs: RunResult[];
  chatTurn?: ChatTurnResult;
  reconnectStorm?: ReconnectStormResult;
  lateJoiner?: LateJoinerResult;
  cluster?: ClusterResult;
  /** Versions of the Socket.IO baseline, when it ran. */
  socketIo?: string;
}

export interface GoalRow {
  /** Stable name of the row, for the profile that explains a miss. */
  id: string;
  goal: number;
  aim: string;
  measured: string;
  /** null: not measured in this run. */
  met: boolean | null;
  /** For a miss, when profiles were taken: the relevant instance's top self time over the window. */
  profile?: WindowProfile;
}

/** The instance and window whose profile explains each row, as the bench recorded them. */
export type ProfileWindows = Partial<Record<string, ProfileWindow>>;

/** Attaches `read(window)` to every missed row that has a window (and a profile to read). */
export function attachProfiles(rows: GoalRow[], windows: ProfileWindows, read: (w: ProfileWindow) => WindowProfile | null): GoalRow[] {
  return rows.map((row) => {
    const window = row.met === false ? windows[row.id] : undefined;
    const profile = window ? read(window) : null;
    return profile ? { ...row, profile } : row;
  });
}

const f = (n: number, digits = 0) => (Number.isFinite(n) ? n.toFixed(digits) : "—");
const x = (n: number) => `${f(n, 2)}×`;
const NOT_MEASURED = "not measured in this run";

/** CPU of B per frame its watchers received, µs, over every saturation run of `target`. */
export function cpuPerFrameUs(runs: RunResult[], target: TargetKind): number {
  const sat = runs.filter((r) => r.target === target && r.scenario.startsWith("saturation"));
  const events = sat.reduce((a, r) => a + r.events, 0);
  return events > 0 ? (sat.reduce((a, r) => a + r.cpuMsB, 0) * 1000) / events : Number.NaN;
}

/** Scenario prefix of the relay's replays of the saturation runs at the app's own pace. */
export const AT_APP_PACE = "at the app's pace, ";

/**
 * CPU of the relay's B per frame over its replays of the saturation runs at the app's pace: what
 * the relay costs when frames arrive as the app's publisher sends them (fewer share a write).
 */
export function relayAtAppPaceUs(runs: RunResult[]): number {
  const paced = runs.filter((r) => r.target === "relay" && r.scenario.startsWith(`${AT_APP_PACE}saturation`));
  const events = paced.reduce((a, r) => a + r.events, 0);
  return events > 0 ? (paced.reduce((a, r) => a + r.cpuMsB, 0) * 1000) / events : Number.NaN;
}

/** Scenario prefix of the app's B fed A's own messages again, unpaced (bench/live/fed.ts). */
export const B_FED = "B fed unpaced, ";

/**
 * CPU of B per frame over the app's "B fed unpaced" runs, and the relay's over its unpaced
 * replays of the same saturation runs (those with a fed run), µs.
 */
export function fedCpuPerFrameUs(runs: RunResult[]): { app: number; relay: number; runs: RunResult[]; relayRuns: RunResult[] } {
  const fed = runs.filter((r) => r.target === "app" && r.scenario.startsWith(B_FED));
  const relay = runs.filter((r) => r.target === "relay" && fed.some((a) => a.scenario === `${B_FED}${r.scenario}`));
  return { app: perFrameUs(fed, (r) => r.cpuMsB), relay: perFrameUs(relay, (r) => r.cpuMsB), runs: fed, relayRuns: relay };
}

/** `cpu` of B summed over `runs`, per frame their watchers received, µs. */
function perFrameUs(runs: RunResult[], cpu: (r: RunResult) => number): number {
  const events = runs.reduce((a, r) => a + r.events, 0);
  return events > 0 ? (runs.reduce((a, r) => a + cpu(r), 0) * 1000) / events : Number.NaN;
}

/** B's JavaScript thread (`bun.exe`) and JIT thread per frame, µs: where a fed run's figure went. */
function threadsUs(runs: RunResult[]): string {
  const thread = (name: string) => (r: RunResult) => r.cpuMsBByThread?.[name] ?? 0;
  return `JavaScript thread ${f(perFrameUs(runs, thread("bun.exe")), 1)}, JIT ${f(perFrameUs(runs, thread("JITWorker")), 1)}`;
}

/** Best peak delivery rate (events/s over the peak window) of `target`'s saturation runs. */
export function bestSaturationPeak(runs: RunResult[], target: TargetKind): number {
  const peaks = runs
    .filter((r) => r.target === target && r.scenario.startsWith("saturation"))
    .map((r) => r.peakEventsPerSecond)
    .filter(Number.isFinite);
  return peaks.length > 0 ? Math.max(...peaks) : Number.NaN;
}

export function goalRows(input: GoalInputs): GoalRow[] {
  const rows: GoalRow[] = [];
  const main = (t: TargetKind) => input.runs.find((r) => r.scenario === input.mainScenario && r.target === t);
  const idle = (t: TargetKind) => input.idle.find((i) => i.target === t);
  const appMain = main("app");
  const relayMain = main("relay");
  const sioMain = main("socket.io");

  const sioRuns = input.runs.filter((r) => r.target === "socket.io");
  const sioComplete = sioRuns.length > 0 && sioRuns.every((r) => r.events > 0 && r.incompleteWatchers === 0);
  rows.push({
    id: "socket.io",
    goal: 1,
    aim: "Socket.IO 4.8 + Redis adapter on Node replays the same events in the same run",
    measured: input.socketIo
      ? `${sioRuns.length} runs${idle("socket.io") ? " + idle RSS" : ""}, ${sioComplete ? "every watcher complete" : "some watchers incomplete"} (versions below)`
      : NOT_MEASURED,
    met: input.socketIo ? sioComplete && sioMain !== undefined : null,
  });

  const turn = input.chatTurn;
  rows.push({
    id: "turn-cpu",
    goal: 2,
    aim: "chat turn ≤ 3.5 ms CPU on A (model stream excluded); turns/s of one instance",
    measured: turn
      ? `${f(turn.cpuMsPerTurn, 2)} ms/turn over ${turn.turns} turns, ${f(turn.turnsPerSecond, 1)} turns/s${turn.dbRoundTripsPerTurn === undefined ? "" : `, ${f(turn.dbRoundTripsPerTurn, 1)} DB round trips/turn`}${turn.jsThreadMsPerTurn === undefined ? "" : ` (JavaScript thread ${f(turn.jsThreadMsPerTurn, 2)}, JIT ${f(turn.jitMsPerTurn ?? 0, 2)})`}${turn.coldCpuMsPerTurn === undefined ? "" : `; the instance's first ${turn.coldTurns} turns ${f(turn.coldCpuMsPerTurn, 2)} ms`}`
      : NOT_MEASURED,
    met: turn ? turn.cpuMsPerTurn <= 3.5 : null,
  });

  // Goal 3's p99s are the second reader's when the run had one on both sides (bench/live/probe.ts):
  // the client's loop stamps 800 watchers' frames one after another, which charged the targets whose
  // B writes a step's frames in one burst (the app, the relay) tens of ms of the client's own queue
  // at p99 and Socket.IO's 0–6 ms (bench/README.md, "The fan-out tail, second pass"). The client's
  // figures stay beside them, and carry the verdict for a run without the probe.
  const p99Row = (base: RunResult | undefined, name: string, met: (app: number, base: number) => boolean) => {
    if (!appMain || !base) return { measured: NOT_MEASURED, met: null };
    const ratio = (a: number, b: number) => a / Math.max(1, b);
    const client = `app ${f(appMain.p99Ms)} ms, ${name} ${f(base.p99Ms)} ms: ${x(ratio(appMain.p99Ms, base.p99Ms))}`;
    const [app, other] = appMain.probe && base.probe ? [appMain.probe.p99Ms, base.probe.p99Ms] : [appMain.p99Ms, base.p99Ms];
    const judged = Number.isFinite(app) && Number.isFinite(other) ? met(app, other) : null;
    if (!appMain.probe || !base.probe) return { measured: client, met: judged };
    return { measured: `second reader: app ${f(app)} ms, ${name} ${f(other)} ms: ${x(ratio(app, other))} [client: ${client}]`, met: judged };
  };
  rows.push({
    id: "p99-relay",
    goal: 3,
    aim: `fan-out p99 at ${input.mainScenario.replace(/^main /, "")} ≤ 2× the relay's`,
    // Millisecond timestamps: a baseline p99 of 0 would make any ratio infinite, so floor it at 1 ms.
    ...p99Row(relayMain, "relay", (app, relay) => app / Math.max(1, relay) <= 2),
  });
  rows.push({
    id: "p99-socket.io",
    goal: 3,
    aim: "… and below Socket.IO's",
    ...p99Row(sioMain, "Socket.IO", (app, sio) => app < sio),
  });
  const [appUs, relayUs, sioUs] = (["app", "relay", "socket.io"] as const).map((t) => cpuPerFrameUs(input.runs, t)) as [number, number, number];
  const usRatio = appUs / relayUs;
  const pacedUs = relayAtAppPaceUs(input.runs);
  const atPace = Number.isFinite(pacedUs) ? `; relay at the app's pace ${f(pacedUs, 1)} µs (${x(appUs / pacedUs)})` : "";
  rows.push({
    id: "frame-cpu",
    goal: 3,
    aim: "B's CPU per delivered frame at saturation ≤ 1.5× the relay's",
    measured: Number.isFinite(usRatio) ? `app ${f(appUs, 1)} µs, relay ${f(relayUs, 1)} µs (${x(usRatio)}), Socket.IO ${f(sioUs, 1)} µs${atPace}` : NOT_MEASURED,
    met: Number.isFinite(usRatio) ? usRatio <= 1.5 : null,
  });
  // The aim's subject is the watching instance: the same figure with the app's B fed as densely
  // as the relay's (A's own messages replayed by the relay's publisher loop), every frame checked.
  const fed = fedCpuPerFrameUs(input.runs);
  const fedRatio = fed.app / fed.relay;
  const fedClean = fed.runs.every(
    (r) => r.incompleteWatchers === 0 && r.offsetChecks !== undefined && r.offsetChecks.gaps + r.offsetChecks.duplicates === 0 && r.errors.length === 0,
  );
  const fedChecks = fed.runs.reduce((a, r) => ({ gaps: a.gaps + (r.offsetChecks?.gaps ?? 0), duplicates: a.duplicates + (r.offsetChecks?.duplicates ?? 0) }), {
    gaps: 0,
    duplicates: 0,
  });
  rows.push({
    id: "frame-cpu-fed",
    goal: 3,
    aim: "B's CPU per frame, B fed unpaced (A's messages replayed) ≤ 1.5× relay unpaced",
    measured: Number.isFinite(fedRatio)
      ? `app ${f(fed.app, 1)} µs, relay unpaced ${f(fed.relay, 1)} µs (${x(fedRatio)}); ${fed.runs.reduce((a, r) => a + r.events, 0)} frames over ${fed.runs.length} runs, ${fedChecks.gaps} gaps, ${fedChecks.duplicates} duplicates${fedClean ? "" : ", some runs incomplete or in error (see the runs)"}${fed.runs.some((r) => r.cpuMsBByThread) ? ` (by thread, app ${threadsUs(fed.runs)}; relay ${threadsUs(fed.relayRuns)})` : ""}`
      : NOT_MEASURED,
    met: Number.isFinite(fedRatio) ? fedRatio <= 1.5 && fedClean : null,
  });
  const [appPeak, relayPeak, sioPeak] = (["app", "relay", "socket.io"] as const).map((t) => bestSaturationPeak(input.runs, t)) as [number, number, number];
  const peakRatio = appPeak / relayPeak;
  rows.push({
    id: "saturation",
    goal: 3,
    aim: "saturation, best peak events/s ≥ 0.8× the relay's (earlier aim)",
    measured: Number.isFinite(peakRatio) ? `app ${f(appPeak)}/s, relay ${f(relayPeak)}/s (${x(peakRatio)}), Socket.IO ${f(sioPeak)}/s` : NOT_MEASURED,
    met: Number.isFinite(peakRatio) ? peakRatio >= 0.8 : null,
  });

  const appIdle = idle("app");
  const sioIdle = idle("socket.io");
  rows.push({
    id: "idle-rss",
    goal: 4,
    aim: "RSS per idle authenticated connection ≤ 4 KB and below Socket.IO's",
    measured: appIdle
      ? `app ${f(appIdle.perConnectionKb, 1)} KB, Socket.IO ${sioIdle ? f(sioIdle.perConnectionKb, 1) : "—"} KB, relay ${f(idle("relay")?.perConnectionKb ?? Number.NaN, 1)} KB${furtherKb(input.idle)}`
      : NOT_MEASURED,
    met: appIdle && sioIdle ? appIdle.perConnectionKb <= 4 && appIdle.perConnectionKb < sioIdle.perConnectionKb : null,
  });

  const storm = input.reconnectStorm;
  rows.push({
    id: "storm",
    goal: 5,
    aim: "reconnect storm: 5,000 clients resumed and caught up ≤ 10 s, no needless reset, no gap",
    measured: storm
      ? `${storm.caughtUp}/${storm.clients} clients caught up${Number.isFinite(storm.seconds) ? ` in ${f(storm.seconds, 1)} s` : ""}, ${storm.unneededResets} needless resets, ${storm.gapsAndDuplicates} gaps/duplicates`
      : NOT_MEASURED,
    met: storm ? storm.clients >= 5000 && storm.caughtUp === storm.clients && storm.seconds <= 10 && storm.unneededResets === 0 && storm.gapsAndDuplicates === 0 : null,
  });
  rows.push({
    id: "setup",
    goal: 5,
    aim: "connection setup (ticket + upgrade + subscribe) ≥ 1,000/s per instance",
    measured: storm
      ? `${f(storm.setupsPerSecond)}/s per core from B's CPU${storm.setupsPerSecondWall === undefined ? "" : ` (${f(storm.setupsPerSecondWall)}/s wall)`}`
      : NOT_MEASURED,
    met: storm ? storm.setupsPerSecond >= 1000 : null,
  });

  const late = input.lateJoiner;
  rows.push({
    id: "late-joiner",
    goal: 6,
    // The one row past what is sent tells the client older messages exist (`truncated`).
    aim: "late joiner's snapshot reads only what it sends (+1 look-ahead row)",
    measured: late
      ? `session of ${late.sessionMessages} messages: ${f(late.rowsRead, 1)} rows read, ${late.sentMessages} sent${late.p50Ms === undefined ? "" : `, p50 ${f(late.p50Ms, 1)} ms`}${late.joiners === undefined ? "" : ` (${late.joiners} joiners)`}`
      : NOT_MEASURED,
    met: late ? late.sentMessages > 0 && late.rowsRead <= late.sentMessages + 1 : null,
  });

  const cluster = input.cluster;
  rows.push({
    id: "cluster-fanout",
    goal: 7,
    aim: "live path on a Redis Cluster (sharded pub/sub): every watcher served",
    measured: cluster
      ? `${cluster.primaries} primaries + ${cluster.replicas} replicas${cluster.scenario ? `, ${cluster.scenario}` : ""}: p99 ${f(cluster.p99Ms)} ms${appMain ? ` (single Redis ${f(appMain.p99Ms)} ms)` : ""}, ${cluster.incompleteWatchers ?? "?"} watchers incomplete`
      : NOT_MEASURED,
    met: cluster ? Number.isFinite(cluster.p99Ms) && cluster.incompleteWatchers === 0 : null,
  });
  const fo = cluster?.failover;
  rows.push({
    id: "cluster-failover",
    goal: 7,
    aim: "… a primary killed mid-answer: nothing stored lost, rooms resume or reset (no silent gap)",
    measured: fo
      ? `${fo.answers} answers streaming: ${fo.lostMessages} messages lost, ${fo.roomsReset} rooms reset${fo.roomsOnKilledShard === undefined ? "" : ` (${fo.roomsOnKilledShard} rooms on the killed shard; ${fo.roomsResetElsewhere ?? 0} reset elsewhere)`}, ${fo.silentGaps} silent gaps${fo.unresumedWatchers ? `, ${fo.unresumedWatchers} watchers could not resume` : ""}`
      : cluster
        ? "no failover run"
        : NOT_MEASURED,
    met: fo ? fo.lostMessages === 0 && fo.silentGaps === 0 && !fo.unresumedWatchers && !fo.roomsResetElsewhere : null,
  });
  return rows;
}

/** The rows as a text table: goal, aim, measured, verdict. */
export function goalTable(rows: GoalRow[]): string {
  const verdict = (m: boolean | null) => (m === null ? "not measured in this run" : m ? "met" : "MISSED");
  const cells = rows.map((r) => [String(r.goal), r.aim, r.measured, verdict(r.met)]);
  const head = ["goal", "aim", "measured", "met or MISSED"];
  const widths = head.map((h, c) => Math.max(h.length, ...cells.map((r) => (r[c] ?? "").length)));
  const line = (row: string[]) =>
    row
      .map((cell, c) => cell.padEnd(widths[c] ?? 0))
      .join("  ")
      .trimEnd();
  return [line(head), line(widths.map((w) => "-".repeat(w))), ...cells.map(line)].join("\n");
}

/**
 * The marginal reading beside goal 4's (information, not its verdict): "; per further socket: app
 * 1.90, relay 0.95, Socket.IO 20.10 KB", or "" when the further sockets were not opened.
 */
function furtherKb(idle: IdleResult[]): string {
  const measured = idle.filter((i) => i.more > 0);
  if (measured.length === 0) return "";
  const name = (t: TargetKind) => (t === "socket.io" ? "Socket.IO" : t);
  return `; per further socket (${measured[0]?.more} more on top, information): ${measured.map((i) => `${name(i.target)} ${f(i.perFurtherConnectionKb, 2)}`).join(", ")} KB`;
}
