/**
 * One client process of upstream-client.bench.ts: streams ROUNDS × STREAMS answers at once from the
 * dev model at PORT through the gateway client, with the given HTTP client (`connect`: the client's
 * own connections, the default; `fetch`: Bun's fetch handed in as its `fetch` option, the way it
 * read before; `node-http`: node:http's body as a web stream behind a fetch), and prints one JSON
 * line: CPU ms per answer by thread (from /proc/self/task), deltas per answer, and how many
 * sockets the measured rounds opened (fd table sampled every 20 ms: a socket not seen before is a
 * new connection).
 */
import { readdirSync, readFileSync, readlinkSync } from "node:fs";
import { createGatewayClient, type FetchLike } from "../../packages/gateway/src/index.ts";
import { countSyscalls } from "../turn/syscalls.ts";

const VARIANT = process.env.UPSTREAM_VARIANT ?? "fetch";
const PORT = Number(process.env.UPSTREAM_PORT);
const STREAMS = Number(process.env.UPSTREAM_STREAMS ?? 200);
const ROUNDS = Number(process.env.UPSTREAM_ROUNDS ?? 4);
const WARMUP = Number(process.env.UPSTREAM_WARMUP ?? 4);

function cpuByThread(): Record<string, number> {
  const out: Record<string, number> = {};
  for (const t of readdirSync("/proc/self/task")) {
    const stat = readFileSync(`/proc/self/task/${t}/stat`, "utf8");
    const name = stat.slice(stat.indexOf("(") + 1, stat.lastIndexOf(")"));
    const f = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    // utime + stime in clock ticks (100 a second)
    out[name] = (out[name] ?? 0) + (Number(f[11]) + Number(f[12])) * 10;
  }
  return out;
}

const sockets = new Set<string>();
const sampler = setInterval(() => {
  for (const fd of readdirSync("/proc/self/fd")) {
    try {
      const link = readlinkSync(`/proc/self/fd/${fd}`);
      if (link.startsWith("socket:")) sockets.add(link);
    } catch {
      // closed between readdir and readlink
    }
  }
}, 20);

/** node:http with a keep-alive agent as big as the concurrency, its body handed over as a web stream. */
async function nodeHttpFetch(): Promise<FetchLike> {
  const http = await import("node:http");
  const agent = new http.Agent({ keepAlive: true, maxSockets: STREAMS * 2 });
  return (input, init) =>
    new Promise((resolve, reject) => {
      const url = new URL(String(input));
      const req = http.request(
        { host: url.hostname, port: url.port, path: url.pathname, method: init?.method ?? "GET", headers: init?.headers as Record<string, string>, agent },
        (res) => {
          const body = new ReadableStream<Uint8Array>({
            start(c) {
              res.on("data", (d: Buffer) => c.enqueue(d));
              res.on("end", () => c.close());
              res.on("error", (e) => c.error(e));
            },
            cancel() {
              res.destroy();
            },
          });
          resolve(new Response(body, { status: res.statusCode ?? 0, headers: res.headers as Record<string, string> }));
        },
      );
      req.on("error", reject);
      req.end(init?.body as string);
    });
}

const client = createGatewayClient({
  baseUrl: `http://127.0.0.1:${PORT}/v1`,
  firstTokenTimeoutMs: 30_000,
  idleTimeoutMs: 30_000,
  maxRetries: 0,
  retryBaseMs: 100,
  // `connect` is the client's own way (http1/); the others hand it a fetch.
  ...(VARIANT === "node-http" ? { fetch: await nodeHttpFetch() } : VARIANT === "fetch" ? { fetch: (url: string, init: RequestInit) => fetch(url, init) } : {}),
});

async function answer(i: number): Promise<number> {
  let deltas = 0;
  const stream = client.streamChat({ models: ["dev-tutor"], messages: [{ role: "user", content: `question ${i} about fractions` }] });
  for await (const ev of stream) if (ev.type === "delta") deltas++;
  return deltas;
}
const round = async (r: number) => (await Promise.all(Array.from({ length: STREAMS }, (_, i) => answer(r * STREAMS + i)))).reduce((a, b) => a + b, 0);

for (let r = 0; r < WARMUP; r++) await round(r);
const socketsBefore = sockets.size;
const syscalls = await countSyscalls(process.pid);
const before = cpuByThread();
let deltas = 0;
for (let r = 0; r < ROUNDS; r++) deltas += await round(WARMUP + r);
const after = cpuByThread();
const calls = await syscalls.stop();
clearInterval(sampler);
const answers = STREAMS * ROUNDS;
const byThread: Record<string, number> = {};
let total = 0;
for (const [name, ms] of Object.entries(after)) {
  const d = ms - (before[name] ?? 0);
  if (d > 0) byThread[name] = Number((d / answers).toFixed(3));
  total += d;
}
console.log(
  JSON.stringify({
    variant: VARIANT,
    streams: STREAMS,
    answers,
    deltasPerAnswer: Number((deltas / answers).toFixed(1)),
    cpuMsPerAnswer: Number((total / answers).toFixed(3)),
    byThread,
    newConnections: sockets.size - socketsBefore,
    // System calls per answer over the measured rounds (every thread; null without perf).
    syscallsPerAnswer: calls ? Number((calls.all / answers).toFixed(1)) : null,
  }),
);
process.exit(0);
