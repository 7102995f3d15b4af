/**
 * How promptly a reader gets the model's tokens, by way of reading the stream, with the reader's
 * event loop idle and kept half busy (5 ms of synchronous work every 10 ms, as a loaded instance's).
 *
 * A model process sends its send time as each token, one every 20 ms (PROBE_TOKENS a answer); a
 * client process per run streams PROBE_STREAMS answers at once, PROBE_ROUNDS measured rounds after
 * one warm-up round, and prints token → reader and first-token latency percentiles. Readers:
 *   client    the gateway client (`createGatewayClient().streamChat()`) over its own connections
 *             (`Bun.connect`, http1/: the default)
 *   client-fetch  the same client handed Bun's `fetch` (its `fetch` option): the way it read before
 *   fetch     Bun's `fetch`, `reader.read()` per chunk, the client's SSE parse and chunk reader
 *   connect   `Bun.connect` with a keep-alive socket per answer, http-parser-js for the response,
 *             the same SSE parse and chunk reader, on the JavaScript thread (no second thread)
 *
 *   bun bench/upstream/latency-probe.ts                      (every reader, idle and busy, 2 runs each)
 *   PROBE_READERS=client,connect PROBE_RUNS=3 bun bench/upstream/latency-probe.ts
 */
import { loadavg } from "node:os";
import { join } from "node:path";
import { ChunkReader } from "../../packages/gateway/src/chunk-reader.ts";
import { createGatewayClient } from "../../packages/gateway/src/index.ts";

// The gateway's own dependencies, resolved from its package (the bench has none of its own).
const gatewayDir = join(import.meta.dir, "../../packages/gateway");
const { createParser } = (await import(Bun.resolveSync("eventsource-parser", gatewayDir))) as typeof import("../../packages/gateway/node_modules/eventsource-parser");
const { HTTPParser } = (await import(Bun.resolveSync("http-parser-js", gatewayDir))) as typeof import("../../packages/gateway/node_modules/http-parser-js");

const ROLE = process.env.PROBE_ROLE ?? "main";
const TOKENS = Number(process.env.PROBE_TOKENS ?? 40);
const STREAMS = Number(process.env.PROBE_STREAMS ?? 200);
const ROUNDS = Number(process.env.PROBE_ROUNDS ?? 3);
const now = (): number => performance.timeOrigin + performance.now();
const enc = new TextEncoder();

function chunkLine(content: string): string {
  return `data: ${JSON.stringify({ id: "c", object: "chat.completion.chunk", model: "probe", choices: [{ index: 0, delta: { content }, finish_reason: null }] })}\n\n`;
}

function serveModel(): void {
  const server = Bun.serve({
    port: 0,
    hostname: "127.0.0.1",
    idleTimeout: 0,
    async fetch(req) {
      await req.text();
      let timer: ReturnType<typeof setInterval> | undefined;
      const body = new ReadableStream<Uint8Array>({
        start(controller) {
          let sent = 0;
          const send = (): void => {
            if (sent === TOKENS) {
              clearInterval(timer);
              controller.enqueue(
                enc.encode(`data: {"id":"c","object":"chat.completion.chunk","choices":[{"index":0,"delta":{},"finish_reason":"stop"}]}\n\ndata: [DONE]\n\n`),
              );
              controller.close();
              return;
            }
            sent++;
            controller.enqueue(enc.encode(chunkLine(`${now().toFixed(3)};`)));
          };
          send();
          timer = setInterval(send, 20);
        },
        cancel() {
          clearInterval(timer);
        },
      });
      return new Response(body, { headers: { "content-type": "text/event-stream" } });
    },
  });
  console.log(`listening ${server.port}`);
}

/** Latencies of one answer: first token from the request, every token from its send time. */
interface Sample {
  first: number;
  tokens: number[];
}

function recorder(start: number): { take(text: string): void; sample: Sample } {
  const sample: Sample = { first: -1, tokens: [] };
  return {
    sample,
    take(text) {
      const at = now();
      if (sample.first < 0) sample.first = at - start;
      for (const part of text.split(";")) if (part !== "") sample.tokens.push(at - Number(part));
    },
  };
}

const requestBody = JSON.stringify({ model: "probe", messages: [{ role: "user", content: "time" }], stream: true });

/** The client's own parse of `data:` lines: eventsource-parser and the chunk reader. */
function sseReader(take: (text: string) => void): (bytes: Uint8Array) => void {
  const decoder = new TextDecoder();
  const chunks = new ChunkReader("probe");
  let text = "";
  const parser = createParser({
    onEvent: (event: { data: string }) => {
      if (event.data === "[DONE]") return;
      const read = chunks.read(event.data);
      if (read.content !== null) text += read.content;
    },
  });
  return (bytes) => {
    parser.feed(decoder.decode(bytes, { stream: true }));
    if (text !== "") {
      take(text);
      text = "";
    }
  };
}

let gateway: ReturnType<typeof createGatewayClient> | undefined;

async function viaClient(port: number): Promise<Sample> {
  gateway ??= createGatewayClient({
    baseUrl: `http://127.0.0.1:${port}/v1`,
    firstTokenTimeoutMs: 30_000,
    idleTimeoutMs: 30_000,
    maxRetries: 0,
    retryBaseMs: 100,
    // The way the client read before: Bun's fetch, handed in through the option kept for in-process apps.
    ...(process.env.PROBE_READER === "client-fetch" ? { fetch: (url: string, init: RequestInit) => fetch(url, init) } : {}),
  });
  const client = gateway;
  const rec = recorder(now());
  for await (const event of client.streamChat({ models: ["probe"], messages: [{ role: "user", content: "time" }] })) {
    if (event.type === "delta") rec.take(event.text);
  }
  return rec.sample;
}

async function viaFetch(port: number): Promise<Sample> {
  const rec = recorder(now());
  const res = await fetch(`http://127.0.0.1:${port}/v1/chat/completions`, { method: "POST", headers: { "content-type": "application/json" }, body: requestBody });
  const feed = sseReader(rec.take);
  if (res.body === null) throw new Error("no body");
  const reader = res.body.getReader();
  for (;;) {
    const chunk = await reader.read();
    if (chunk.done) break;
    feed(chunk.value);
  }
  return rec.sample;
}

/** One kept socket: the answer in flight, or waiting in the free list. */
interface Conn {
  socket: Bun.Socket<undefined>;
  parser: InstanceType<typeof HTTPParser>;
  onBody: (bytes: Uint8Array) => void;
  onEnd: () => void;
}
const free: Conn[] = [];

async function openConn(port: number): Promise<Conn> {
  const conn = { onBody: () => {}, onEnd: () => {} } as unknown as Conn;
  const parser = new HTTPParser(HTTPParser.RESPONSE);
  parser[HTTPParser.kOnHeadersComplete] = () => {};
  parser[HTTPParser.kOnBody] = (chunk: Buffer) => conn.onBody(chunk);
  parser[HTTPParser.kOnMessageComplete] = () => conn.onEnd();
  conn.parser = parser;
  conn.socket = await Bun.connect<undefined>({
    hostname: "127.0.0.1",
    port,
    socket: {
      data(_s, data) {
        const out = conn.parser.execute(data);
        if (out instanceof Error) throw out;
      },
      close() {},
      error() {},
    },
  });
  return conn;
}

async function viaConnect(port: number): Promise<Sample> {
  const rec = recorder(now());
  const conn = free.pop() ?? (await openConn(port));
  conn.onBody = sseReader(rec.take);
  await new Promise<void>((resolve) => {
    conn.onEnd = resolve;
    conn.socket.write(
      `POST /v1/chat/completions HTTP/1.1\r\nhost: 127.0.0.1:${port}\r\ncontent-type: application/json\r\naccept: text/event-stream\r\nconnection: keep-alive\r\ncontent-length: ${Buffer.byteLength(requestBody)}\r\n\r\n${requestBody}`,
    );
  });
  free.push(conn);
  return rec.sample;
}

function pct(sorted: number[], p: number): number {
  return sorted.length === 0 ? Number.NaN : (sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] as number);
}

async function runClient(): Promise<void> {
  const port = Number(process.env.PROBE_PORT);
  const readers: Record<string, (port: number) => Promise<Sample>> = { client: viaClient, "client-fetch": viaClient, fetch: viaFetch, connect: viaConnect };
  const read = readers[process.env.PROBE_READER ?? "client"];
  if (read === undefined) throw new Error(`unknown reader ${process.env.PROBE_READER}`);
  let busy: ReturnType<typeof setInterval> | undefined;
  if (process.env.PROBE_BUSY === "1") {
    busy = setInterval(() => {
      const end = performance.now() + 5;
      while (performance.now() < end) {
        // the loop's other work
      }
    }, 10);
  }
  const round = () => Promise.all(Array.from({ length: STREAMS }, () => read(port)));
  await round();
  const samples: Sample[] = [];
  for (let r = 0; r < ROUNDS; r++) samples.push(...(await round()));
  clearInterval(busy);
  const tokens = samples.flatMap((s) => s.tokens).sort((a, b) => a - b);
  const firsts = samples.map((s) => s.first).sort((a, b) => a - b);
  const expected = STREAMS * ROUNDS * TOKENS;
  console.log(
    JSON.stringify({
      tokenP50: pct(tokens, 50),
      tokenP90: pct(tokens, 90),
      tokenP99: pct(tokens, 99),
      firstP50: pct(firsts, 50),
      firstP99: pct(firsts, 99),
      tokens: tokens.length,
      expected,
    }),
  );
  process.exit(0);
}

async function main(): Promise<void> {
  const readers = (process.env.PROBE_READERS ?? "client,client-fetch").split(",");
  const runs = Number(process.env.PROBE_RUNS ?? 2);
  const model = Bun.spawn(["bun", import.meta.path], { env: { ...process.env, PROBE_ROLE: "model" }, stdout: "pipe", stderr: "inherit" });
  const first = await model.stdout.getReader().read();
  const port = /listening (\d+)/.exec(new TextDecoder().decode(first.value))?.[1];
  if (!port) throw new Error("model did not start");
  const load = () => (loadavg()[0] ?? 0).toFixed(1);
  console.log("run  loop  reader       token→reader p50 / p90 / p99 ms   first token p50 / p99 ms   tokens   load");
  try {
    for (let run = 0; run < runs; run++) {
      for (const busy of ["0", "1"]) {
        for (const reader of run % 2 === 0 ? readers : [...readers].reverse()) {
          const out = Bun.spawnSync(["bun", import.meta.path], {
            env: { ...process.env, PROBE_ROLE: "client", PROBE_PORT: port, PROBE_READER: reader, PROBE_BUSY: busy },
          });
          const line = out.stdout.toString().trim().split("\n").pop() ?? "";
          if (out.exitCode !== 0 || !line.startsWith("{")) throw new Error(`${reader} failed: ${out.stderr.toString().slice(-800)}`);
          const r = JSON.parse(line);
          const f = (x: number) => x.toFixed(1);
          console.log(
            `${run + 1}    ${busy === "1" ? "busy" : "idle"}  ${reader.padEnd(12)} ${`${f(r.tokenP50)} / ${f(r.tokenP90)} / ${f(r.tokenP99)}`.padEnd(33)} ${`${f(r.firstP50)} / ${f(r.firstP99)}`.padEnd(26)} ${`${r.tokens}/${r.expected}`.padEnd(8)} ${load()}  ${new Date().toISOString().slice(11, 19)}`,
          );
        }
      }
    }
  } finally {
    model.kill();
  }
}

if (ROLE === "model") serveModel();
else if (ROLE === "client") await runClient();
else await main();
