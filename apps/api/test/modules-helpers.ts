import { extractions, type DbHandle, messages } from "@raptscallions/db";
import type { SchoolScene } from "@raptscallions/db/testing";
import { createDevModelApp } from "@raptscallions/gateway";
import { Hono } from "hono";
import { eq } from "drizzle-orm";
import { finishedAnswer, type Instance, restCall } from "./helpers/live.ts";

export interface UpstreamRequest {
  model: string;
  messages: { role: string; content: string }[];
}

/**
 * A tiny OpenAI-compatible upstream on a real port that records every request body, so a test
 * can see exactly what the provider would receive. Replies with the next scripted text, else a
 * fixed tutor line, as one SSE stream with a usage chunk. Moderation calls (`/moderations`, and
 * chat calls to a `dev-guard` model) are recorded apart in `moderationRequests` and answered by
 * the dev model's marker-driven moderation double, so `requests` holds tutor calls only.
 */
export function startScriptedUpstream() {
  const requests: UpstreamRequest[] = [];
  const moderationRequests: { path: string; body: Record<string, unknown> }[] = [];
  const script: string[] = [];
  const dev = new Hono().route("/v1", createDevModelApp({ tokensPerSecond: 0 }));
  const server = Bun.serve({
    port: 0,
    hostname: "127.0.0.1",
    async fetch(req) {
      const url = new URL(req.url);
      if (req.method !== "POST") return new Response("not found", { status: 404 });
      const raw = await req.text();
      const parsed = JSON.parse(raw) as Record<string, unknown>;
      const guard = url.pathname.endsWith("/chat/completions") && String(parsed.model).startsWith("dev-guard");
      if (url.pathname.endsWith("/moderations") || guard) {
        moderationRequests.push({ path: url.pathname, body: parsed });
        return dev.request(url.pathname, { method: "POST", body: raw, headers: { "content-type": "application/json" }, signal: req.signal });
      }
      if (!url.pathname.endsWith("/chat/completions")) return new Response("not found", { status: 404 });
      const body = parsed as unknown as UpstreamRequest;
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
  return { url: `http://127.0.0.1:${server.port}/v1`, requests, moderationRequests, script, stop: () => server.stop(true) };
}

export async function findingsOf(db: DbHandle, sessionId: string) {
  return db.db.select().from(extractions).where(eq(extractions.sessionId, sessionId));
}

/**
 * A student's chat over REST against a running instance: `start()` opens a session on the scene's
 * tool and class, `say()` sends one message and waits until its answer is final.
 */
export function studentChat(db: DbHandle, instance: Instance, scene: SchoolScene) {
  let sessionId = "";
  return {
    get sessionId() {
      return sessionId;
    },
    async start() {
      const res = await restCall(instance, scene.student, "POST", "/api/sessions", { toolId: scene.tool.id, classId: scene.cls.id });
      if (res.status !== 201) throw new Error(`session: ${res.status} ${JSON.stringify(res.body)}`);
      sessionId = (res.body.session as { id: string }).id;
      return sessionId;
    },
    async say(content: string) {
      const res = await restCall(instance, scene.student, "POST", `/api/sessions/${sessionId}/messages`, { clientMessageId: crypto.randomUUID(), content });
      if (res.status !== 201) throw new Error(`send: ${res.status} ${JSON.stringify(res.body)}`);
      const { message, answer } = res.body as { message: { id: string }; answer: { id: string } };
      const final = await finishedAnswer(db.db, answer.id);
      const [stored] = await db.db.select().from(messages).where(eq(messages.id, message.id));
      if (!stored) throw new Error("the student's message was not stored");
      return { message: stored, answer: final };
    },
  };
}
