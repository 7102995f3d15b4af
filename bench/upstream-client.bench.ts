/**
 * What the generating instance pays to read the model's stream, by thread, through the gateway
 * client: over its own connections (`connect`, the default: `Bun.connect`, the socket read on the
 * JavaScript thread) against Bun's `fetch` handed in (`fetch`: network I/O on Bun's "HTTP Client"
 * thread, every chunk handed to the JavaScript thread) and node:http (`node-http`); how many
 * connections each opens once warm, and the system calls per answer (with `perf`).
 * BENCH_UPSTREAM_VARIANTS picks them (default `connect,fetch`).
 *
 * The dev model runs in its own process (bench/live/dev-model.ts, BENCH_UPSTREAM_TPS tokens/s, as in
 * the live and turn benches); each client variant runs in a fresh process (bench/upstream/client-run.ts)
 * streaming BENCH_UPSTREAM_STREAMS answers at once, BENCH_UPSTREAM_ROUNDS measured rounds after
 * BENCH_UPSTREAM_WARMUP rounds, and the variants alternate BENCH_UPSTREAM_REPEATS times.
 *
 *   bun run bench -- upstream-client
 *   BENCH_UPSTREAM_STREAMS=200,60 BENCH_UPSTREAM_REPEATS=2 BENCH_UPSTREAM_TPS=50
 */
import { join } from "node:path";

const STREAMS = (process.env.BENCH_UPSTREAM_STREAMS ?? "200,60").split(",").map(Number);
const REPEATS = Number(process.env.BENCH_UPSTREAM_REPEATS ?? 2);
const TPS = Number(process.env.BENCH_UPSTREAM_TPS ?? 50);
const VARIANTS = (process.env.BENCH_UPSTREAM_VARIANTS ?? "connect,fetch").split(",");
const here = import.meta.dir;

const port = 20_000 + Math.floor(Math.random() * 20_000);
const model = Bun.spawn(["bun", join(here, "live/dev-model.ts")], {
  env: { ...process.env, DEV_MODEL_PORT: String(port), DEV_MODEL_TPS: String(TPS) },
  stdout: "pipe",
  stderr: "inherit",
});
try {
  const reader = model.stdout.getReader();
  const first = await reader.read();
  if (!new TextDecoder().decode(first.value).includes("listening")) throw new Error("dev model did not start");
  reader.releaseLock();

  const rows: { streams: number; variant: string; cpu: number; threads: Record<string, number>; conns: number; deltas: number; syscalls: number | null }[] = [];
  for (const streams of STREAMS) {
    for (let r = 0; r < REPEATS; r++) {
      for (const variant of r % 2 === 0 ? VARIANTS : [...VARIANTS].reverse()) {
        const run = Bun.spawnSync(["bun", join(here, "upstream/client-run.ts")], {
          env: { ...process.env, UPSTREAM_VARIANT: variant, UPSTREAM_PORT: String(port), UPSTREAM_STREAMS: String(streams) },
        });
        const line = run.stdout.toString().trim().split("\n").pop() ?? "";
        if (run.exitCode !== 0 || !line.startsWith("{")) throw new Error(`${variant} run failed: ${run.stderr.toString().slice(-500)}`);
        const out = JSON.parse(line);
        rows.push({
          streams,
          variant,
          cpu: out.cpuMsPerAnswer,
          threads: out.byThread,
          conns: out.newConnections,
          deltas: out.deltasPerAnswer,
          syscalls: out.syscallsPerAnswer,
        });
        console.log(`[upstream] ${streams} at once, ${variant}: ${line}`);
      }
    }
  }
  console.log("\nCPU ms per answer (median of the runs), by thread; connections opened in the measured rounds");
  console.log("streams  client     all     JS thread  HTTP Client  JIT    new connections  deltas/answer  syscalls/answer");
  const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor((xs.length - 1) / 2)] ?? 0;
  for (const streams of STREAMS) {
    for (const variant of VARIANTS) {
      const rs = rows.filter((r) => r.streams === streams && r.variant === variant);
      const cell = (f: (r: (typeof rs)[number]) => number) => median(rs.map(f)).toFixed(2);
      console.log(
        `${String(streams).padEnd(8)} ${variant.padEnd(10)} ${cell((r) => r.cpu).padEnd(7)} ${cell((r) => r.threads["bun.exe"] ?? r.threads.bun ?? 0).padEnd(10)} ${cell((r) => r.threads["HTTP Client"] ?? 0).padEnd(12)} ${cell((r) => r.threads.JITWorker ?? 0).padEnd(6)} ${String(median(rs.map((r) => r.conns))).padEnd(16)} ${cell((r) => r.deltas).padEnd(14)} ${cell((r) => r.syscalls ?? Number.NaN)}`,
      );
    }
  }
} finally {
  model.kill();
}
