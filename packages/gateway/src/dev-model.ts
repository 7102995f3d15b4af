import { Hono } from "hono";
import { z } from "zod";
import { systemClock, type Clock } from "./clock.ts";
import { estimateMessagesTokens, estimateTokens } from "./cost.ts";
import { devGuardReply, devModerationDelay, devModerationScript, mountDevModeration } from "./dev-moderation.ts";
import { devSummaryReply, isSummaryRequest } from "./session-summary.ts";
import { streamUnits, tutorReply, type DevMessage } from "./tutor-reply.ts";

/**
 * The built-in OpenAI-compatible dev model, used when no AI gateway is configured and by tests.
 *
 * Models:
 * - `dev-tutor`: a deterministic Socratic tutor reply built from the conversation; a session-summary
 *   request (see session-summary.ts) gets a summary computed from the transcript it carries.
 * - `dev-fail-before`: HTTP 503 with `Retry-After: 1` before any token.
 * - `dev-fail-mid`: a few tokens, then an OpenRouter-style `data: {"error": …}` and the stream closes.
 * - `dev-stall`: a few tokens, then only `: OPENROUTER PROCESSING` keep-alive comments, forever.
 * - `dev-crawl`: the tutor reply at 0.5 tokens per second.
 * - `dev-rate-limited`: HTTP 429 with `Retry-After: 7`.
 * - `dev-guard`: a Llama Guard style verdict ("safe" / "unsafe\nS11") driven by marker words.
 *
 * `POST /moderations` (model `dev-moderation`) is an OpenAI-shaped moderation test double driven
 * by the same markers; see dev-moderation.ts. Neither is a classifier.
 *
 * Token rate: `tokensPerSecond` (default 40; 0 = as fast as possible) paces `dev-tutor`,
 * `dev-fail-mid` and `dev-stall`. Per request, a model suffix `@<n>tps` (e.g. `dev-tutor@200tps`,
 * `dev-crawl@0tps`) or the header `x-dev-tokens-per-second: <n>` overrides it (suffix first).
 * A streamed "token" is one word with its leading space; usage counts use estimateTokens
 * (chars/4) of the prompt and of the reply. Every stream ends with an OpenRouter-style usage
 * chunk (`choices: []`, `cost: 0`), then `[DONE]`.
 *
 * Routes are relative (`/chat/completions`, `/models`): mount with `app.route("/v1", devApp)`.
 */

export const DEV_MODELS = ["dev-tutor", "dev-fail-before", "dev-fail-mid", "dev-stall", "dev-crawl", "dev-rate-limited", "dev-guard"] as const;
export type DevModelId = (typeof DEV_MODELS)[number];

/** How a dev stream ended, reported to `onStreamEnd` (logging, tests). */
export interface DevStreamEnd {
  model: string;
  outcome: "complete" | "length" | "failed" | "aborted";
  tokensSent: number;
}

/** Options of {@link createDevModelApp}. */
export interface DevModelOptions {
  /** Default pace of `dev-tutor`, `dev-fail-mid` and `dev-stall` (default 40; 0 = unpaced). */
  tokensPerSecond?: number;
  clock?: Clock;
  /** Interval of `dev-stall`'s keep-alive comments (default 5 000 ms). */
  keepAliveMs?: number;
  onStreamEnd?: (end: DevStreamEnd) => void;
}

const contentSchema = z.union([z.string(), z.array(z.object({ type: z.string(), text: z.string().optional() })), z.null()]);
const bodySchema = z.object({
  model: z.string().min(1),
  messages: z.array(z.object({ role: z.enum(["system", "developer", "user", "assistant", "tool"]), content: contentSchema.optional() })).min(1),
  stream: z.boolean().nullish(),
  max_tokens: z.number().int().positive().nullish(),
  max_completion_tokens: z.number().int().positive().nullish(),
  temperature: z.number().min(0).max(2).nullish(),
});

type OpenAIErrorType = "invalid_request_error" | "server_error" | "rate_limit_error";
function openAIError(message: string, type: OpenAIErrorType, param: string | null = null, code: string | null = null) {
  return { error: { message, type, param, code } };
}

const RATE_SUFFIX = /^(.+)@(\d+(?:\.\d+)?)tps$/;
const DEFAULT_TPS = 40;
const CRAWL_TPS = 0.5;
const PREFIX_TOKENS = 5; // tokens sent by dev-fail-mid and dev-stall before they misbehave

const enc = new TextEncoder();
const sse = (value: unknown): Uint8Array => enc.encode(`data: ${JSON.stringify(value)}\n\n`);

/** Creates the dev model as a Hono app. */
export function createDevModelApp(opts: DevModelOptions = {}): Hono {
  const clock = opts.clock ?? systemClock;
  const keepAliveMs = opts.keepAliveMs ?? 5_000;
  const app = new Hono();
  mountDevModeration(app, clock);

  app.get("/models", (c) =>
    c.json({
      object: "list",
      data: DEV_MODELS.map((id) => ({ id, object: "model", created: 0, owned_by: "raptscallions-dev" })),
    }),
  );

  app.post("/chat/completions", async (c) => {
    let json: unknown;
    try {
      json = JSON.parse(await c.req.text());
    } catch {
      return c.json(openAIError("We could not parse the JSON body of your request.", "invalid_request_error"), 400);
    }
    const parsed = bodySchema.safeParse(json);
    if (!parsed.success) {
      const issue = parsed.error.issues[0];
      const param = issue ? issue.path.join(".") : null;
      return c.json(openAIError(`Invalid request: ${param ? `${param}: ` : ""}${issue?.message ?? "bad body"}`, "invalid_request_error", param || null), 400);
    }
    const body = parsed.data;

    const suffix = RATE_SUFFIX.exec(body.model);
    const base = suffix?.[1] ?? body.model;
    if (!(DEV_MODELS as readonly string[]).includes(base)) {
      return c.json(openAIError(`The model \`${body.model}\` does not exist`, "invalid_request_error", "model", "model_not_found"), 404);
    }
    const model = base as DevModelId;
    const header = c.req.header("x-dev-tokens-per-second");
    const headerTps = header === undefined ? undefined : Number(header);
    if (headerTps !== undefined && !(Number.isFinite(headerTps) && headerTps >= 0)) {
      return c.json(openAIError("x-dev-tokens-per-second must be a non-negative number", "invalid_request_error"), 400);
    }
    const tps = suffix?.[2] !== undefined ? Number(suffix[2]) : (headerTps ?? (model === "dev-crawl" ? CRAWL_TPS : (opts.tokensPerSecond ?? DEFAULT_TPS)));

    if (model === "dev-fail-before") {
      c.header("retry-after", "1");
      return c.json(openAIError("dev-fail-before: the dev model is unavailable", "server_error"), 503);
    }
    if (model === "dev-rate-limited") {
      c.header("retry-after", "7");
      return c.json(openAIError("dev-rate-limited: slow down", "rate_limit_error", null, "rate_limit_exceeded"), 429);
    }

    const messages: DevMessage[] = body.messages.map((m) => ({
      role: m.role,
      content: typeof m.content === "string" ? m.content : Array.isArray(m.content) ? m.content.map((p) => p.text ?? "").join("") : "",
    }));
    const maxTokens = body.max_completion_tokens ?? body.max_tokens ?? null;
    let reply: string;
    if (model === "dev-guard") {
      // A guard model judges the last user turn (that is how the moderation stage asks it).
      const script = devModerationScript([...messages].reverse().find((m) => m.role === "user")?.content ?? "");
      if (script.behaviour === "error") return c.json(openAIError("dev-guard: simulated failure", "server_error"), 500);
      if (script.behaviour === "slow") {
        try {
          await devModerationDelay(clock, c.req.raw.signal);
        } catch {
          return new Response(null, { status: 499 });
        }
      }
      reply = devGuardReply(script);
    } else {
      reply = isSummaryRequest(messages) ? devSummaryReply(messages) : tutorReply(messages);
    }
    let units = streamUnits(reply);
    let finishReason = "stop";
    if (maxTokens !== null) {
      const kept: string[] = [];
      let text = "";
      for (const unit of units) {
        if (estimateTokens(text + unit) > maxTokens) {
          finishReason = "length";
          break;
        }
        kept.push(unit);
        text += unit;
      }
      units = kept;
    }
    if (model === "dev-fail-mid" || model === "dev-stall") units = units.slice(0, PREFIX_TOKENS);

    const id = `chatcmpl-dev-${crypto.randomUUID()}`;
    const created = Math.floor(clock.now() / 1000);
    const usage = (text: string) => {
      const prompt = estimateMessagesTokens(messages);
      const completion = estimateTokens(text);
      return { prompt_tokens: prompt, completion_tokens: completion, total_tokens: prompt + completion, cost: 0 };
    };

    // Stops producing as soon as the client goes away: the request signal (Bun.serve) or the
    // body being cancelled (in-process `app.request` consumers) both abort it.
    const controller = new AbortController();
    const requestSignal = c.req.raw.signal;
    const onRequestAbort = (): void => controller.abort();
    requestSignal.addEventListener("abort", onRequestAbort, { once: true });
    if (requestSignal.aborted) controller.abort();
    const signal = controller.signal;
    let tokensSent = 0;
    const end = (outcome: DevStreamEnd["outcome"]): void => {
      requestSignal.removeEventListener("abort", onRequestAbort);
      opts.onStreamEnd?.({ model: body.model, outcome, tokensSent });
    };

    /** Waits until unit i is due, so the rate holds without drift however long each write takes. */
    const start = clock.now();
    const pace = async (i: number): Promise<void> => {
      if (tps <= 0) return;
      const wait = start + (i * 1000) / tps - clock.now();
      if (wait > 0) await clock.sleep(wait, signal);
    };

    if (!body.stream) {
      try {
        if (model === "dev-stall") await new Promise<never>((_, reject) => signal.addEventListener("abort", () => reject(signal.reason), { once: true }));
        for (let i = 0; i < units.length; i++) await pace(i);
      } catch {
        end("aborted");
        // Nobody is listening any more; 499 is the conventional "client closed request".
        return new Response(null, { status: 499 });
      }
      tokensSent = units.length;
      if (model === "dev-fail-mid") {
        end("failed");
        return c.json(openAIError("dev-fail-mid: simulated provider failure", "server_error"), 502);
      }
      const text = units.join("");
      end(finishReason === "length" ? "length" : "complete");
      return c.json({
        id,
        object: "chat.completion",
        created,
        model: body.model,
        choices: [{ index: 0, message: { role: "assistant", content: text }, finish_reason: finishReason }],
        usage: usage(text),
      });
    }

    const chunk = (delta: Record<string, unknown>, finish: string | null) => ({
      id,
      object: "chat.completion.chunk",
      created,
      model: body.model,
      choices: [{ index: 0, delta, finish_reason: finish }],
    });

    const stream = new ReadableStream<Uint8Array>({
      start(out) {
        const produce = async (): Promise<void> => {
          out.enqueue(sse(chunk({ role: "assistant", content: "" }, null)));
          let text = "";
          for (const [i, unit] of units.entries()) {
            await pace(i);
            out.enqueue(sse(chunk({ content: unit }, null)));
            text += unit;
            tokensSent++;
          }
          if (model === "dev-fail-mid") {
            out.enqueue(
              sse({
                ...chunk({ content: "" }, "error"),
                error: { message: "dev-fail-mid: simulated provider failure", code: 502 },
              }),
            );
            out.close();
            end("failed");
            return;
          }
          if (model === "dev-stall") {
            for (;;) {
              await clock.sleep(keepAliveMs, signal);
              out.enqueue(enc.encode(": OPENROUTER PROCESSING\n\n"));
            }
          }
          out.enqueue(sse(chunk({}, finishReason)));
          out.enqueue(sse({ id, object: "chat.completion.chunk", created, model: body.model, choices: [], usage: usage(text) }));
          out.enqueue(enc.encode("data: [DONE]\n\n"));
          out.close();
          end(finishReason === "length" ? "length" : "complete");
        };
        produce().catch(() => {
          // Aborted while sleeping, or enqueue after the consumer cancelled: stop quietly.
          end("aborted");
        });
      },
      cancel() {
        controller.abort();
      },
    });
    return new Response(stream, {
      headers: { "content-type": "text/event-stream; charset=utf-8", "cache-control": "no-cache" },
    });
  });

  return app;
}
