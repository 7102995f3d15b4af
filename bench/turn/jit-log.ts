/**
 * Reads what JavaScriptCore printed to a process's stderr under `BUN_JSC_reportCompileTimes=1`,
 * `BUN_JSC_printEachOSRExit=1` and `BUN_JSC_verboseOSR=1` (any of them), and counts, per function:
 * compilations by tier, speculation failures (OSR exits) by kind, and jettisons by reason. The
 * turn bench slices the log at each phase's window, so a function compiled again in the measured
 * turns (after the warm-up) stands out from start-up.
 *
 *   bun bench/turn/jit-log.ts <stderr slice> [top=25]
 */
import { readFileSync } from "node:fs";

export interface JitCounts {
  compiles: Map<string, Map<string, number>>;
  exits: Map<string, Map<string, number>>;
  jettisons: Map<string, Map<string, number>>;
  /** Compile time by tier (ms), from `reportCompileTimes`. */
  compileMs: Map<string, number>;
}

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

export function countJit(text: string): JitCounts {
  const out: JitCounts = { compiles: new Map(), exits: new Map(), jettisons: new Map(), compileMs: new Map() };
  for (const line of text.split("\n")) {
    let m = OPTIMIZED.exec(line);
    if (m) {
      const tier = m[4] ?? "?";
      bump(out.compiles, `${m[1]} (${m[3]})`, tier);
      out.compileMs.set(tier, (out.compileMs.get(tier) ?? 0) + Number(m[5]));
      continue;
    }
    m = EXIT.exec(line);
    if (m) {
      bump(out.exits, m[1] ?? "?", `${m[3]}@bc${m[2]}`);
      continue;
    }
    m = JETTISON.exec(line);
    if (m) bump(out.jettisons, `${m[1]} (${m[2]})`, (m[4] ?? m[3] ?? "").trim() || "?");
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
  return [`compile time by tier: ${ms || "none"}`, table("compilations", c.compiles, top), table("OSR exits", c.exits, top), table("jettisons", c.jettisons, top)].join(
    "\n",
  );
}

if (import.meta.main) {
  const file = process.argv[2];
  if (!file) throw new Error("usage: bun bench/turn/jit-log.ts <stderr slice> [top]");
  console.log(formatJit(countJit(readFileSync(file, "utf8")), Number(process.argv[3] ?? 25)));
}
