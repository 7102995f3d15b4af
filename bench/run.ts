/**
 * `bun run bench [-- <name>…]`: runs every bench/*.bench.ts (or those the arguments pick, see
 * select.ts) one after another, each in its own process with a time limit, shows their output as it
 * comes, then prints a summary. Benches decide for themselves what their environment allows
 * (each one's header says what it needs): bus.bench.ts adds its Redis runs when BENCH_REDIS_URL or
 * TEST_REDIS_URL is set, live.bench.ts skips itself without Postgres or Redis.
 * Exit code: 1 if any bench failed or timed out, else 0.
 */
import { readdirSync } from "node:fs";
import { join } from "node:path";
import { selectBenches } from "./select.ts";

const dir = import.meta.dir;
const filters = process.argv.slice(2);
const benches = selectBenches(readdirSync(dir), filters);

/** Generous limits; live.bench.ts also stops itself (BENCH_LIVE_HARD_LIMIT_MS). */
const LIMIT_MS: Record<string, number> = { "live.bench.ts": 35 * 60_000, "roster.bench.ts": 20 * 60_000 };
const DEFAULT_LIMIT_MS = 10 * 60_000;

interface Outcome {
  bench: string;
  status: "ok" | "skipped" | "failed" | "timed out";
  seconds: number;
  highlights: string[];
}

async function runOne(file: string): Promise<Outcome> {
  console.log(`\n=== ${file} ===`);
  const started = performance.now();
  const proc = Bun.spawn([process.execPath, join(dir, file)], { stdout: "pipe", stderr: "inherit", stdin: "ignore", env: process.env });
  let timedOut = false;
  const limit = LIMIT_MS[file] ?? DEFAULT_LIMIT_MS;
  const timer = setTimeout(() => {
    timedOut = true;
    // SIGTERM lets a bench kill its own children; SIGKILL if it does not go.
    proc.kill("SIGTERM");
    setTimeout(() => proc.kill("SIGKILL"), 10_000).unref();
  }, limit);
  let output = "";
  const decoder = new TextDecoder();
  const reader = proc.stdout.getReader();
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    const text = decoder.decode(value, { stream: true });
    output += text;
    process.stdout.write(text);
  }
  const code = await proc.exited;
  clearTimeout(timer);
  const lines = output
    .split("\n")
    .map((l) => l.trimEnd())
    .filter(Boolean);
  const skipped = lines.some((l) => l.startsWith("SKIP"));
  // Verdict lines: "MET …"/"MISS …", and the rows of the live bench's table of aims.
  const marked = lines.filter((l) => /^(MET|MISS|SKIP)\b/.test(l) || / (met|MISSED|not measured in this run)$/.test(l));
  return {
    bench: file,
    status: timedOut ? "timed out" : code !== 0 ? "failed" : skipped ? "skipped" : "ok",
    seconds: (performance.now() - started) / 1000,
    highlights: marked.length > 0 ? marked : lines.slice(-8),
  };
}

const outcomes: Outcome[] = [];
for (const file of benches) outcomes.push(await runOne(file));

console.log("\n=== summary ===");
for (const o of outcomes) {
  console.log(`${o.bench.padEnd(20)} ${o.status.padEnd(9)} ${o.seconds.toFixed(0).padStart(5)} s`);
  for (const line of o.highlights) console.log(`    ${line}`);
}
if (benches.length === 0) console.log(`no bench matches ${filters.join(", ")}`);
process.exit(outcomes.some((o) => o.status === "failed" || o.status === "timed out") ? 1 : 0);
