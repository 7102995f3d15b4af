/**
 * A real HTTP upstream for tests (`Bun.serve({ port: 0 })`) that answers each model with a
 * scripted sequence of responses emitting exact byte sequences, and records what it saw:
 * request bodies, hits per model, and whether the client closed each connection early.
 */

/** A piece of a scripted body: bytes/text to write, a pause, or "hang until the client leaves". */
export type Piece = string | Uint8Array | { pause: number } | { hang: true; keepAliveMs?: number };

export type Script = { status: number; headers?: Record<string, string>; body?: string } | { stream: Piece[]; status?: number; headers?: Record<string, string> };

export interface UpstreamRequest {
  model: string;
  body: Record<string, unknown>;
  headers: Headers;
  /** Resolves when the client closed the connection before the body was fully sent. */
  closedEarly: Promise<void>;
  closedEarlyFlag: () => boolean;
}

export interface ScriptedUpstream {
  baseUrl: string;
  /** Scripts for a model, one per hit; the last one repeats. */
  script(model: string, ...scripts: Script[]): void;
  hits(model: string): number;
  requests: UpstreamRequest[];
  stop(): Promise<void>;
}

const enc = new TextEncoder();

/** `data: <json>\n\n` of a content delta chunk. */
export function deltaLine(content: string, model = "m"): string {
  return `data: ${JSON.stringify({ id: "c1", object: "chat.completion.chunk", model, choices: [{ index: 0, delta: { content }, finish_reason: null }] })}\n\n`;
}
export function finishLine(reason = "stop"): string {
  return `data: ${JSON.stringify({ id: "c1", object: "chat.completion.chunk", choices: [{ index: 0, delta: {}, finish_reason: reason }] })}\n\n`;
}
export function usageLine(prompt: number, completion: number, cost?: number): string {
  const usage: Record<string, number> = { prompt_tokens: prompt, completion_tokens: completion, total_tokens: prompt + completion };
  if (cost !== undefined) usage.cost = cost;
  return `data: ${JSON.stringify({ id: "c1", object: "chat.completion.chunk", choices: [], usage })}\n\n`;
}
export const DONE = "data: [DONE]\n\n";

export async function startScriptedUpstream(): Promise<ScriptedUpstream> {
  const scripts = new Map<string, Script[]>();
  const hitCount = new Map<string, number>();
  const requests: UpstreamRequest[] = [];

  const server = Bun.serve({
    port: 0,
    async fetch(req) {
      const body = (await req.json()) as Record<string, unknown>;
      const model = typeof body.model === "string" ? body.model : "";
      const hit = hitCount.get(model) ?? 0;
      hitCount.set(model, hit + 1);
      let closed = false;
      let markClosed: () => void = () => {};
      const closedEarly = new Promise<void>((resolve) => {
        markClosed = () => {
          closed = true;
          resolve();
        };
      });
      requests.push({ model, body, headers: req.headers, closedEarly, closedEarlyFlag: () => closed });
      let finished = false;
      req.signal.addEventListener("abort", () => {
        if (!finished) markClosed();
      });

      const list = scripts.get(model) ?? [];
      const script = list[Math.min(hit, list.length - 1)];
      if (!script) return new Response(`no script for ${model}`, { status: 500 });
      if (!("stream" in script)) {
        finished = true;
        return new Response(script.body ?? "", { status: script.status, headers: script.headers });
      }
      const pieces = script.stream;
      const stream = new ReadableStream<Uint8Array>({
        async start(controller) {
          try {
            for (const piece of pieces) {
              if (closed) return;
              if (typeof piece === "string") controller.enqueue(enc.encode(piece));
              else if (piece instanceof Uint8Array) controller.enqueue(piece);
              else if ("pause" in piece) await Bun.sleep(piece.pause);
              else {
                while (!closed) {
                  if (piece.keepAliveMs) controller.enqueue(enc.encode(": keep-alive\n\n"));
                  await Promise.race([closedEarly, Bun.sleep(piece.keepAliveMs ?? 60_000)]);
                }
                return;
              }
              // Separate writes so the client really sees the split points.
              await Bun.sleep(1);
            }
            finished = true;
            controller.close();
          } catch {
            // The client went away while we were writing.
          }
        },
        cancel() {
          if (!finished) markClosed();
        },
      });
      return new Response(stream, {
        status: script.status ?? 200,
        headers: { "content-type": "text/event-stream", ...script.headers },
      });
    },
  });

  return {
    baseUrl: `http://127.0.0.1:${server.port}/v1`,
    script(model, ...list) {
      scripts.set(model, list);
    },
    hits: (model) => hitCount.get(model) ?? 0,
    requests,
    stop: () => server.stop(true),
  };
}
