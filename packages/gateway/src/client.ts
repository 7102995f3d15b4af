import { createParser } from "eventsource-parser";
import { systemClock, type Clock } from "./clock.ts";
import { estimateMessagesTokens, estimateTokens, type ChatMessage, type TokenUsage } from "./cost.ts";
import { GatewayError, type AttemptRecord } from "./errors.ts";
import {
  AttemptFailure,
  failureFromJsonBody,
  failureFromResponse,
  parseChunk,
  type GatewayUsage,
} from "./upstream.ts";

/** `fetch`, or anything shaped like it (e.g. `(url, init) => devApp.request(url, init)`). */
export type FetchLike = (input: string, init: RequestInit) => Promise<Response>;

/** Options of {@link createGatewayClient}. */
export interface GatewayClientOptions {
  /** OpenAI-compatible base URL without the trailing `/chat/completions`, e.g. `https://openrouter.ai/api/v1`. */
  baseUrl: string;
  /** Sent as `Authorization: Bearer …` when set. */
  apiKey?: string;
  /** Extra headers on every request (e.g. OpenRouter's `HTTP-Referer`, `X-Title`). */
  headers?: Record<string, string>;
  fetch?: FetchLike;
  /** Longest wait, per attempt, from sending the request to the first content token. */
  firstTokenTimeoutMs: number;
  /** Longest upstream silence between data chunks once tokens flow (keep-alive comments do not count). */
  idleTimeoutMs: number;
  /** Retries of the same model after a retryable failure (network, 408, 429, 5xx, error before any token). */
  maxRetries: number;
  /** Backoff base: attempt n waits `retryBaseMs * 2^n`, jittered to between half and all of it. */
  retryBaseMs: number;
  /**
   * Longest delay the client will wait before retrying the same model (default 10 000). A
   * Retry-After beyond it makes the client fall back to the next model instead.
   */
  maxRetryDelayMs?: number;
  clock?: Clock;
  /** Jitter source in [0, 1) (default `Math.random`); tests pass a constant. */
  random?: () => number;
}

/** One streamed completion request. */
export interface ChatRequest {
  /** Primary model first, then fallbacks in order. */
  models: readonly string[];
  messages: readonly ChatMessage[];
  maxTokens?: number;
  temperature?: number;
  /** Aborting cancels the upstream fetch (the provider sees the connection close and stops billing). */
  signal?: AbortSignal;
  /** End-user id forwarded as OpenAI's `user` field (abuse monitoring upstream). */
  user?: string;
}

/**
 * Events of a stream, in order: exactly one `start` (the model that answers, announced when its
 * first token arrives, so retries and fallbacks before it are invisible), any number of `delta`,
 * at most one `usage` (absent when the upstream sent none), and a final `finish`.
 */
export type GatewayEvent =
  | { type: "start"; model: string }
  | { type: "delta"; text: string }
  | ({ type: "usage" } & GatewayUsage)
  | { type: "finish"; reason: string };

/** State of a stream: `pending` until iterated, then `streaming`, then one terminal state. */
export type ChatOutcome = "pending" | "streaming" | "complete" | "failed" | "aborted";

/** Snapshot of a stream's measurements; see {@link ChatStream}. */
export interface ChatSummary {
  outcome: ChatOutcome;
  /** The model that produced the answer, or the last one tried if none did. */
  model: string | null;
  /** The concrete model the upstream reported in its chunks (routers may differ from `model`). */
  upstreamModel: string | null;
  firstTokenReceived: boolean;
  /** From the start of iteration to the first token, retries and fallbacks included (what the user waited). */
  ttftMs: number | null;
  /** From the start of the attempt that answered to its first token (the upstream's own latency). */
  upstreamTtftMs: number | null;
  /** From the start of iteration to its end (success, failure or abort). */
  latencyMs: number | null;
  /** As reported by the upstream; `null` if it never arrived (broken or aborted stream). */
  usage: GatewayUsage | null;
  /** The reported usage, or an estimate from the prompt and the text so far (chars/4). */
  usageOrEstimate: TokenUsage & { estimated: boolean };
  text: string;
  finishReason: string | null;
  attempts: readonly AttemptRecord[];
  /** The error the iteration ended with, if any. */
  error: unknown;
}

/** An async iterable of {@link GatewayEvent}s plus live measurements. Iterate it once. */
export interface ChatStream extends AsyncIterable<GatewayEvent> {
  readonly outcome: ChatOutcome;
  readonly model: string | null;
  readonly firstTokenReceived: boolean;
  readonly ttftMs: number | null;
  readonly latencyMs: number | null;
  readonly usage: GatewayUsage | null;
  /** The answer so far. */
  readonly text: string;
  readonly attempts: readonly AttemptRecord[];
  summary(): ChatSummary;
}

/** The AI gateway client. */
export interface GatewayClient {
  /**
   * Streams a chat completion. Nothing is sent until iteration starts. Iteration ends after the
   * `finish` event, throws a {@link GatewayError} on failure, or rethrows `signal.reason` when the
   * caller aborted. Breaking out of the loop also cancels the upstream request.
   */
  streamChat(request: ChatRequest): ChatStream;
}

/**
 * Fires when the upstream has been silent too long and aborts the attempt. One timer per attempt;
 * moving the deadline is an assignment, so the hot path pays nothing per chunk.
 */
class Watchdog {
  fired: "first_token" | "idle" | null = null;
  /** Set while the consumer holds the deltas: its time is not upstream silence. */
  busy = false;
  #deadline: number;
  #firesAt: number;
  #timer: ReturnType<typeof setTimeout> | undefined;
  #idle = false;
  constructor(
    private readonly clock: Clock,
    private readonly controller: AbortController,
    firstTokenMs: number,
    private readonly idleMs: number,
  ) {
    this.#deadline = clock.now() + firstTokenMs;
    this.#firesAt = this.#deadline;
    this.#timer = setTimeout(this.#check, firstTokenMs);
  }
  /** Data arrived (and was handed to the consumer) after the first token: restart the idle window. */
  touch(now: number): void {
    this.#idle = true;
    this.#deadline = now + this.idleMs;
    // Only the switch from the first-token window to a shorter idle window needs a new timer;
    // later deadlines only move forward and are picked up when the timer fires.
    if (this.#deadline < this.#firesAt && this.#timer !== undefined) {
      clearTimeout(this.#timer);
      this.#arm(this.idleMs);
    }
  }
  #arm(ms: number): void {
    this.#firesAt = this.clock.now() + ms;
    this.#timer = setTimeout(this.#check, ms);
  }
  #check = (): void => {
    if (this.busy) {
      this.#arm(this.idleMs);
      return;
    }
    const left = this.#deadline - this.clock.now();
    if (left > 0) {
      this.#arm(left);
      return;
    }
    this.#timer = undefined;
    this.fired = this.#idle ? "idle" : "first_token";
    this.controller.abort(new DOMException("The AI service went silent", "TimeoutError"));
  };
  stop(): void {
    if (this.#timer !== undefined) clearTimeout(this.#timer);
    this.#timer = undefined;
  }
}

class ChatStreamImpl implements ChatStream {
  #outcome: ChatOutcome = "pending";
  #model: string | null = null;
  #upstreamModel: string | null = null;
  #committed = false;
  #startedAt: number | null = null;
  #firstTokenAt: number | null = null;
  #upstreamTtftMs: number | null = null;
  #endedAt: number | null = null;
  #usage: GatewayUsage | null = null;
  #text = "";
  #finishReason: string | null = null;
  #attempts: AttemptRecord[] = [];
  #error: unknown = undefined;
  #iterated = false;
  #finished = false;

  constructor(
    private readonly request: ChatRequest,
    private readonly opts: GatewayClientOptions,
    private readonly fetchImpl: FetchLike,
    private readonly clock: Clock,
  ) {}

  get outcome(): ChatOutcome {
    return this.#outcome;
  }
  get model(): string | null {
    return this.#model;
  }
  get firstTokenReceived(): boolean {
    return this.#committed && this.#text !== "";
  }
  get ttftMs(): number | null {
    return this.#firstTokenAt === null || this.#startedAt === null ? null : this.#firstTokenAt - this.#startedAt;
  }
  get latencyMs(): number | null {
    return this.#endedAt === null || this.#startedAt === null ? null : this.#endedAt - this.#startedAt;
  }
  get usage(): GatewayUsage | null {
    return this.#usage;
  }
  get text(): string {
    return this.#text;
  }
  get attempts(): readonly AttemptRecord[] {
    return this.#attempts;
  }

  summary(): ChatSummary {
    const usage = this.#usage;
    return {
      outcome: this.#outcome,
      model: this.#model,
      upstreamModel: this.#upstreamModel,
      firstTokenReceived: this.firstTokenReceived,
      ttftMs: this.ttftMs,
      upstreamTtftMs: this.#upstreamTtftMs,
      latencyMs: this.latencyMs,
      usage,
      usageOrEstimate: usage
        ? { inputTokens: usage.inputTokens, outputTokens: usage.outputTokens, estimated: false }
        : {
            inputTokens: estimateMessagesTokens(this.request.messages),
            outputTokens: estimateTokens(this.#text),
            estimated: true,
          },
      text: this.#text,
      finishReason: this.#finishReason,
      attempts: [...this.#attempts],
      error: this.#error,
    };
  }

  [Symbol.asyncIterator](): AsyncIterator<GatewayEvent> {
    if (this.#iterated) throw new Error("A ChatStream can be iterated only once");
    this.#iterated = true;
    return this.#run();
  }

  /**
   * Retry and fallback loop around {@link #attempt}. Only one attempt ever yields, because its
   * first token commits the stream to it. Kept to two generator levels: each level costs every
   * delta a promise hop (see bench/gateway.bench.ts).
   */
  async *#run(): AsyncGenerator<GatewayEvent, void, undefined> {
    const { request, opts, clock } = this;
    const signal = request.signal;
    this.#startedAt = clock.now();
    this.#outcome = "streaming";
    try {
      if (request.models.length === 0) {
        throw new GatewayError("MODEL_UNAVAILABLE", "No model was given to call", { model: null });
      }
      let last: AttemptFailure | null = null;
      for (const [index, model] of request.models.entries()) {
        this.#model = model;
        for (let retry = 0; ; retry++) {
          signal?.throwIfAborted();
          const failure = yield* this.#attempt(model);
          if (failure === null) {
            this.#outcome = "complete";
            return;
          }
          last = failure;
          const delay = this.#retryDelay(failure, retry);
          const next = delay !== null ? "retry" : index < request.models.length - 1 ? "fallback" : "stop";
          this.#attempts.push({
            model,
            status: failure.status,
            code: failure.code,
            message: failure.upstreamMessage ?? failure.message,
            next,
          });
          if (delay === null) break;
          await clock.sleep(delay, signal);
        }
      }
      throw this.#exhausted(last);
    } catch (err) {
      this.#error = err;
      this.#outcome = signal?.aborted ? "aborted" : "failed";
      throw err;
    } finally {
      this.#endedAt = clock.now();
      // The consumer broke out of the loop: unless it had the whole answer, the upstream request
      // was cancelled by #attempt's cleanup.
      if (this.#outcome === "streaming") this.#outcome = this.#finished ? "complete" : "aborted";
    }
  }

  /** Delay before retrying the same model, or `null` to move on to the next model. */
  #retryDelay(failure: AttemptFailure, retry: number): number | null {
    const { opts } = this;
    if (failure.next !== "retry" || retry >= opts.maxRetries) return null;
    const jitter = 0.5 + 0.5 * (opts.random ?? Math.random)();
    const delay = Math.max(opts.retryBaseMs * 2 ** retry * jitter, failure.retryAfterMs ?? 0);
    return delay <= (opts.maxRetryDelayMs ?? 10_000) ? delay : null;
  }

  /** The error once every model and retry failed: the last failure, with all attempts in details. */
  #exhausted(last: AttemptFailure | null): GatewayError {
    const final = last ?? new AttemptFailure("UPSTREAM_ERROR", "No attempt was made", "fallback");
    const retryAfterSeconds =
      final.code === "RATE_LIMITED" ? Math.max(1, Math.ceil((final.retryAfterMs ?? 1000) / 1000)) : undefined;
    return new GatewayError(final.code, final.message, {
      model: this.#model,
      upstreamStatus: final.status,
      retryAfterSeconds,
      details: { model: this.#model, attempts: [...this.#attempts] },
    });
  }

  /**
   * One upstream request. Returns `null` on success, an {@link AttemptFailure} when it failed
   * before any token (the caller may retry or fall back), and throws when it failed after the
   * first token or the caller aborted.
   */
  async *#attempt(model: string): AsyncGenerator<GatewayEvent, AttemptFailure | null, undefined> {
    const { request, opts, clock } = this;
    const signal = request.signal;
    const attemptStart = clock.now();
    const controller = new AbortController();
    const onAbort = (): void => controller.abort(signal?.reason);
    signal?.addEventListener("abort", onAbort, { once: true });
    const watchdog = new Watchdog(clock, controller, opts.firstTokenTimeoutMs, opts.idleTimeoutMs);
    let eof = false;
    try {
      const res = await this.fetchImpl(`${opts.baseUrl.replace(/\/+$/, "")}/chat/completions`, {
        method: "POST",
        headers: {
          "content-type": "application/json",
          accept: "text/event-stream",
          ...(opts.apiKey ? { authorization: `Bearer ${opts.apiKey}` } : {}),
          ...opts.headers,
        },
        body: JSON.stringify({
          model,
          messages: request.messages,
          stream: true,
          stream_options: { include_usage: true },
          ...(request.maxTokens !== undefined ? { max_tokens: request.maxTokens } : {}),
          ...(request.temperature !== undefined ? { temperature: request.temperature } : {}),
          ...(request.user !== undefined ? { user: request.user } : {}),
        }),
        signal: controller.signal,
      });
      if (!res.ok) {
        eof = true;
        throw await failureFromResponse(res, model, clock.now());
      }
      if (res.headers.get("content-type")?.includes("application/json")) {
        eof = true;
        throw await failureFromJsonBody(res, model);
      }
      if (!res.body) {
        eof = true;
        throw new AttemptFailure("UPSTREAM_ERROR", `The AI service sent an empty answer for model ${model}`, "retry", res.status);
      }
      const reader = res.body.getReader();
      // A fetch that is not a network fetch (e.g. `app.request` of the dev model) may ignore the
      // signal once the body flows; cancelling the reader reaches the producer either way.
      controller.signal.addEventListener("abort", () => reader.cancel(controller.signal.reason).catch(() => {}), { once: true });
      const decoder = new TextDecoder();
      const datas: string[] = [];
      const parser = createParser({ onEvent: (event) => datas.push(event.data) });
      let finishReason: string | null = null;
      let usage: GatewayUsage | null = null;
      let sawDone = false;
      while (!sawDone && !eof) {
        const chunk = await reader.read();
        if (controller.signal.aborted) throw controller.signal.reason;
        if (chunk.done) {
          eof = true;
          // Per the SSE spec an event without its closing blank line at EOF is discarded.
          parser.feed(decoder.decode());
        } else {
          parser.feed(decoder.decode(chunk.value, { stream: true }));
        }
        if (datas.length === 0) continue;
        watchdog.busy = true;
        for (const data of datas) {
          if (data === "[DONE]") {
            sawDone = true;
            break;
          }
          const parsed = parseChunk(data, model);
          if (parsed.model !== null) this.#upstreamModel = parsed.model;
          if (parsed.usage !== null) usage = parsed.usage;
          if (parsed.finishReason !== null) finishReason = parsed.finishReason;
          if (parsed.content !== null) {
            if (!this.#committed) {
              this.#commit(model, attemptStart);
              // From here on only the idle window applies, even while the consumer is busy.
              watchdog.touch(clock.now());
              yield { type: "start", model };
            }
            this.#text += parsed.content;
            yield { type: "delta", text: parsed.content };
          }
        }
        datas.length = 0;
        watchdog.busy = false;
        // Measured after the consumer took the deltas, so a slow consumer is not an idle upstream.
        if (this.#committed) watchdog.touch(clock.now());
      }
      if (!sawDone && finishReason === null) {
        throw new AttemptFailure("UPSTREAM_ERROR", `The AI service closed the stream early for model ${model}`, "retry");
      }
      if (!this.#committed) {
        this.#commit(model, attemptStart);
        yield { type: "start", model };
      }
      this.#finishReason = finishReason ?? "unknown";
      if (usage !== null) {
        this.#usage = usage;
        yield { type: "usage", ...usage };
      }
      this.#attempts.push({ model, status: res.status, code: null, message: null, next: "stop" });
      this.#finished = true;
      yield { type: "finish", reason: this.#finishReason };
      return null;
    } catch (err) {
      if (signal?.aborted) throw signal.reason;
      let failure: AttemptFailure;
      if (err instanceof AttemptFailure) failure = err;
      else if (watchdog.fired === "first_token") {
        // A model that is this slow now is likely slow on a retry too; the user is waiting.
        failure = new AttemptFailure("UPSTREAM_TIMEOUT", `No token from model ${model} within ${opts.firstTokenTimeoutMs} ms`, "fallback");
      } else if (watchdog.fired === "idle") {
        failure = new AttemptFailure("UPSTREAM_TIMEOUT", `Model ${model} went silent for ${opts.idleTimeoutMs} ms`, "retry");
      } else {
        failure = new AttemptFailure("UPSTREAM_ERROR", `Could not reach the AI service for model ${model}`, "retry", null, null, err instanceof Error ? err.message : String(err));
      }
      if (!this.#committed) return failure;
      // Part of the answer is out: another attempt would repeat it, so the failure is final.
      this.#attempts.push({ model, status: failure.status, code: failure.code, message: failure.upstreamMessage ?? failure.message, next: "stop" });
      throw new GatewayError(failure.code, failure.message, {
        model,
        upstreamStatus: failure.status,
        afterFirstToken: true,
        details: { model, attempts: [...this.#attempts] },
        cause: err,
      });
    } finally {
      watchdog.stop();
      signal?.removeEventListener("abort", onAbort);
      // Closing the connection is how the upstream learns to stop generating (and billing).
      if (!eof) controller.abort(new DOMException("Stream no longer needed", "AbortError"));
    }
  }

  #commit(model: string, attemptStart: number): void {
    const now = this.clock.now();
    this.#committed = true;
    this.#model = model;
    this.#firstTokenAt = now;
    this.#upstreamTtftMs = now - attemptStart;
  }
}

/** Creates the OpenAI-compatible gateway client. */
export function createGatewayClient(opts: GatewayClientOptions): GatewayClient {
  const fetchImpl: FetchLike = opts.fetch ?? ((input, init) => fetch(input, init));
  const clock = opts.clock ?? systemClock;
  return {
    streamChat: (request) => new ChatStreamImpl(request, opts, fetchImpl, clock),
  };
}
