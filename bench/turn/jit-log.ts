/**
 * Reads what JavaScriptCore printed to a process's stderr under `BUN_JSC_reportCompileTimes=1`,
 * `BUN_JSC_printEachOSRExit=1` and `BUN_JSC_verboseOSR=1` (any of them), and counts, per function:
 * compilations by tier, speculation failures (OSR exits) by kind, and jettisons by reason. The
 * turn bench slices the log at each phase's window, so a function compiled again in the measured
 * turns (after the warm-up) stands out from start-up.
 *
 * Given what the process printed before the window (`history`), a compilation at a tier the
 * function had already reached is a recompilation, and it is told apart by what came between:
 * OSR exits of the function since its last compilation at that tier (its speculation failed, as
 * `osrExitCountForReoptimization` counts), or none — the code was thrown away for another reason:
 * a cell it had folded in as a constant died (a closure or object of an earlier turn), a
 * watchpoint it relied on fired, or (Baseline) code unused for a while was reclaimed. Bun 1.4.5's JavaScriptCore prints the jettison reason itself only
 * with its disassembly options (`Jettisoning … due to WeakReference`), far too verbose for a run.
 *
 *   bun bench/turn/jit-log.ts <stderr slice> [top=25] [history: what came before the slice]
 */
import { readFileSync } from "node:fs";

export interface JitCounts {
  compiles: Map<string, Map<string, number>>;
  exits: Map<string, Map<string, number>>;
  jettisons: Map<string, Map<string, number>>;
  /** Compile time by tier (ms), from `reportCompileTimes`. */
  compileMs: Map<string, number>;
  /** Compilations at a tier the function had reached before (in the window or its history), by tier and cause. */
  recompiles: Map<string, Map<string, number>>;
  /** Their compile time (ms) by cause. */
  recompileMs: Map<string, number>;
}

const AFTER_EXITS = "after exits";
const WITHOUT_EXITS = "no exits";
// Without `printEachOSRExit` there are no exit lines to tell the two apart.
const UNKNOWN = "cause unknown (no printEachOSRExit)";

// `Optimized name#hash:[0x…->0x…, LLIntFunctionCall, 15 (StrictMode)] using DFG with DFG into 416 bytes in 0.41 ms.`
const OPTIMIZED = /^Optimized (.*?#\w+):\[[^\]]*?, (\w+), (\d+)[^\]]*\] using (\w+) with \w+ into \d+ bytes in ([\d.]+) ms/;
// `Speculation failure in name#hash:[…] @ exit #6 (bc#1, BadCache) with …`
const EXIT = /^Speculation failure in (.*?#\w+):\[[^\]]*\] @ exit #\d+ \(bc#(\d+), (\w+)\)/;
// `Jettisoning name#hash:[…] and counting reoptimization due to …`
const JETTISON = /^Jettisoning (.*?#\w+):\[[^\]]*?, (\w+), \d+[^\]]*\](.*?)(?: due to (.+?))?\.?$/;

// Functions are told apart by JavaScriptCore's source hash (`name#hash`): anonymous functions have
// no name, and two functions of one name (a method on two classes) are different code blocks.
const bump = (m: Map<string, Map<string, number>>, key: string, sub: string) => {
  const inner = m.get(key) ?? new Map<string, number>();
  m.set(key, inner);
  inner.set(sub, (inner.get(sub) ?? 0) + 1);
};

export function countJit(text: string, history = ""): JitCounts {
  const out: JitCounts = { compiles: new Map(), exits: new Map(), jettisons: new Map(), compileMs: new Map(), recompiles: new Map(), recompileMs: new Map() };
  // Per function, its OSR exits so far; per function and tier, that count when it was last compiled there.
  const exitsSoFar = new Map<string, number>();
  const exitsAtCompile = new Map<string, number>();
  const scan = (body: string, counting: boolean) => {
    for (const line of body.split("\n")) {
      let m = OPTIMIZED.exec(line);
      if (m) {
        const [fn, tier, ms] = [m[1] ?? "?", m[4] ?? "?", Number(m[5])];
        const exits = exitsSoFar.get(fn) ?? 0;
        const before = exitsAtCompile.get(`${fn} ${tier}`);
        exitsAtCompile.set(`${fn} ${tier}`, exits);
        if (!counting) continue;
        bump(out.compiles, `${fn} (${m[3]})`, tier);
        out.compileMs.set(tier, (out.compileMs.get(tier) ?? 0) + ms);
        if (before !== undefined) {
          const cause = exits > before ? AFTER_EXITS : WITHOUT_EXITS;
          bump(out.recompiles, `${fn} (${m[3]})`, `${tier} ${cause}`);
          out.recompileMs.set(cause, (out.recompileMs.get(cause) ?? 0) + ms);
        }
        continue;
      }
      m = EXIT.exec(line);
      if (m) {
        exitsSoFar.set(m[1] ?? "?", (exitsSoFar.get(m[1] ?? "?") ?? 0) + 1);
        if (counting) bump(out.exits, m[1] ?? "?", `${m[3]}@bc${m[2]}`);
        continue;
      }
      m = JETTISON.exec(line);
      if (m && counting) bump(out.jettisons, `${m[1]} (${m[2]})`, (m[4] ?? m[3] ?? "").trim() || "?");
    }
  };
  if (history) scan(history, false);
  scan(text, true);
  if (exitsSoFar.size === 0 && out.recompiles.size > 0) {
    for (const inner of out.recompiles.values()) {
      for (const [k, n] of [...inner]) {
        inner.delete(k);
        const key = k.replace(WITHOUT_EXITS, UNKNOWN);
        inner.set(key, (inner.get(key) ?? 0) + n);
      }
    }
    const ms = out.recompileMs.get(WITHOUT_EXITS);
    out.recompileMs.delete(WITHOUT_EXITS);
    if (ms !== undefined) out.recompileMs.set(UNKNOWN, ms);
  }
  return out;
}

const total = (inner: Map<string, number>) => [...inner.values()].reduce((a, b) => a + b, 0);

function table(title: string, m: Map<string, Map<string, number>>, top: number): string {
  const rows = [...m.entries()].sort((a, b) => total(b[1]) - total(a[1]));
  const all = rows.reduce((a, [, inner]) => a + total(inner), 0);
  const lines = [`${title}: ${all} in ${rows.length} functions`];
  for (const [name, inner] of rows.slice(0, top)) {
    const kinds = [...inner.entries()]
      .sort((a, b) => b[1] - a[1])
      .map(([k, n]) => `${k} ${n}`)
      .join(", ");
    lines.push(`  ${String(total(inner)).padStart(5)}  ${name}  [${kinds}]`);
  }
  return lines.join("\n");
}

export function formatJit(c: JitCounts, top = 25): string {
  const ms = [...c.compileMs.entries()].map(([t, v]) => `${t} ${v.toFixed(1)} ms`).join(", ");
  const reMs = [...c.recompileMs.entries()].map(([cause, v]) => `${cause} ${v.toFixed(1)} ms`).join(", ");
  return [
    `compile time by tier: ${ms || "none"}`,
    table("compilations", c.compiles, top),
    `${table("recompilations (a tier reached before; after OSR exits since, or no exits: a weak reference died, a watchpoint fired, unused code reclaimed)", c.recompiles, top)}${reMs ? `\n  compile time: ${reMs}` : ""}`,
    table("OSR exits", c.exits, top),
    table("jettisons", c.jettisons, top),
  ].join("\n");
}

if (import.meta.main) {
  const file = process.argv[2];
  if (!file) throw new Error("usage: bun bench/turn/jit-log.ts <stderr slice> [top] [history]");
  const history = process.argv[4] ? readFileSync(process.argv[4], "utf8") : "";
  console.log(formatJit(countJit(readFileSync(file, "utf8"), history), Number(process.argv[3] ?? 25)));
}
