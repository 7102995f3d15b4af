import type { GatewayErrorCode } from "./errors.ts";
import type { HeaderReader } from "./transport.ts";

/**
 * How one OpenAI-compatible upstream answer is interpreted: status codes, Retry-After, and the
 * JSON inside each `data:` line. Pure functions, kept apart from the streaming loop in client.ts.
 */

/** Token usage as reported by the upstream's final chunk. `cost` is USD when the upstream (OpenRouter) reports it. */
export interface GatewayUsage {
  inputTokens: number;
  outputTokens: number;
  cost?: number;
}

/** What the client should do after a failed attempt that delivered no token. */
export type NextStep = "retry" | "fallback";

/** A failed attempt before the first token; internal to the client's retry loop. */
export class AttemptFailure extends Error {
  constructor(
    readonly code: GatewayErrorCode,
    message: string,
    readonly next: NextStep,
    readonly status: number | null = null,
    readonly retryAfterMs: number | null = null,
    readonly upstreamMessage: string | null = null,
  ) {
    super(message);
    this.name = "AttemptFailure";
  }
}

/**
 * Milliseconds to wait from `Retry-After` (delta-seconds or an HTTP date) or the non-standard
 * `retry-after-ms` some OpenAI-compatible servers send; `null` when absent or unreadable.
 */
export function parseRetryAfter(headers: HeaderReader, nowMs: number): number | null {
  const ms = headers.get("retry-after-ms");
  if (ms !== null && /^\d+(\.\d+)?$/.test(ms.trim())) return Math.ceil(Number(ms));
  const value = headers.get("retry-after")?.trim();
  if (!value) return null;
  if (/^\d+(\.\d+)?$/.test(value)) return Math.ceil(Number(value) * 1000);
  const date = Date.parse(value);
  return Number.isNaN(date) ? null : Math.max(0, date - nowMs);
}

const MAX_ERROR_BODY = 4096;

/** What an error answer is read from: a transport's answer. */
export interface AnswerHead {
  status: number;
  headers: HeaderReader;
  text(): Promise<string>;
}

function errorMessageOf(body: unknown): string | null {
  if (typeof body !== "object" || body === null || !("error" in body)) return null;
  const error = body.error;
  if (typeof error === "string") return error;
  if (typeof error === "object" && error !== null && "message" in error && typeof error.message === "string") {
    return error.message;
  }
  return null;
}

/** Reads a bounded error body and extracts an OpenAI-style `error.message` if there is one. */
async function readUpstreamMessage(res: AnswerHead): Promise<string | null> {
  let text: string;
  try {
    text = (await res.text()).slice(0, MAX_ERROR_BODY);
  } catch {
    return null;
  }
  try {
    return errorMessageOf(JSON.parse(text)) ?? (text.trim() || null);
  } catch {
    return text.trim() || null;
  }
}

/** Turns a non-2xx upstream answer into an attempt failure (consumes the body). */
export async function failureFromResponse(res: AnswerHead, model: string, nowMs: number): Promise<AttemptFailure> {
  const status = res.status;
  const retryAfterMs = parseRetryAfter(res.headers, nowMs);
  const upstreamMessage = await readUpstreamMessage(res);
  if (status === 429) {
    return new AttemptFailure("RATE_LIMITED", `The AI service is rate limiting model ${model}`, "retry", status, retryAfterMs, upstreamMessage);
  }
  if (status === 408) {
    return new AttemptFailure("UPSTREAM_TIMEOUT", `The AI service timed out for model ${model}`, "retry", status, retryAfterMs, upstreamMessage);
  }
  if (status === 404) {
    return new AttemptFailure("MODEL_UNAVAILABLE", `The AI service does not offer model ${model}`, "fallback", status, null, upstreamMessage);
  }
  // Other 4xx mean this request will fail the same way on this model: only another model may help.
  const next: NextStep = status >= 500 ? "retry" : "fallback";
  return new AttemptFailure("UPSTREAM_ERROR", `The AI service answered ${status} for model ${model}`, next, status, retryAfterMs, upstreamMessage);
}

/** A 200 answer that is JSON rather than an event stream (some gateways report errors that way). */
export async function failureFromJsonBody(res: AnswerHead, model: string): Promise<AttemptFailure> {
  const upstreamMessage = await readUpstreamMessage(res);
  return new AttemptFailure("UPSTREAM_ERROR", `The AI service sent no event stream for model ${model}`, "retry", res.status, null, upstreamMessage);
}

/** The parts of one `chat.completion.chunk` the client uses. */
export interface ParsedChunk {
  content: string | null;
  finishReason: string | null;
  usage: GatewayUsage | null;
  model: string | null;
}

function finite(value: unknown): number | null {
  return typeof value === "number" && Number.isFinite(value) ? value : null;
}

function usageOf(raw: unknown): GatewayUsage | null {
  if (typeof raw !== "object" || raw === null) return null;
  const r = raw as Record<string, unknown>;
  const input = finite(r.prompt_tokens);
  const output = finite(r.completion_tokens);
  if (input === null || output === null) return null;
  const cost = finite(r.cost);
  return cost === null ? { inputTokens: input, outputTokens: output } : { inputTokens: input, outputTokens: output, cost };
}

/**
 * Interprets the JSON of one `data:` line. Throws an {@link AttemptFailure} for malformed JSON and
 * for an `error` object, which OpenRouter and others send inside a 200 stream once headers are out.
 */
export function parseChunk(data: string, model: string): ParsedChunk {
  let parsed: unknown;
  try {
    parsed = JSON.parse(data);
  } catch {
    throw new AttemptFailure("UPSTREAM_ERROR", `The AI service sent a malformed chunk for model ${model}`, "retry");
  }
  if (typeof parsed !== "object" || parsed === null) {
    throw new AttemptFailure("UPSTREAM_ERROR", `The AI service sent a malformed chunk for model ${model}`, "retry");
  }
  const chunk = parsed as Record<string, unknown>;
  if (chunk.error !== undefined && chunk.error !== null) {
    const err = chunk.error as Record<string, unknown> | string;
    const message = typeof err === "string" ? err : typeof err.message === "string" ? err.message : null;
    const code = typeof err === "string" ? null : err.code;
    const rateLimited = code === 429 || code === "429" || code === "rate_limit_exceeded";
    throw new AttemptFailure(
      rateLimited ? "RATE_LIMITED" : "UPSTREAM_ERROR",
      `The AI service reported an error mid-stream for model ${model}`,
      "retry",
      typeof code === "number" ? code : null,
      null,
      message,
    );
  }
  let content: string | null = null;
  let finishReason: string | null = null;
  const choices = chunk.choices;
  if (Array.isArray(choices) && choices.length > 0) {
    const choice = choices[0] as Record<string, unknown> | null;
    if (choice) {
      const delta = choice.delta as Record<string, unknown> | null | undefined;
      if (delta && typeof delta.content === "string" && delta.content !== "") content = delta.content;
      if (typeof choice.finish_reason === "string") finishReason = choice.finish_reason;
    }
  }
  return {
    content,
    finishReason,
    usage: chunk.usage === undefined || chunk.usage === null ? null : usageOf(chunk.usage),
    model: typeof chunk.model === "string" ? chunk.model : null,
  };
}
