import type { FetchLike } from "./client-types.ts";
import { GUARD_CODES } from "./dev-moderation.ts";
import { GatewayError } from "./errors.ts";
import { upstreamTransport, type Http1Agent } from "./http1/agent.ts";
import type { UpstreamResponse } from "./transport.ts";

/**
 * How to ask a model whether a text is safe: OpenAI-compatible `POST /moderations`, or a guard
 * model (Llama Guard style) through `POST /chat/completions` that answers "safe" or
 * "unsafe\nS1,S11".
 */
export type ModerationMode = "moderations" | "chat-guard";

export interface ModerationRequest {
  model: string;
  mode: ModerationMode;
  input: string;
  /** The caller's latency budget: aborting cancels the upstream request. */
  signal?: AbortSignal;
}

/**
 * A verdict in OpenAI's vocabulary ("self-harm", "sexual/minors", "violence", …) whichever mode
 * produced it. A guard model's hazard codes are translated (S11 → "self-harm") and scored 1.
 */
export interface ModerationResponse {
  model: string;
  flagged: boolean;
  categories: Record<string, boolean>;
  scores: Record<string, number>;
}

export interface ModerationClient {
  /**
   * Throws {@link GatewayError}: `UPSTREAM_ERROR` for a non-2xx answer, a network failure or a
   * malformed body (`details.malformed: true`), `MODEL_UNAVAILABLE` for 404; rethrows
   * `signal.reason` when the caller aborted. No retries: the caller has a latency budget.
   */
  moderate(request: ModerationRequest): Promise<ModerationResponse>;
}

export interface ModerationClientOptions {
  /** OpenAI-compatible base URL, the same one the chat client uses. */
  baseUrl: string;
  apiKey?: string | undefined;
  headers?: Record<string, string>;
  /** The connections to use (default: the process' shared pool); see `GatewayClientOptions.agent`. */
  agent?: Http1Agent;
  /** An in-process app instead of the network (tests). */
  fetch?: FetchLike;
}

// The signal of a request nobody can abort.
const NEVER = new AbortController().signal;

function malformed(model: string, why: string): GatewayError {
  return new GatewayError("UPSTREAM_ERROR", `The moderation model ${model} sent a malformed answer (${why})`, {
    model,
    details: { model, malformed: true },
  });
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/** Reads OpenAI's moderation response: `results[0].categories` / `category_scores`. */
export function parseModerationBody(body: unknown, model: string): ModerationResponse {
  if (!isRecord(body) || !Array.isArray(body.results) || !isRecord(body.results[0])) throw malformed(model, "no results");
  const result = body.results[0];
  if (!isRecord(result.categories)) throw malformed(model, "no categories");
  const categories: Record<string, boolean> = {};
  for (const [k, v] of Object.entries(result.categories)) if (typeof v === "boolean") categories[k] = v;
  const scores: Record<string, number> = {};
  if (isRecord(result.category_scores)) {
    for (const [k, v] of Object.entries(result.category_scores)) if (typeof v === "number" && Number.isFinite(v)) scores[k] = v;
  }
  const flagged = typeof result.flagged === "boolean" ? result.flagged : Object.values(categories).some(Boolean);
  return { model: typeof body.model === "string" ? body.model : model, flagged, categories, scores };
}

/** Reads a guard model's reply: "safe", or "unsafe" then a line of comma-separated S-codes. */
export function parseGuardReply(text: string, model: string): ModerationResponse {
  const lines = text
    .trim()
    .split(/\r?\n/)
    .map((l) => l.trim())
    .filter(Boolean);
  const verdict = lines[0]?.toLowerCase();
  if (verdict === "safe") return { model, flagged: false, categories: {}, scores: {} };
  if (verdict !== "unsafe") throw malformed(model, "neither safe nor unsafe");
  const codes = (lines[1] ?? "")
    .split(/[\s,]+/)
    .map((c) => c.toUpperCase())
    .filter((c) => /^S\d{1,2}$/.test(c));
  const categories: Record<string, boolean> = {};
  const scores: Record<string, number> = {};
  // "unsafe" without a code is still unsafe: it must not read as clean.
  const names = codes.length > 0 ? codes.map((c) => GUARD_CODES[c] ?? `guard/${c}`) : ["guard/unspecified"];
  for (const name of names) {
    categories[name] = true;
    scores[name] = 1;
  }
  return { model, flagged: true, categories, scores };
}

/** Creates the moderation client (both modes) for an OpenAI-compatible gateway. */
export function createModerationClient(opts: ModerationClientOptions): ModerationClient {
  const transport = upstreamTransport(opts);
  const base = opts.baseUrl.replace(/\/+$/, "");
  const headers = {
    "content-type": "application/json",
    accept: "application/json",
    ...(opts.apiKey ? { authorization: `Bearer ${opts.apiKey}` } : {}),
    ...opts.headers,
  };

  async function post(path: string, body: unknown, model: string, signal: AbortSignal | undefined): Promise<unknown> {
    let res: UpstreamResponse;
    try {
      res = await transport(`${base}${path}`, { method: "POST", headers, body: JSON.stringify(body), signal: signal ?? NEVER });
    } catch (err) {
      if (signal?.aborted) throw signal.reason;
      throw new GatewayError("UPSTREAM_ERROR", `Could not reach the moderation model ${model}`, { model, cause: err });
    }
    if (!res.ok) {
      // Read, not cancelled: a read answer leaves its connection for the next request.
      await res.text().catch(() => "");
      if (signal?.aborted) throw signal.reason;
      const code = res.status === 404 ? "MODEL_UNAVAILABLE" : "UPSTREAM_ERROR";
      throw new GatewayError(code, `The moderation model ${model} answered ${res.status}`, { model, upstreamStatus: res.status });
    }
    try {
      return JSON.parse(await res.text());
    } catch {
      if (signal?.aborted) throw signal.reason;
      throw malformed(model, "not JSON");
    }
  }

  return {
    async moderate({ model, mode, input, signal }) {
      if (mode === "moderations") return parseModerationBody(await post("/moderations", { model, input }, model, signal), model);
      const body = await post("/chat/completions", { model, messages: [{ role: "user", content: input }], stream: false, temperature: 0, max_tokens: 20 }, model, signal);
      const choice = isRecord(body) && Array.isArray(body.choices) ? body.choices[0] : undefined;
      const content = isRecord(choice) && isRecord(choice.message) ? choice.message.content : undefined;
      if (typeof content !== "string") throw malformed(model, "no message content");
      return parseGuardReply(content, model);
    },
  };
}
