/**
 * CPU profiles of the bench's API instances (`bun --cpu-prof`, written when a process exits) read
 * back for a window of the run: the functions with the most self time between two moments, so a
 * missed aim comes with what the instance was doing while it was measured rather than over its
 * whole life (start-up, seeding, other scenarios).
 *
 * The `.cpuprofile` is Chrome's format: a tree of nodes (each a function at a call site), the
 * sampled leaf node of every tick (`samples`) and the µs since the previous tick (`timeDeltas`),
 * from `startTime` in epoch µs. A sample's self time is the gap to the next sample; time the
 * process spent idle is charged to `(idle)` or, in long gaps, to whatever was last on the stack,
 * so entries are ranked by sample count, and `ms` is count × the sampling interval.
 */
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";

interface CallFrame {
  functionName: string;
  url: string;
  lineNumber: number;
}

export interface CpuProfile {
  nodes: { id: number; callFrame: CallFrame }[];
  startTime: number;
  samples: number[];
  timeDeltas: number[];
}

export interface ProfileEntry {
  function: string;
  /** File (relative to the repository when inside it) and line. */
  location: string;
  samples: number;
  /** Share of the window's non-idle samples, %. */
  percent: number;
  /** Samples × the median sampling interval. */
  ms: number;
}

/** What instance `instance` spent its CPU on between `fromMs` and `toMs` (epoch ms). */
export interface WindowProfile {
  instance: string;
  fromMs: number;
  toMs: number;
  spans?: { fromMs: number; toMs: number }[];
  /** Non-idle samples in the window. */
  samples: number;
  top: ProfileEntry[];
  /** Where the profile is, for a closer look (the `.md` beside it is Bun's whole-life summary). */
  file: string;
}

/** A window of the run, on one instance, that explains an aim. */
export interface ProfileWindow {
  instance: string;
  fromMs: number;
  toMs: number;
  /**
   * Only these parts of the window (epoch ms), when the aim's figure was measured over several
   * runs with other work in between: the saturation runs' CPU is counted from each run's start to
   * its last frame, not over the watchers' setups before each run or the baselines' replays.
   */
  spans?: { fromMs: number; toMs: number }[];
}

const IDLE = new Set(["(idle)", "(root)", "(program)"]);

/** The `.cpuprofile` an instance wrote into `<dir>/<instance>`, or null (still running, killed). */
export function findProfile(dir: string, instance: string): string | null {
  const sub = join(dir, instance);
  if (!existsSync(sub)) return null;
  const file = readdirSync(sub)
    .filter((f) => f.endsWith(".cpuprofile"))
    .sort()
    .pop();
  return file ? join(sub, file) : null;
}

function location(frame: CallFrame, root: string): string {
  if (!frame.url) return "(native)";
  const path = frame.url.replace(/^file:\/\//, "");
  const rel = path.startsWith(`${root}/`) ? path.slice(root.length + 1) : path.replace(/^.*\/node_modules\//, "node_modules/");
  return frame.lineNumber >= 0 ? `${rel}:${frame.lineNumber + 1}` : rel;
}

/** The `top` entries by self samples within the window; `root` shortens file names. */
export function topSelf(profile: CpuProfile, window: ProfileWindow, root: string, top = 10): Omit<WindowProfile, "file"> {
  const byId = new Map(profile.nodes.map((n) => [n.id, n.callFrame]));
  const counts = new Map<string, { function: string; location: string; samples: number }>();
  const spans = (window.spans ?? [{ fromMs: window.fromMs, toMs: window.toMs }]).map((w) => [w.fromMs * 1000, w.toMs * 1000] as const);
  const inWindow = (t: number) => spans.some(([from, to]) => t >= from && t <= to);
  const deltas: number[] = [];
  let t = profile.startTime;
  let total = 0;
  profile.samples.forEach((id, i) => {
    const delta = profile.timeDeltas[i] ?? 0;
    t += delta;
    if (!inWindow(t)) return;
    deltas.push(delta);
    const frame = byId.get(id);
    if (!frame || IDLE.has(frame.functionName)) return;
    const name = frame.functionName || "(anonymous)";
    const where = location(frame, root);
    const key = `${name}\u0000${where}`;
    const entry = counts.get(key) ?? { function: name, location: where, samples: 0 };
    entry.samples++;
    counts.set(key, entry);
    total++;
  });
  deltas.sort((a, b) => a - b);
  const intervalMs = (deltas[Math.floor(deltas.length / 2)] ?? 1000) / 1000;
  const entries = [...counts.values()]
    .sort((a, b) => b.samples - a.samples)
    .slice(0, top)
    .map((e) => ({ ...e, percent: total > 0 ? (e.samples * 100) / total : 0, ms: e.samples * intervalMs }));
  return { instance: window.instance, fromMs: window.fromMs, toMs: window.toMs, ...(window.spans ? { spans: window.spans } : {}), samples: total, top: entries };
}

/** Reads `window.instance`'s profile from `dir` and ranks the window; null when there is none. */
export function profileWindow(dir: string, window: ProfileWindow, root: string, top = 10): WindowProfile | null {
  const file = findProfile(dir, window.instance);
  if (!file) return null;
  const profile = JSON.parse(readFileSync(file, "utf8")) as CpuProfile;
  return { ...topSelf(profile, window, root, top), file };
}

/** A profile as indented lines under the aims table. */
export function formatProfile(p: WindowProfile): string {
  const seconds = (p.spans ?? [p]).reduce((a, w) => a + (w.toMs - w.fromMs) / 1000, 0);
  const spans = p.spans ? ` in ${p.spans.length} spans` : "";
  const head = `  ${p.instance}, ${seconds.toFixed(1)} s window${spans}, ${p.samples} samples (${p.file})`;
  const lines = p.top.map((e) => `    ${e.percent.toFixed(1).padStart(5)}%  ${e.ms.toFixed(0).padStart(6)} ms  ${e.function}  ${e.location}`);
  return [head, ...lines].join("\n");
}
