import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { AppError } from "@raptscallions/core";
import { createGatewayClient, GatewayError, systemClock, type ChatStream, type Clock, type GatewayClientOptions, type GatewayEvent } from "../src/index.ts";
import { DONE, deltaLine, finishLine, startScriptedUpstream, usageLine, type ScriptedUpstream } from "./scripted-upstream.ts";

const enc = new TextEncoder();
let upstream: ScriptedUpstream;
beforeAll(async () => {
  upstream = await startScriptedUpstream();
});
afterAll(async () => {
  await upstream.stop();
});

let modelSeq = 0;
/** Unique model names per test, so scripts and hit counts never leak between tests. */
function models(...names: string[]): string[] {
  modelSeq += 1;
  return names.map((n) => `${n}-${modelSeq}`);
}

/** Records the delays the client asks for, and waits none of them. */
function recordingClock(): { clock: Clock; sleeps: number[] } {
  const sleeps: number[] = [];
  return {
    sleeps,
    clock: {
      now: () => Date.now(),
      sleep: (ms, signal) => {
        sleeps.push(ms);
        return systemClock.sleep(0, signal);
      },
    },
  };
}

function client(overrides: Partial<GatewayClientOptions> = {}) {
  return createGatewayClient({
    baseUrl: upstream.baseUrl,
    apiKey: "sk-test",
    firstTokenTimeoutMs: 5_000,
    idleTimeoutMs: 5_000,
    maxRetries: 0,
    retryBaseMs: 100,
    random: () => 1,
    ...overrides,
  });
}

/**
 * The events with consecutive deltas joined: the tokens of one read of the stream leave as one
 * delta, and over a real socket which tokens share a read is the network's choice.
 */
function joinDeltas(events: GatewayEvent[]): GatewayEvent[] {
  const out: GatewayEvent[] = [];
  for (const event of events) {
    const last = out.at(-1);
    if (event.type === "delta" && last?.type === "delta") out[out.length - 1] = { type: "delta", text: last.text + event.text };
    else out.push(event);
  }
  return out;
}

/** An injected fetch whose body is exactly these reads. */
function readsFetch(reads: string[]): GatewayClientOptions["fetch"] {
  return async () => {
    let i = 0;
    const body = new ReadableStream<Uint8Array>({
      pull(controller) {
        const read = reads[i++];
        if (read !== undefined) controller.enqueue(enc.encode(read));
        else controller.close();
      },
    });
    return new Response(body, { headers: { "content-type": "text/event-stream" } });
  };
}

async function collect(stream: ChatStream): Promise<{ events: GatewayEvent[]; error: unknown }> {
  const events: GatewayEvent[] = [];
  try {
    for await (const event of stream) events.push(event);
    return { events, error: null };
  } catch (error) {
    return { events, error };
  }
}

const messages = [{ role: "user" as const, content: "What is a fraction?" }];

/** The happy-path byte sequence, cut mid-line and inside the 4-byte UTF-8 encoding of the fox. */
function splitHappyBytes(): Uint8Array[] {
  const text =
    ": OPENROUTER PROCESSING\n\n" +
    `data: ${JSON.stringify({ choices: [{ index: 0, delta: { role: "assistant", content: "" } }] })}\n\n` +
    deltaLine("Hé🦊llo") +
    ": OPENROUTER PROCESSING\n\n" +
    deltaLine(" world") +
    finishLine("stop") +
    usageLine(12, 3, 0.00042) +
    DONE;
  const bytes = enc.encode(text);
  const fox = enc.encode("🦊");
  let at = -1;
  for (let i = 0; i < bytes.length; i++) {
    if (bytes[i] === fox[0] && bytes[i + 1] === fox[1]) {
      at = i;
      break;
    }
  }
  const cuts = [10, at - 7, at + 2, at + 3, bytes.length - 20];
  const pieces: Uint8Array[] = [];
  let start = 0;
  for (const cut of cuts) {
    pieces.push(bytes.slice(start, cut));
    start = cut;
  }
  pieces.push(bytes.slice(start));
  return pieces;
}

// Both tokens complete in the same read of the split bytes, so they leave as one delta.
const happyEvents = (model: string): GatewayEvent[] => [
  { type: "start", model },
  { type: "delta", text: "Hé🦊llo world" },
  { type: "usage", inputTokens: 12, outputTokens: 3, cost: 0.00042 },
  { type: "finish", reason: "stop" },
];

describe("streamChat against a scripted upstream", () => {
  test("parses chunks split mid-line and mid-UTF-8 character, skips comments, reports usage with cost", async () => {
    const [a] = models("a") as [string];
    upstream.script(a, { stream: splitHappyBytes() });
    const stream = client().streamChat({ models: [a], messages, maxTokens: 200, temperature: 0.2, user: "u1" });
    expect(stream.outcome).toBe("pending");
    const { events, error } = await collect(stream);
    expect(error).toBeNull();
    expect(joinDeltas(events)).toEqual(happyEvents(a));
    const summary = stream.summary();
    expect(summary.outcome).toBe("complete");
    expect(summary.text).toBe("Hé🦊llo world");
    expect(summary.model).toBe(a);
    expect(summary.firstTokenReceived).toBe(true);
    expect(typeof summary.ttftMs).toBe("number");
    expect(typeof summary.latencyMs).toBe("number");
    expect(summary.usage).toEqual({ inputTokens: 12, outputTokens: 3, cost: 0.00042 });
    expect(summary.usageOrEstimate).toEqual({ inputTokens: 12, outputTokens: 3, estimated: false });
    expect(summary.finishReason).toBe("stop");

    const sent = upstream.requests.find((r) => r.model === a);
    expect(sent?.body).toMatchObject({
      model: a,
      messages,
      stream: true,
      stream_options: { include_usage: true },
      max_tokens: 200,
      temperature: 0.2,
      user: "u1",
    });
    expect(sent?.headers.get("authorization")).toBe("Bearer sk-test");
  });

  test("the same split bytes through an injected fetch keep their exact chunk boundaries", async () => {
    const pieces = splitHappyBytes();
    const seen: string[] = [];
    const c = client({
      fetch: async (url) => {
        seen.push(url);
        let i = 0;
        const body = new ReadableStream<Uint8Array>({
          pull(controller) {
            const piece = pieces[i++];
            if (piece) controller.enqueue(piece);
            else controller.close();
          },
        });
        return new Response(body, { headers: { "content-type": "text/event-stream" } });
      },
      baseUrl: "http://upstream.test/api/v1/",
    });
    const { events, error } = await collect(c.streamChat({ models: ["x"], messages }));
    expect(error).toBeNull();
    expect(events).toEqual(happyEvents("x"));
    expect(seen).toEqual(["http://upstream.test/api/v1/chat/completions"]);
  });

  test("a stream without a usage chunk finishes without a usage event and offers an estimate", async () => {
    const [a] = models("a") as [string];
    upstream.script(a, { stream: [deltaLine("Twelve chars"), finishLine(), DONE] });
    const stream = client().streamChat({ models: [a], messages });
    const { events, error } = await collect(stream);
    expect(error).toBeNull();
    expect(events.map((e) => e.type)).toEqual(["start", "delta", "finish"]);
    expect(stream.usage).toBeNull();
    expect(stream.summary().usageOrEstimate).toEqual({ inputTokens: 2 + 4 + 5, outputTokens: 3, estimated: true });
  });

  test("a finish_reason followed by EOF without [DONE] is a complete answer", async () => {
    const [a] = models("a") as [string];
    upstream.script(a, { stream: [deltaLine("cut"), finishLine("length")] });
    const { events, error } = await collect(client().streamChat({ models: [a], messages }));
    expect(error).toBeNull();
    expect(events.at(-1)).toEqual({ type: "finish", reason: "length" });
  });

  test("an error object after the first token surfaces and never falls back", async () => {
    const [a, b] = models("a", "b") as [string, string];
    upstream.script(a, {
      stream: [deltaLine("Partial "), deltaLine("answer"), `data: ${JSON.stringify({ error: { code: 502, message: "provider died" } })}\n\n`],
    });
    upstream.script(b, { stream: [deltaLine("other"), finishLine(), DONE] });
    const stream = client({ maxRetries: 3 }).streamChat({ models: [a, b], messages });
    const { events, error } = await collect(stream);
    expect(joinDeltas(events)).toEqual([
      { type: "start", model: a },
      { type: "delta", text: "Partial answer" },
    ]);
    expect(error).toBeInstanceOf(GatewayError);
    expect(error).toBeInstanceOf(AppError);
    const err = error as GatewayError;
    expect(err.code).toBe("UPSTREAM_ERROR");
    expect(err.afterFirstToken).toBe(true);
    expect(upstream.hits(a)).toBe(1);
    expect(upstream.hits(b)).toBe(0);
    expect(stream.outcome).toBe("failed");
    expect(stream.text).toBe("Partial answer");
    expect(stream.firstTokenReceived).toBe(true);
  });

  test("an error object before the first token is retried on the same model", async () => {
    const [a] = models("a") as [string];
    upstream.script(
      a,
      { stream: [": OPENROUTER PROCESSING\n\n", `data: {"error":{"message":"overloaded","code":503}}\n\n`] },
      { stream: [deltaLine("ok"), finishLine(), DONE] },
    );
    const { clock, sleeps } = recordingClock();
    const stream = client({ maxRetries: 2, clock }).streamChat({ models: [a], messages });
    const { events, error } = await collect(stream);
    expect(error).toBeNull();
    expect(events.filter((e) => e.type === "start")).toEqual([{ type: "start", model: a }]);
    expect(stream.text).toBe("ok");
    expect(upstream.hits(a)).toBe(2);
    expect(sleeps).toEqual([100]);
  });

  test("429 with Retry-After is retried after the advertised delay, then succeeds", async () => {
    const [a] = models("a") as [string];
    upstream.script(
      a,
      { status: 429, headers: { "retry-after": "2" }, body: JSON.stringify({ error: { message: "slow down" } }) },
      { stream: [deltaLine("hello"), finishLine(), usageLine(5, 1), DONE] },
    );
    const { clock, sleeps } = recordingClock();
    const stream = client({ maxRetries: 1, clock }).streamChat({ models: [a], messages });
    const { error } = await collect(stream);
    expect(error).toBeNull();
    expect(sleeps).toEqual([2000]);
    expect(stream.attempts.map((x) => [x.status, x.code, x.next])).toEqual([
      [429, "RATE_LIMITED", "retry"],
      [200, null, "stop"],
    ]);
    expect(stream.attempts[0]?.message).toBe("slow down");
  });

  test("429 on every attempt ends in RATE_LIMITED with retryAfterSeconds", async () => {
    const [a] = models("a") as [string];
    upstream.script(a, { status: 429, headers: { "retry-after": "7" }, body: "{}" });
    const { error } = await collect(client({ maxRetries: 0 }).streamChat({ models: [a], messages }));
    const err = error as GatewayError;
    expect(err.code).toBe("RATE_LIMITED");
    expect(err.status).toBe(429);
    expect(err.retryAfterSeconds).toBe(7);
  });

  test("a Retry-After longer than maxRetryDelayMs falls back instead of waiting", async () => {
    const [a, b] = models("a", "b") as [string, string];
    upstream.script(a, { status: 429, headers: { "retry-after": "120" }, body: "{}" });
    upstream.script(b, { stream: [deltaLine("from b"), finishLine(), DONE] });
    const { clock, sleeps } = recordingClock();
    const stream = client({ maxRetries: 3, clock }).streamChat({ models: [a, b], messages });
    const { events, error } = await collect(stream);
    expect(error).toBeNull();
    expect(events[0]).toEqual({ type: "start", model: b });
    expect(sleeps).toEqual([]);
    expect(upstream.hits(a)).toBe(1);
  });

  test("503 on model A (after its retries) falls back to model B", async () => {
    const [a, b] = models("a", "b") as [string, string];
    upstream.script(a, { status: 503, body: "upstream unavailable" });
    upstream.script(b, { stream: [deltaLine("from b"), finishLine(), DONE] });
    const { clock, sleeps } = recordingClock();
    const stream = client({ maxRetries: 2, clock }).streamChat({ models: [a, b], messages });
    const { events, error } = await collect(stream);
    expect(error).toBeNull();
    expect(events[0]).toEqual({ type: "start", model: b });
    expect(upstream.hits(a)).toBe(3);
    expect(upstream.hits(b)).toBe(1);
    // Exponential backoff between same-model retries, none before the fallback.
    expect(sleeps).toEqual([100, 200]);
    expect(stream.attempts.map((x) => `${x.model}:${x.status}:${x.next}`)).toEqual([`${a}:503:retry`, `${a}:503:retry`, `${a}:503:fallback`, `${b}:200:stop`]);
    expect(stream.model).toBe(b);
  });

  test("a 4xx other than 408/429 is not retried on the same model", async () => {
    const [a, b] = models("a", "b") as [string, string];
    upstream.script(a, { status: 400, body: JSON.stringify({ error: { message: "context too long" } }) });
    upstream.script(b, { stream: [deltaLine("from b"), finishLine(), DONE] });
    const { error } = await collect(client({ maxRetries: 3 }).streamChat({ models: [a, b], messages }));
    expect(error).toBeNull();
    expect(upstream.hits(a)).toBe(1);
  });

  test("a 404 on the only model is MODEL_UNAVAILABLE with the attempts in details", async () => {
    const [a] = models("a") as [string];
    upstream.script(a, { status: 404, body: JSON.stringify({ error: { message: "no such model" } }) });
    const { error } = await collect(client({ maxRetries: 3 }).streamChat({ models: [a], messages }));
    const err = error as GatewayError;
    expect(err.code).toBe("MODEL_UNAVAILABLE");
    expect(err.details).toMatchObject({ model: a, attempts: [{ model: a, status: 404, message: "no such model", next: "stop" }] });
  });

  test("a stall after the first token hits the idle timeout and closes the upstream connection", async () => {
    const [a, b] = models("a", "b") as [string, string];
    upstream.script(a, { stream: [deltaLine("Hi"), { hang: true, keepAliveMs: 10 }] });
    upstream.script(b, { stream: [deltaLine("never"), finishLine(), DONE] });
    const stream = client({ idleTimeoutMs: 150, maxRetries: 2 }).streamChat({ models: [a, b], messages });
    const { events, error } = await collect(stream);
    expect(events.map((e) => e.type)).toEqual(["start", "delta"]);
    const err = error as GatewayError;
    expect(err.code).toBe("UPSTREAM_TIMEOUT");
    expect(err.afterFirstToken).toBe(true);
    expect(stream.text).toBe("Hi");
    expect(upstream.hits(b)).toBe(0);
    await upstream.requests.find((r) => r.model === a)?.closedEarly;
  });

  test("a consumer slower than the idle timeout is not mistaken for a silent upstream", async () => {
    const [a] = models("a") as [string];
    upstream.script(a, { stream: [deltaLine("one"), deltaLine(" two"), finishLine(), DONE] });
    // The first token's own timeout is not what this test is about: a loaded CI machine once took
    // more than 30 ms to bring it. The consumer waits four idle timeouts after each token.
    const stream = client({ idleTimeoutMs: 60, firstTokenTimeoutMs: 5_000 }).streamChat({ models: [a], messages });
    const { error } = await (async () => {
      try {
        for await (const event of stream) if (event.type === "delta") await Bun.sleep(240);
        return { error: null };
      } catch (err) {
        return { error: err };
      }
    })();
    expect(error).toBeNull();
    expect(stream.text).toBe("one two");
  });

  test("no token within the first-token timeout (keep-alives only) is UPSTREAM_TIMEOUT", async () => {
    const [a] = models("a") as [string];
    upstream.script(a, { stream: [": OPENROUTER PROCESSING\n\n", { hang: true, keepAliveMs: 10 }] });
    const stream = client({ firstTokenTimeoutMs: 150, maxRetries: 2 }).streamChat({ models: [a], messages });
    const { events, error } = await collect(stream);
    expect(events).toEqual([]);
    expect((error as GatewayError).code).toBe("UPSTREAM_TIMEOUT");
    expect(stream.firstTokenReceived).toBe(false);
    // A first-token timeout moves on rather than retrying the slow model.
    expect(upstream.hits(a)).toBe(1);
    await upstream.requests.find((r) => r.model === a)?.closedEarly;
  });

  test("a first-token timeout falls back to the next model", async () => {
    const [a, b] = models("a", "b") as [string, string];
    upstream.script(a, { stream: [{ hang: true }] });
    upstream.script(b, { stream: [deltaLine("from b"), finishLine(), DONE] });
    const stream = client({ firstTokenTimeoutMs: 300 }).streamChat({ models: [a, b], messages });
    const { events, error } = await collect(stream);
    expect(error).toBeNull();
    expect(events[0]).toEqual({ type: "start", model: b });
    expect(stream.attempts[0]).toMatchObject({ model: a, code: "UPSTREAM_TIMEOUT", next: "fallback" });
  });

  test("aborting the signal cancels the upstream request and rethrows the abort reason", async () => {
    const [a] = models("a") as [string];
    upstream.script(a, { stream: [deltaLine("Hi"), { hang: true }] });
    const controller = new AbortController();
    const stream = client().streamChat({ models: [a], messages, signal: controller.signal });
    const events: GatewayEvent[] = [];
    let error: unknown = null;
    try {
      for await (const event of stream) {
        events.push(event);
        if (event.type === "delta") controller.abort();
      }
    } catch (err) {
      error = err;
    }
    expect(events.map((e) => e.type)).toEqual(["start", "delta"]);
    expect((error as Error).name).toBe("AbortError");
    expect(stream.outcome).toBe("aborted");
    expect(stream.text).toBe("Hi");
    await upstream.requests.find((r) => r.model === a)?.closedEarly;
  });

  test("breaking out of the loop also cancels the upstream request", async () => {
    const [a] = models("a") as [string];
    upstream.script(a, { stream: [deltaLine("Hi"), { hang: true }] });
    const stream = client().streamChat({ models: [a], messages });
    for await (const event of stream) if (event.type === "delta") break;
    expect(stream.outcome).toBe("aborted");
    await upstream.requests.find((r) => r.model === a)?.closedEarly;
  });

  test("an already-aborted signal sends nothing", async () => {
    const [a] = models("a") as [string];
    const { error } = await collect(client().streamChat({ models: [a], messages, signal: AbortSignal.abort() }));
    expect((error as Error).name).toBe("AbortError");
    expect(upstream.hits(a)).toBe(0);
  });

  test("the tokens of one read leave as one delta; tokens of separate reads stay apart", async () => {
    const reads = [deltaLine("One ") + deltaLine("read, "), deltaLine("another"), deltaLine(" and") + deltaLine(" a third") + finishLine(), DONE];
    const stream = client({ fetch: readsFetch(reads) }).streamChat({ models: ["x"], messages });
    const { events, error } = await collect(stream);
    expect(error).toBeNull();
    expect(events).toEqual([
      { type: "start", model: "x" },
      { type: "delta", text: "One read, " },
      { type: "delta", text: "another" },
      { type: "delta", text: " and a third" },
      { type: "finish", reason: "stop" },
    ]);
    expect(stream.text).toBe("One read, another and a third");
  });

  test("tokens read together with a broken chunk are delivered before its error", async () => {
    const broken = "data: {not json\n\n";
    const reads = [[deltaLine("Kept "), deltaLine("too"), broken, deltaLine(" never")].join("")];
    const stream = client({ fetch: readsFetch(reads) }).streamChat({ models: ["x"], messages });
    const { events, error } = await collect(stream);
    expect(events).toEqual([
      { type: "start", model: "x" },
      { type: "delta", text: "Kept too" },
    ]);
    expect((error as GatewayError).code).toBe("UPSTREAM_ERROR");
    expect((error as GatewayError).afterFirstToken).toBe(true);
    expect(stream.text).toBe("Kept too");
  });

  test("a malformed chunk before the first token is an UPSTREAM_ERROR", async () => {
    const [a] = models("a") as [string];
    upstream.script(a, { stream: ["data: {not json\n\n"] });
    const { error } = await collect(client().streamChat({ models: [a], messages }));
    expect((error as GatewayError).code).toBe("UPSTREAM_ERROR");
  });

  test("a stream that ends after the first token without finishing is an error", async () => {
    const [a] = models("a") as [string];
    upstream.script(a, { stream: [deltaLine("Half an ans")] });
    const stream = client().streamChat({ models: [a], messages });
    const { error } = await collect(stream);
    expect((error as GatewayError).code).toBe("UPSTREAM_ERROR");
    expect((error as GatewayError).afterFirstToken).toBe(true);
    expect(stream.summary().usageOrEstimate.estimated).toBe(true);
  });

  test("an unreachable upstream is retried, then UPSTREAM_ERROR", async () => {
    const closed = Bun.serve({ port: 0, fetch: () => new Response("") });
    const port = closed.port;
    await closed.stop(true);
    const { clock, sleeps } = recordingClock();
    const c = client({ baseUrl: `http://127.0.0.1:${port}/v1`, maxRetries: 1, clock });
    const { error } = await collect(c.streamChat({ models: ["a"], messages }));
    expect((error as GatewayError).code).toBe("UPSTREAM_ERROR");
    expect(sleeps).toEqual([100]);
  });

  test("a stream can be iterated only once and needs at least one model", async () => {
    const [a] = models("a") as [string];
    upstream.script(a, { stream: [deltaLine("x"), finishLine(), DONE] });
    const stream = client().streamChat({ models: [a], messages });
    await collect(stream);
    expect(() => stream[Symbol.asyncIterator]()).toThrow();
    const { error } = await collect(client().streamChat({ models: [], messages }));
    expect((error as GatewayError).code).toBe("MODEL_UNAVAILABLE");
  });
});
