import { describe, expect, test } from "bun:test";
import { Hono } from "hono";
import OpenAI, { RateLimitError } from "openai";
import { createDevModelApp, createGatewayClient, estimateTokens, GatewayError, tutorReply, type Clock, type DevModelOptions, type DevStreamEnd } from "../src/index.ts";

/** The dev app mounted the way the API will mount it. */
function mounted(opts: DevModelOptions = {}): Hono {
  return new Hono().route("/v1", createDevModelApp(opts));
}

/** Virtual time: sleeping advances `now` instantly and records the delay. */
function virtualClock(): { clock: Clock; sleeps: number[] } {
  let t = Date.UTC(2031, 0, 1);
  const sleeps: number[] = [];
  return {
    sleeps,
    clock: {
      now: () => t,
      sleep: async (ms, signal) => {
        signal?.throwIfAborted();
        sleeps.push(ms);
        t += ms;
      },
    },
  };
}

const question = "How do I find the area of a triangle?";
const messages = [
  { role: "system", content: "You are a patient maths tutor." },
  { role: "user", content: question },
];

function post(app: Hono, body: unknown, headers: Record<string, string> = {}): Promise<Response> {
  return Promise.resolve(
    app.request("/v1/chat/completions", {
      method: "POST",
      headers: { "content-type": "application/json", ...headers },
      body: typeof body === "string" ? body : JSON.stringify(body),
    }),
  );
}

/** The `data:` payloads and comment lines of a complete SSE body. */
async function sseOf(res: Response): Promise<{ data: string[]; comments: string[] }> {
  const text = await res.text();
  const data: string[] = [];
  const comments: string[] = [];
  for (const line of text.split("\n")) {
    if (line.startsWith("data: ")) data.push(line.slice(6));
    else if (line.startsWith(":")) comments.push(line);
  }
  return { data, comments };
}

interface Chunk {
  choices: { delta: { content?: string }; finish_reason: string | null }[];
  usage?: { prompt_tokens: number; completion_tokens: number; total_tokens: number; cost: number };
  error?: { message: string; code: number };
}

describe("dev model", () => {
  test("GET /v1/models lists the dev models when mounted under /v1", async () => {
    const res = await mounted().request("/v1/models");
    expect(res.status).toBe(200);
    const body = (await res.json()) as { object: string; data: { id: string }[] };
    expect(body.object).toBe("list");
    expect(body.data.map((m) => m.id)).toEqual(["dev-tutor", "dev-fail-before", "dev-fail-mid", "dev-stall", "dev-crawl", "dev-rate-limited", "dev-guard"]);
  });

  test("dev-tutor answers deterministically, Socratically, about the last question", async () => {
    const app = mounted({ tokensPerSecond: 0 });
    const res = await post(app, { model: "dev-tutor", messages });
    expect(res.status).toBe(200);
    const body = (await res.json()) as {
      object: string;
      choices: { message: { role: string; content: string }; finish_reason: string }[];
      usage: { prompt_tokens: number; completion_tokens: number };
    };
    const answer = body.choices[0]?.message.content ?? "";
    expect(body.object).toBe("chat.completion");
    expect(answer).toBe(tutorReply(messages));
    expect(answer).toMatch(/triangle/);
    expect(answer).toContain("?");
    expect(body.choices[0]?.finish_reason).toBe("stop");
    expect(body.usage.completion_tokens).toBe(estimateTokens(answer));
    expect(body.usage.prompt_tokens).toBe(2 + 4 + estimateTokens(messages[0]?.content ?? "") + 4 + estimateTokens(question));
    const again = (await (await post(app, { model: "dev-tutor", messages })).json()) as typeof body;
    expect(again.choices[0]?.message.content).toBe(answer);
  });

  test("a follow-up turn gets a follow-up reply", () => {
    const first = tutorReply([{ role: "user", content: question }]);
    const followUp = tutorReply([
      { role: "user", content: question },
      { role: "assistant", content: first },
      { role: "user", content: "Is it base times height?" },
    ]);
    expect(followUp).not.toBe(first);
    expect(followUp).toMatch(/^(Thanks for sharing|Nice, you're making|Good, let's keep)/);
    expect(tutorReply([])).toMatch(/What are you working on/);
  });

  test("streaming: role chunk, word deltas that add up to the answer, finish, usage chunk, [DONE]", async () => {
    const res = await post(mounted(), { model: "dev-tutor@0tps", messages, stream: true });
    expect(res.headers.get("content-type")).toContain("text/event-stream");
    const { data } = await sseOf(res);
    expect(data.at(-1)).toBe("[DONE]");
    const chunks = data.slice(0, -1).map((d) => JSON.parse(d) as Chunk);
    const text = chunks.map((c) => c.choices[0]?.delta.content ?? "").join("");
    expect(text).toBe(tutorReply(messages));
    expect(chunks.at(-2)?.choices[0]?.finish_reason).toBe("stop");
    const usageChunk = chunks.at(-1);
    expect(usageChunk?.choices).toEqual([]);
    expect(usageChunk?.usage?.completion_tokens).toBe(estimateTokens(text));
  });

  test("max_tokens cuts the answer with finish_reason length", async () => {
    const res = await post(mounted(), { model: "dev-tutor@0tps", messages, stream: true, max_tokens: 5 });
    const chunks = (await sseOf(res)).data.slice(0, -1).map((d) => JSON.parse(d) as Chunk);
    const text = chunks.map((c) => c.choices[0]?.delta.content ?? "").join("");
    expect(estimateTokens(text)).toBeLessThanOrEqual(5);
    expect(text.length).toBeGreaterThan(0);
    expect(chunks.at(-2)?.choices[0]?.finish_reason).toBe("length");
  });

  test("the token rate comes from the option, the header, or the @<n>tps suffix", async () => {
    const paced = async (model: string, headers: Record<string, string> = {}, tokensPerSecond?: number) => {
      const { clock, sleeps } = virtualClock();
      const res = await post(mounted({ clock, tokensPerSecond }), { model, messages, stream: true }, headers);
      await res.text();
      return [...new Set(sleeps.map((s) => Math.round(s)))];
    };
    expect(await paced("dev-tutor", {}, 20)).toEqual([50]);
    expect(await paced("dev-tutor@200tps", {}, 20)).toEqual([5]);
    expect(await paced("dev-tutor", { "x-dev-tokens-per-second": "100" }, 20)).toEqual([10]);
    expect(await paced("dev-tutor@200tps", { "x-dev-tokens-per-second": "100" })).toEqual([5]);
    expect(await paced("dev-crawl", {}, 1000)).toEqual([2000]);
    expect(await paced("dev-tutor@0tps")).toEqual([]);
  });

  test("bad requests get OpenAI-style 400/404 errors", async () => {
    const app = mounted();
    const bad = async (body: unknown, status: number, headers: Record<string, string> = {}) => {
      const res = await post(app, body, headers);
      expect(res.status).toBe(status);
      const json = (await res.json()) as { error: { message: string; type: string; param: string | null; code: string | null } };
      expect(json.error.type).toBe("invalid_request_error");
      expect(json.error.message.length).toBeGreaterThan(0);
      return json.error;
    };
    await bad("{not json", 400);
    await bad("", 400);
    await bad([1, 2], 400);
    expect((await bad({ model: "dev-tutor" }, 400)).param).toBe("messages");
    expect((await bad({ model: "dev-tutor", messages: [{ role: "wizard", content: "hi" }] }, 400)).param).toBe("messages.0.role");
    await bad({ model: "dev-tutor", messages, max_tokens: -3 }, 400);
    await bad({ model: "dev-tutor", messages }, 400, { "x-dev-tokens-per-second": "fast" });
    expect((await bad({ model: "gpt-nope", messages }, 404)).code).toBe("model_not_found");
  });

  test("dev-fail-before is a 503 and dev-rate-limited a 429, both with Retry-After", async () => {
    const app = mounted();
    const failed = await post(app, { model: "dev-fail-before", messages, stream: true });
    expect(failed.status).toBe(503);
    expect(failed.headers.get("retry-after")).toBe("1");
    const limited = await post(app, { model: "dev-rate-limited", messages, stream: true });
    expect(limited.status).toBe(429);
    expect(limited.headers.get("retry-after")).toBe("7");
    expect(((await limited.json()) as { error: { code: string } }).error.code).toBe("rate_limit_exceeded");
  });

  test("dev-fail-mid sends some tokens, then an error object, and no [DONE]", async () => {
    const ends: DevStreamEnd[] = [];
    const res = await post(mounted({ tokensPerSecond: 0, onStreamEnd: (e) => ends.push(e) }), { model: "dev-fail-mid", messages, stream: true });
    const { data } = await sseOf(res);
    expect(data).not.toContain("[DONE]");
    const chunks = data.map((d) => JSON.parse(d) as Chunk);
    expect(chunks.filter((c) => c.choices[0]?.delta.content).length).toBe(5);
    expect(chunks.at(-1)?.error?.code).toBe(502);
    expect(ends).toEqual([{ model: "dev-fail-mid", outcome: "failed", tokensSent: 5 }]);
  });

  test("dev-stall sends a few tokens, then keep-alives until the reader cancels", async () => {
    let ended: (e: DevStreamEnd) => void = () => {};
    const end = new Promise<DevStreamEnd>((resolve) => (ended = resolve));
    const app = mounted({ tokensPerSecond: 0, keepAliveMs: 5, onStreamEnd: ended });
    const res = await post(app, { model: "dev-stall", messages, stream: true });
    const reader = res.body?.getReader();
    if (!reader) throw new Error("no body");
    let text = "";
    const decoder = new TextDecoder();
    while ((text.match(/: OPENROUTER PROCESSING/g) ?? []).length < 3) {
      const { value } = await reader.read();
      text += decoder.decode(value, { stream: true });
    }
    expect(text.match(/"content":"[^"]+"/g)?.length).toBe(5);
    await reader.cancel();
    expect(await end).toEqual({ model: "dev-stall", outcome: "aborted", tokensSent: 5 });
  });

  test("over real HTTP, a client abort stops the stream mid-answer", async () => {
    let ended: (e: DevStreamEnd) => void = () => {};
    const end = new Promise<DevStreamEnd>((resolve) => (ended = resolve));
    const server = Bun.serve({ port: 0, fetch: mounted({ onStreamEnd: ended }).fetch });
    try {
      const controller = new AbortController();
      const res = await fetch(`http://127.0.0.1:${server.port}/v1/chat/completions`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ model: "dev-tutor@20tps", messages, stream: true }),
        signal: controller.signal,
      });
      const reader = res.body?.getReader();
      if (!reader) throw new Error("no body");
      const { value } = await reader.read();
      expect(new TextDecoder().decode(value)).toContain("data: ");
      controller.abort();
      const result = await end;
      expect(result.outcome).toBe("aborted");
      expect(result.tokensSent).toBeLessThan(tutorReply(messages).split(" ").length);
    } finally {
      await server.stop(true);
    }
  });

  test("the official openai client consumes it (stream, non-stream, errors)", async () => {
    const server = Bun.serve({ port: 0, fetch: mounted({ tokensPerSecond: 0 }).fetch });
    try {
      const openai = new OpenAI({ baseURL: `http://127.0.0.1:${server.port}/v1`, apiKey: "dev", maxRetries: 0 });
      const stream = await openai.chat.completions.create({
        model: "dev-tutor",
        messages: [{ role: "user", content: question }],
        stream: true,
        stream_options: { include_usage: true },
      });
      let text = "";
      let usage: { completion_tokens: number } | null | undefined = null;
      for await (const chunk of stream) {
        text += chunk.choices[0]?.delta.content ?? "";
        if (chunk.usage) usage = chunk.usage;
      }
      expect(text).toBe(tutorReply([{ role: "user", content: question }]));
      expect(usage?.completion_tokens).toBe(estimateTokens(text));

      const completion = await openai.chat.completions.create({
        model: "dev-tutor",
        messages: [{ role: "user", content: question }],
      });
      expect(completion.choices[0]?.message.content).toBe(text);

      const models = await openai.models.list();
      expect(models.data.map((m) => m.id)).toContain("dev-tutor");

      const limited = await openai.chat.completions.create({ model: "dev-rate-limited", messages: [{ role: "user", content: "hi" }] }).catch((err: unknown) => err);
      expect(limited).toBeInstanceOf(RateLimitError);
    } finally {
      await server.stop(true);
    }
  });

  describe("with the gateway client, in process", () => {
    const ends: DevStreamEnd[] = [];
    const app = mounted({ tokensPerSecond: 0, keepAliveMs: 10, onStreamEnd: (e) => ends.push(e) });
    const client = createGatewayClient({
      baseUrl: "http://dev.local/v1",
      fetch: (url, init) => Promise.resolve(app.request(url, init)),
      firstTokenTimeoutMs: 2_000,
      idleTimeoutMs: 300,
      maxRetries: 0,
      retryBaseMs: 1,
    });

    test("falls back from dev-fail-before to dev-tutor", async () => {
      const stream = client.streamChat({ models: ["dev-fail-before", "dev-tutor"], messages: [{ role: "user", content: question }] });
      const types: string[] = [];
      for await (const event of stream) types.push(event.type);
      expect(types[0]).toBe("start");
      expect(types.slice(-2)).toEqual(["usage", "finish"]);
      expect(stream.model).toBe("dev-tutor");
      expect(stream.text).toBe(tutorReply([{ role: "user", content: question }]));
      expect(stream.usage).toEqual({ inputTokens: 2 + 4 + estimateTokens(question), outputTokens: estimateTokens(stream.text), cost: 0 });
    });

    test("dev-fail-mid surfaces as UPSTREAM_ERROR after the first token", async () => {
      const stream = client.streamChat({ models: ["dev-fail-mid", "dev-tutor"], messages: [{ role: "user", content: question }] });
      const error = await (async () => {
        for await (const _ of stream) {
          // drain
        }
      })().catch((err: unknown) => err);
      expect(error).toBeInstanceOf(GatewayError);
      expect((error as GatewayError).afterFirstToken).toBe(true);
      expect(stream.text.length).toBeGreaterThan(0);
    });

    test("dev-stall hits the idle timeout and the dev model sees the cancel", async () => {
      const stream = client.streamChat({ models: ["dev-stall"], messages: [{ role: "user", content: question }] });
      const error = await (async () => {
        for await (const _ of stream) {
          // drain
        }
      })().catch((err: unknown) => err);
      expect((error as GatewayError).code).toBe("UPSTREAM_TIMEOUT");
      for (let i = 0; i < 50 && !ends.some((e) => e.model === "dev-stall"); i++) await Bun.sleep(10);
      expect(ends.find((e) => e.model === "dev-stall")?.outcome).toBe("aborted");
    });
  });
});
