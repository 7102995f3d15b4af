// The gateway client's public types: what callers pass in and what a chat stream reports.
import type { Clock } from "./clock.ts";
import type { ChatMessage, TokenUsage } from "./cost.ts";
import type { AttemptRecord } from "./errors.ts";
import type { Http1Agent } from "./http1/agent.ts";
import type { GatewayUsage } from "./upstream.ts";

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
  /**
   * The connections to reach the upstream with (default: one pool per origin shared by the
   * process). Give your own for another certificate authority (`new Http1Agent({ ca })`) or cap.
   */
  agent?: Http1Agent;
  /** An in-process app instead of the network (tests: `(url, init) => devApp.request(url, init)`). */
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
 * first token arrives, so retries and fallbacks before it are invisible), any number of `delta`
 * (the tokens of one read of the upstream's stream in one),
 * at most one `usage` (absent when the upstream sent none), and a final `finish`.
 */
export type GatewayEvent = { type: "start"; model: string } | { type: "delta"; text: string } | ({ type: "usage" } & GatewayUsage) | { type: "finish"; reason: string };

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
