import { systemClock, type Clock } from "./clock.ts";
import { estimateMessagesTokens, estimateTokens } from "./cost.ts";
import { GatewayError, type AttemptRecord } from "./errors.ts";
import { EventReader } from "./event-reader.ts";
import { upstreamTransport } from "./http1/agent.ts";
import type { UpstreamBody, UpstreamResponse, UpstreamTransport } from "./transport.ts";
import { AttemptFailure, failureFromJsonBody, failureFromResponse, type GatewayUsage } from "./upstream.ts";
import type { GatewayClientOptions, ChatRequest, GatewayEvent, ChatOutcome, ChatSummary, ChatStream, GatewayClient } from "./client-types.ts";
import { Watchdog } from "./watchdog.ts";

export type {
  FetchLike,
  GatewayClientOptions,
  ChatRequest,
  GatewayEvent,
  ChatOutcome,
  ChatSummary,
  ChatStream,
  GatewayClient,
} from "./client-types.ts";

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
    private readonly upstream: Upstream,
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
    const { request, clock } = this;
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
    const retryAfterSeconds = final.code === "RATE_LIMITED" ? Math.max(1, Math.ceil((final.retryAfterMs ?? 1000) / 1000)) : undefined;
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
   * first token or the caller aborted. Only the per-read path is here; sending and failures are
   * functions of their own, so this stays small for the JIT.
   */
  async *#attempt(model: string): AsyncGenerator<GatewayEvent, AttemptFailure | null, undefined> {
    const { request, opts, clock } = this;
    const signal = request.signal;
    const attemptStart = clock.now();
    const controller = new AbortController();
    const onAbort = (): void => controller.abort(signal?.reason);
    signal?.addEventListener("abort", onAbort, { once: true });
    const watchdog = new Watchdog(clock, controller, opts.firstTokenTimeoutMs, opts.idleTimeoutMs);
    let body: UpstreamBody | null = null;
    // The upstream's answer ended, or `[DONE]` was read: what happens to the connection then.
    let eof = false;
    let sawDone = false;
    try {
      const res = await this.#send(model, controller.signal);
      const stream = res.body as UpstreamBody;
      body = stream;
      // A fetch that is not a network fetch (e.g. `app.request` of the dev model) may ignore the
      // signal once the body flows; cancelling the body reaches the producer either way.
      controller.signal.addEventListener("abort", () => stream.cancel(controller.signal.reason), { once: true });
      const events = new EventReader(model);
      let finishReason: string | null = null;
      let usage: GatewayUsage | null = null;
      while (!sawDone && !eof) {
        const bytes = await stream.read();
        if (controller.signal.aborted) throw controller.signal.reason;
        if (bytes === null) eof = true;
        const read = events.read(bytes);
        if (read === null) continue;
        watchdog.busy = true;
        // The tokens of one read leave as one delta, when the read is done: the consumer has them
        // at the same moment as it would have the last of them, for one hop through the
        // generators instead of one per token (several arrive together when this loop was busy).
        // The read is parsed outside the generator, which yields at most twice per read.
        if (read.done) sawDone = true;
        if (read.model !== null) this.#upstreamModel = read.model;
        if (read.usage !== null) usage = read.usage;
        if (read.finishReason !== null) finishReason = read.finishReason;
        if (read.text !== "") {
          if (!this.#committed) {
            this.#commit(model, attemptStart);
            // From here on only the idle window applies, even while the consumer is busy.
            watchdog.touch(clock.now());
            yield { type: "start", model };
          }
          this.#text += read.text;
          yield { type: "delta", text: read.text };
        }
        // The tokens before a broken chunk were still delivered, as they were read.
        if (read.broken !== null) throw read.broken;
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
      return this.#failure(err, model, watchdog);
    } finally {
      watchdog.stop();
      signal?.removeEventListener("abort", onAbort);
      // Closing the connection is how the upstream learns to stop generating (and billing); an
      // answer read to its `[DONE]` leaves it to finish, so the connection can be kept.
      if (!eof) {
        if (sawDone && body !== null && !controller.signal.aborted) body.release();
        else controller.abort(new DOMException("Stream no longer needed", "AbortError"));
      }
    }
  }

  /** Sends the request; the answer when it is an event stream, else throws its {@link AttemptFailure}. */
  async #send(model: string, signal: AbortSignal): Promise<UpstreamResponse> {
    const { request } = this;
    const res = await this.upstream.transport(this.upstream.url, {
      method: "POST",
      headers: this.upstream.headers,
      body: JSON.stringify({
        model,
        messages: request.messages,
        stream: true,
        stream_options: { include_usage: true },
        ...(request.maxTokens !== undefined ? { max_tokens: request.maxTokens } : {}),
        ...(request.temperature !== undefined ? { temperature: request.temperature } : {}),
        ...(request.user !== undefined ? { user: request.user } : {}),
      }),
      signal,
    });
    if (!res.ok) throw await failureFromResponse(res, model, this.clock.now());
    if (res.headers.get("content-type")?.includes("application/json")) throw await failureFromJsonBody(res, model);
    if (!res.body) throw new AttemptFailure("UPSTREAM_ERROR", `The AI service sent an empty answer for model ${model}`, "retry", res.status);
    return res;
  }

  /**
   * What an attempt's error means: the {@link AttemptFailure} to retry or fall back on when no
   * token went out; thrown as final once one did, or as the caller's reason when it aborted.
   */
  #failure(err: unknown, model: string, watchdog: Watchdog): AttemptFailure {
    const { request, opts } = this;
    if (request.signal?.aborted) throw request.signal.reason;
    let failure: AttemptFailure;
    if (err instanceof AttemptFailure) failure = err;
    else if (watchdog.fired === "first_token") {
      // A model that is this slow now is likely slow on a retry too; the user is waiting.
      failure = new AttemptFailure("UPSTREAM_TIMEOUT", `No token from model ${model} within ${opts.firstTokenTimeoutMs} ms`, "fallback");
    } else if (watchdog.fired === "idle") {
      failure = new AttemptFailure("UPSTREAM_TIMEOUT", `Model ${model} went silent for ${opts.idleTimeoutMs} ms`, "retry");
    } else {
      failure = new AttemptFailure(
        "UPSTREAM_ERROR",
        `Could not reach the AI service for model ${model}`,
        "retry",
        null,
        null,
        err instanceof Error ? err.message : String(err),
      );
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
  }

  #commit(model: string, attemptStart: number): void {
    const now = this.clock.now();
    this.#committed = true;
    this.#model = model;
    this.#firstTokenAt = now;
    this.#upstreamTtftMs = now - attemptStart;
  }
}

/** Where a client's requests go and how: the same for each of its streams. */
interface Upstream {
  transport: UpstreamTransport;
  url: string;
  headers: Record<string, string>;
}

/** Creates the OpenAI-compatible gateway client. */
export function createGatewayClient(opts: GatewayClientOptions): GatewayClient {
  const upstream: Upstream = {
    transport: upstreamTransport(opts),
    url: `${opts.baseUrl.replace(/\/+$/, "")}/chat/completions`,
    headers: {
      "content-type": "application/json",
      accept: "text/event-stream",
      ...(opts.apiKey ? { authorization: `Bearer ${opts.apiKey}` } : {}),
      ...opts.headers,
    },
  };
  const clock = opts.clock ?? systemClock;
  return {
    streamChat: (request) => new ChatStreamImpl(request, opts, upstream, clock),
  };
}
