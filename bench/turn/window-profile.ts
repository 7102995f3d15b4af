/**
 * A `bun --cpu-prof` profile of the turn bench's instance read back for one phase: the functions
 * with the most self time and the most total time (the function anywhere on the sampled stack,
 * counted once per sample) in the phase's window, each as µs per streamed delta and per turn, so
 * the per-delta path can be listed against the turn's fixed part.
 */
import { readFileSync } from "node:fs";
import type { CpuProfile } from "../live/profiles.ts";

interface Node {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  children?: number[];
}

export interface WindowEntry {
  function: string;
  location: string;
  samples: number;
  usPerDelta: number;
  usPerTurn: number;
}

export interface PhaseProfile {
  /** Non-idle samples of the JavaScript thread in the window. */
  samples: number;
  intervalUs: number;
  /** Samples by stage of the turn (`STAGES`, first match on the stack), with their share of all samples. */
  stages: { stage: string; samples: number; percent: number; usPerDelta: number; usPerTurn: number }[];
  self: WindowEntry[];
  total: WindowEntry[];
}

/**
 * Stages of a turn, told apart by what is on a sample's stack (the first stage that matches any
 * frame, in this order). The first three run per delta; the rest per turn.
 */
const STAGES: { stage: string; match: RegExp }[] = [
  { stage: "per delta: upstream stream (gateway client, SSE parse)", match: /packages\/gateway\/src|eventsource-parser/ },
  {
    stage: "per delta: publish (runner flush, bus publish, ioredis pipeline out)",
    match: /flush-clock\.ts|redis-bus\.ts:(publish)|event-body\.ts:encodeBody|autoPipelining\.js|Pipeline\.js|generation-runner\.ts:(flush|requestedFlush)/,
  },
  {
    stage: "per delta: Redis replies and messages in, fan-out to sockets",
    match: /ioredis\/built\/(DataHandler|redis)|redis-parser|local-listeners\.ts|room-feed\.ts|redis-bus\.ts:onMessage|resume\.ts/,
  },
  { stage: "Postgres (drizzle, postgres-js)", match: /drizzle-orm|postgres@|\/postgres\/src/ },
  { stage: "modules (PII, safety, struggle)", match: /packages\/modules\/src/ },
  { stage: "other ioredis (limits, presence, kv)", match: /ioredis/ },
];

const IDLE = new Set(["(idle)", "(root)", "(program)", "(garbage collector)"]);

function where(frame: Node["callFrame"], root: string): string {
  if (!frame.url) return "(native)";
  const path = frame.url.replace(/^file:\/\//, "");
  const rel = path.startsWith(`${root}/`) ? path.slice(root.length + 1) : path.replace(/^.*\/node_modules\//, "node_modules/");
  return frame.lineNumber >= 0 ? `${rel}:${frame.lineNumber + 1}` : rel;
}

/** Ranks the samples between `fromMs` and `toMs` (epoch ms) of the profile in `file`. */
export function phaseProfile(file: string, window: { fromMs: number; toMs: number; deltas: number; turns: number }, root: string, top = 25): PhaseProfile {
  const profile = JSON.parse(readFileSync(file, "utf8")) as CpuProfile & { nodes: Node[] };
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const parent = new Map<number, number>();
  for (const n of profile.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
  const key = (n: Node) => `${n.callFrame.functionName || "(anonymous)"}\u0000${where(n.callFrame, root)}`;
  const self = new Map<string, number>();
  const stages = new Map<string, number>();
  const total = new Map<string, number>();
  const deltas: number[] = [];
  let samples = 0;
  let t = profile.startTime;
  profile.samples.forEach((id, i) => {
    const delta = profile.timeDeltas[i] ?? 0;
    t += delta;
    if (t < window.fromMs * 1000 || t > window.toMs * 1000) return;
    deltas.push(delta);
    const leaf = byId.get(id);
    if (!leaf || IDLE.has(leaf.callFrame.functionName)) return;
    samples++;
    self.set(key(leaf), (self.get(key(leaf)) ?? 0) + 1);
    const seen = new Set<string>();
    const stack: string[] = [];
    for (let n: Node | undefined = leaf; n; n = byId.get(parent.get(n.id) ?? -1)) {
      const k = key(n);
      stack.push(`${where(n.callFrame, root).replace(/:\d+$/, "")}:${n.callFrame.functionName}`);
      if (seen.has(k) || IDLE.has(n.callFrame.functionName)) continue;
      seen.add(k);
      total.set(k, (total.get(k) ?? 0) + 1);
    }
    const stage = STAGES.find((st) => stack.some((f) => st.match.test(f)))?.stage ?? "other";
    stages.set(stage, (stages.get(stage) ?? 0) + 1);
  });
  deltas.sort((a, b) => a - b);
  const intervalUs = deltas[Math.floor(deltas.length / 2)] ?? 1000;
  const rank = (m: Map<string, number>): WindowEntry[] =>
    [...m.entries()]
      .sort((a, b) => b[1] - a[1])
      .slice(0, top)
      .map(([k, n]) => {
        const [fn = "", loc = ""] = k.split("\u0000");
        return {
          function: fn,
          location: loc,
          samples: n,
          usPerDelta: Math.round((n * intervalUs) / Math.max(1, window.deltas)),
          usPerTurn: Math.round((n * intervalUs) / Math.max(1, window.turns)),
        };
      });
  const perDelta = (n: number) => Math.round((n * intervalUs) / Math.max(1, window.deltas));
  const perTurn = (n: number) => Math.round((n * intervalUs) / Math.max(1, window.turns));
  return {
    samples,
    intervalUs,
    stages: [...STAGES.map((st) => st.stage), "other"].map((stage) => {
      const n = stages.get(stage) ?? 0;
      return { stage, samples: n, percent: Number(((n * 100) / Math.max(1, samples)).toFixed(1)), usPerDelta: perDelta(n), usPerTurn: perTurn(n) };
    }),
    self: rank(self),
    total: rank(total),
  };
}

export function formatPhaseProfile(p: PhaseProfile): string {
  const line = (e: WindowEntry) => `    ${String(e.usPerDelta).padStart(6)} µs/delta ${String(e.usPerTurn).padStart(7)} µs/turn  ${e.function}  ${e.location}`;
  return [
    `  JavaScript thread: ${p.samples} samples of ${p.intervalUs} µs in the window (sampled time; the thread's CPU is less under load)`,
    "  by stage:",
    ...p.stages.map(
      (st) => `    ${st.percent.toFixed(1).padStart(5)}%  ${String(st.usPerDelta).padStart(6)} µs/delta ${String(st.usPerTurn).padStart(7)} µs/turn  ${st.stage}`,
    ),
    "  by self time:",
    ...p.self.map(line),
    "  by total time (on the stack):",
    ...p.total.map(line),
  ].join("\n");
}
