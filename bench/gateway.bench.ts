/**
 * Per-delta overhead of the gateway client against reading the raw stream.
 *
 * One scripted upstream (Bun.serve on port 0) serves the same OpenAI-style SSE body of DELTAS
 * content chunks (plus finish, usage and [DONE]) in 4 KiB writes. Three readers consume it:
 *   raw     fetch + read every byte (+ UTF-8 decode) — the floor;
 *   parse   raw + a naive split on blank lines + JSON.parse of each chunk — about the least any
 *           client must do (no comments, CR or multi-line handling, no state);
 *   client  createGatewayClient().streamChat() iterated with for-await (events, watchdog, state),
 *           over the client's own connections (http1/) since 2026-12-02: its figure includes
 *           that transport's reads and HTTP parse, where raw and parse read through fetch.
 * Reported: median ns per delta (upstream content chunk) over RUNS interleaved runs, and
 * client/raw, client/parse ratios. The client yields the chunks of one read as one delta event
 * (since 2026-12-01 evening), so with 4 KiB writes its figure is mostly parsing.
 * Run: bun bench/gateway.bench.ts
 */
import { createGatewayClient } from "../packages/gateway/src/index.ts";

const DELTAS = Number(process.env.BENCH_GATEWAY_DELTAS ?? 20_000);
const RUNS = Number(process.env.BENCH_GATEWAY_RUNS ?? 15);
const WARMUP = 3;
// Bytes per upstream write; 0 writes each SSE event on its own (one token a read, as a model at
// 50 tokens/s arrives), where the per-read machinery dominates instead of the parse.
const WRITE = Number(process.env.BENCH_GATEWAY_WRITE ?? 4096);

const lines: string[] = [];
for (let i = 0; i < DELTAS; i++) {
  lines.push(
    `data: ${JSON.stringify({ id: "c", object: "chat.completion.chunk", created: 1, model: "bench", choices: [{ index: 0, delta: { content: ` tok${i}` }, finish_reason: null }] })}\n\n`,
  );
}
lines.push(`data: ${JSON.stringify({ choices: [{ index: 0, delta: {}, finish_reason: "stop" }] })}\n\n`);
lines.push(`data: ${JSON.stringify({ choices: [], usage: { prompt_tokens: 10, completion_tokens: DELTAS, total_tokens: DELTAS + 10 } })}\n\n`);
lines.push("data: [DONE]\n\n");
const body = new TextEncoder().encode(lines.join(""));
const encodedLines = lines.map((line) => new TextEncoder().encode(line));

const server = Bun.serve({
  port: 0,
  fetch() {
    let offset = 0;
    let line = 0;
    return new Response(
      new ReadableStream<Uint8Array>({
        pull(controller) {
          if (WRITE === 0) {
            const next = encodedLines[line++];
            if (next === undefined) controller.close();
            else controller.enqueue(next);
            return;
          }
          if (offset >= body.length) {
            controller.close();
            return;
          }
          controller.enqueue(body.subarray(offset, offset + WRITE));
          offset += WRITE;
        },
      }),
      { headers: { "content-type": "text/event-stream" } },
    );
  },
});
const baseUrl = `http://127.0.0.1:${server.port}/v1`;
const request = (): Promise<Response> => fetch(`${baseUrl}/chat/completions`, { method: "POST", body: "{}", headers: { "content-type": "application/json" } });

async function raw(): Promise<number> {
  const res = await request();
  const reader = res.body?.getReader();
  if (!reader) throw new Error("no body");
  const decoder = new TextDecoder();
  let chars = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    chars += decoder.decode(value, { stream: true }).length;
  }
  if (chars < body.length) throw new Error("short read");
  return DELTAS;
}

async function parse(): Promise<number> {
  const res = await request();
  const reader = res.body?.getReader();
  if (!reader) throw new Error("no body");
  const decoder = new TextDecoder();
  let deltas = 0;
  let buffer = "";
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    buffer += decoder.decode(value, { stream: true });
    let end = buffer.indexOf("\n\n");
    let start = 0;
    while (end !== -1) {
      const data = buffer.slice(start + 6, end);
      if (data !== "[DONE]") {
        const chunk = JSON.parse(data) as { choices: { delta: { content?: string } }[] };
        if (chunk.choices[0]?.delta.content) deltas++;
      }
      start = end + 2;
      end = buffer.indexOf("\n\n", start);
    }
    buffer = buffer.slice(start);
  }
  return deltas;
}

const client = createGatewayClient({ baseUrl, firstTokenTimeoutMs: 10_000, idleTimeoutMs: 10_000, maxRetries: 0, retryBaseMs: 100 });
// The client hands over the tokens of one read as one delta, so it is counted in upstream chunks
// (the text it delivered, checked whole), as the other readers are.
const TEXT = Array.from({ length: DELTAS }, (_, i) => ` tok${i}`).join("");
async function viaClient(): Promise<number> {
  let text = "";
  for await (const event of client.streamChat({ models: ["bench"], messages: [{ role: "user", content: "go" }] })) {
    if (event.type === "delta") text += event.text;
  }
  return text === TEXT ? DELTAS : 0;
}

const readers = { raw, parse, client: viaClient } as const;
const samples: Record<keyof typeof readers, number[]> = { raw: [], parse: [], client: [] };
for (let run = 0; run < WARMUP + RUNS; run++) {
  for (const [name, read] of Object.entries(readers) as [keyof typeof readers, () => Promise<number>][]) {
    const t0 = Bun.nanoseconds();
    const deltas = await read();
    const ns = Bun.nanoseconds() - t0;
    if (deltas !== DELTAS) throw new Error(`${name} saw ${deltas} deltas`);
    if (run >= WARMUP) samples[name].push(ns / DELTAS);
  }
}
await server.stop(true);

const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)] ?? Number.NaN;
};
const m = { raw: median(samples.raw), parse: median(samples.parse), client: median(samples.client) };
console.log(`gateway client per-delta overhead (${DELTAS} deltas, ${(body.length / 1024).toFixed(0)} KiB in ${WRITE} B writes, median of ${RUNS})`);
for (const name of ["raw", "parse", "client"] as const) console.log(`  ${name.padEnd(6)} ${m[name].toFixed(0).padStart(6)} ns/delta`);
console.log(`  client/raw   ${(m.client / m.raw).toFixed(2)}x`);
console.log(`  client/parse ${(m.client / m.parse).toFixed(2)}x  (client's own cost: ${(m.client - m.parse).toFixed(0)} ns/delta)`);
