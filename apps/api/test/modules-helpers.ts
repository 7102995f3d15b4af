import { extractions, type DbHandle } from "@raptscallions/db";
import { eq } from "drizzle-orm";
import { type Instance, transports } from "./helpers/live.ts";

export { transports };
import { authHeader } from "./helpers/auth.ts";

export interface UpstreamRequest {
  model: string;
  messages: { role: string; content: string }[];
}

/**
 * A tiny OpenAI-compatible upstream on a real port that records every request body, so a test
 * can see exactly what the provider would receive. Replies with the next scripted text, else a
 * fixed tutor line, as one SSE stream with a usage chunk.
 */
export function startScriptedUpstream() {
  const requests: UpstreamRequest[] = [];
  const script: string[] = [];
  const server = Bun.serve({
    port: 0,
    hostname: "127.0.0.1",
    async fetch(req) {
      const url = new URL(req.url);
      if (req.method !== "POST" || !url.pathname.endsWith("/chat/completions")) return new Response("not found", { status: 404 });
      const body = (await req.json()) as UpstreamRequest;
      requests.push(body);
      const text = script.shift() ?? "Let's think about that step by step. What do you already know?";
      const chunk = (extra: Record<string, unknown>) =>
        `data: ${JSON.stringify({ id: "chatcmpl-scripted", object: "chat.completion.chunk", created: 0, model: body.model, ...extra })}\n\n`;
      const sse =
        chunk({ choices: [{ index: 0, delta: { role: "assistant", content: text }, finish_reason: null }] }) +
        chunk({ choices: [{ index: 0, delta: {}, finish_reason: "stop" }] }) +
        chunk({ choices: [], usage: { prompt_tokens: 12, completion_tokens: 9, total_tokens: 21 } }) +
        "data: [DONE]\n\n";
      return new Response(sse, { headers: { "content-type": "text/event-stream" } });
    },
  });
  return { url: `http://127.0.0.1:${server.port}/v1`, requests, script, stop: () => server.stop(true) };
}

/** JSON REST call against a running instance. */
export async function rest(instance: Instance, user: { clerkUserId: string | null } | null, method: string, path: string, body?: unknown) {
  const res = await fetch(`${instance.baseUrl}${path}`, {
    method,
    headers: { ...(user ? await authHeader(user) : {}), ...(body ? { "content-type": "application/json" } : {}) },
    body: body ? JSON.stringify(body) : undefined,
  });
  return { status: res.status, body: (await res.json()) as Record<string, unknown> };
}

/** Polls until `check` returns a value (rows are written by background work). */
export async function eventually<T>(check: () => Promise<T | undefined | null | false>, what: string, timeoutMs = 10_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await Bun.sleep(25);
  }
}

export async function findingsOf(db: DbHandle, sessionId: string) {
  return db.db.select().from(extractions).where(eq(extractions.sessionId, sessionId));
}


