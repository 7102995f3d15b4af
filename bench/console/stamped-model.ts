/**
 * An OpenAI-compatible streaming model for the console paint bench: every answer is `tokens`
 * numbered words (` p0001 p0002 …`) sent at `tokensPerSecond`, and the wall-clock time each word
 * left the model is recorded, keyed by answer and word. A page that paints the answer can then be
 * timed word by word against the same machine clock.
 *
 * Wall clock means `performance.timeOrigin + performance.now()` here and in the page: both are
 * the system clock at their origin plus a monotonic clock since, so they agree to well under a
 * millisecond on one machine, with sub-millisecond resolution (Date.now() has 1 ms).
 */

/** The text of word `i` (0-based) as it appears in the answer, without its leading space. */
export function stampWord(answer: number, i: number): string {
  return `a${answer}w${String(i).padStart(4, "0")}`;
}

/** The numbered words in a painted text, with the answer they belong to. */
export const STAMP_PATTERN = /a(\d+)w(\d{4})/g;

export interface StampedModel {
  url: string;
  /** emitted.get(answer)[i]: when word i of that answer was written to the response. */
  emitted: Map<number, number[]>;
  /** Answers in the order they were requested. */
  requests: number;
  stop(): void;
}

const enc = new TextEncoder();
const sse = (value: unknown) => enc.encode(`data: ${JSON.stringify(value)}\n\n`);
const wallNow = () => performance.timeOrigin + performance.now();

export function startStampedModel(opts: { tokens: number; tokensPerSecond: number }): StampedModel {
  const emitted = new Map<number, number[]>();
  const model: StampedModel = { url: "", emitted, requests: 0, stop: () => server.stop(true) };
  const server = Bun.serve({
    port: 0,
    hostname: "127.0.0.1",
    idleTimeout: 120,
    async fetch(req) {
      const url = new URL(req.url);
      if (req.method !== "POST" || !url.pathname.endsWith("/chat/completions")) return new Response("not found", { status: 404 });
      const body = (await req.json()) as { model: string };
      const answer = ++model.requests;
      const times: number[] = [];
      emitted.set(answer, times);
      const id = `chatcmpl-bench-${answer}`;
      const chunk = (delta: Record<string, unknown>, finish: string | null) => ({
        id,
        object: "chat.completion.chunk",
        created: Math.floor(Date.now() / 1000),
        model: body.model,
        choices: [{ index: 0, delta, finish_reason: finish }],
      });
      const stream = new ReadableStream<Uint8Array>({
        async start(out) {
          try {
            out.enqueue(sse(chunk({ role: "assistant", content: "" }, null)));
            const start = performance.now();
            for (let i = 0; i < opts.tokens; i++) {
              const wait = start + (i * 1000) / opts.tokensPerSecond - performance.now();
              if (wait > 0) await Bun.sleep(wait);
              if (req.signal.aborted) throw new Error("aborted");
              times[i] = wallNow();
              out.enqueue(sse(chunk({ content: ` ${stampWord(answer, i)}` }, null)));
            }
            out.enqueue(sse(chunk({}, "stop")));
            out.enqueue(
              sse({
                id,
                object: "chat.completion.chunk",
                created: 0,
                model: body.model,
                choices: [],
                usage: { prompt_tokens: 20, completion_tokens: opts.tokens * 2, total_tokens: 20 + opts.tokens * 2, cost: 0 },
              }),
            );
            out.enqueue(enc.encode("data: [DONE]\n\n"));
            out.close();
          } catch {
            // The consumer went away (stop, or the bench ending): nothing more to send.
          }
        },
      });
      return new Response(stream, { headers: { "content-type": "text/event-stream; charset=utf-8", "cache-control": "no-cache" } });
    },
  });
  model.url = `http://127.0.0.1:${server.port}/v1`;
  return model;
}
