import { AppError, ServiceUnavailableError } from "@raptscallions/core";
import type { DbOrTx } from "@raptscallions/db";
import { costOf, estimateMessagesTokens, type ChatMessage, type GatewayClient, type LimitStore, type Reservation } from "@raptscallions/gateway";
import type { Clock } from "../../lib/clock.ts";
import type { Logger } from "../../lib/logger.ts";
import type { Metrics } from "../../lib/metrics.ts";
import { loadAiPlan, planFromRows, planRowsCover, type AiPlan, type PlannedCall } from "./load-plan.ts";
import { settleAbandonedReservation } from "./settle-abandoned.ts";
import { settleGeneration } from "./settle-generation.ts";
import { type AiService, type Generation, type GenerationRequest, type GenerationResult, reservationSubject } from "../../lib/ai-service.ts";

/** Dependencies of {@link createAiService}. */
export interface AiServiceOptions {
  /** Settings, catalogue and the ai_usage table. */
  db: DbOrTx;
  /** The OpenAI-compatible gateway client (remote gateway, or the built-in dev model over HTTP). */
  client: GatewayClient;
  /** Rate limits and budgets shared by all instances (Redis) or this process (memory). */
  limits: LimitStore;
  /** AI_DEFAULT_MODEL: the last level of model resolution. */
  defaultModel: string;
  clock: Clock;
  logger: Logger;
  metrics?: Pick<Metrics, "gatewayCalls">;
}

/** Extra, optional fields of a tool definition this service reads (see README.md). */
function definitionFields(definition: GenerationRequest["definition"]) {
  const positiveInt = (v: unknown) => (typeof v === "number" && Number.isInteger(v) && v > 0 ? v : undefined);
  const fallbacks = Array.isArray(definition.fallbackModels) ? definition.fallbackModels.filter((m): m is string => typeof m === "string" && m.trim() !== "") : [];
  const temperature = typeof definition.temperature === "number" && Number.isFinite(definition.temperature) ? definition.temperature : undefined;
  return {
    model: typeof definition.model === "string" ? definition.model : null,
    fallbackModels: fallbacks,
    maxOutputTokens: positiveInt(definition.maxOutputTokens),
    temperature,
    systemPrompt: typeof definition.systemPrompt === "string" ? definition.systemPrompt : "",
  };
}

/**
 * The AI service: resolves the model from the settings chain, reserves limits and budgets with an
 * estimate before calling the gateway, streams, and in `finish` settles to the actual usage and
 * writes one ai_usage row. See README.md in this folder for the rules chosen.
 */
export function createAiService(opts: AiServiceOptions): AiService {
  const logger = opts.logger.child({ component: "ai" });
  const count = (model: string, outcome: string) => opts.metrics?.gatewayCalls.inc({ model, outcome });

  return {
    defaultModel: opts.defaultModel,
    assertAvailable() {
      if (opts.limits.available?.() === false) {
        throw new ServiceUnavailableError("Rate limits and budgets cannot be checked right now; retry shortly");
      }
    },
    async start(request) {
      const def = definitionFields(request.definition);
      const plan = await resolvePlan(opts, request, def, count, logger);
      const call = planCall(plan, def, request.messages);
      const reservation = await reserveFor(opts, request, plan, call, count);
      return streamGeneration({ opts, logger, count, request, plan, call, reservation, temperature: def.temperature });
    },
    settleAbandoned(subject, actual) {
      return settleAbandonedReservation({ limits: opts.limits, logger }, subject, actual);
    },
  };
}

type CountCall = (model: string, outcome: string) => void;

/** Model resolution (tool → nearest group → system → default) with limits and budgets to check. */
async function resolvePlan(
  opts: AiServiceOptions,
  request: GenerationRequest,
  def: ReturnType<typeof definitionFields>,
  count: CountCall,
  logger: Logger,
): Promise<AiPlan> {
  let plan: AiPlan;
  const input = { groupId: request.scope.groupId, toolModel: def.model, fallbackModels: def.fallbackModels, envDefault: opts.defaultModel };
  try {
    // A chat turn reads the plan's rows with its session; used only when that read looked for
    // every model this call may name (same tool version, same environment default).
    plan = request.planRows && planRowsCover(request.planRows, input) ? planFromRows(request.planRows, input) : await loadAiPlan(opts.db, input);
  } catch (err) {
    if (err instanceof AppError && err.code === "MODEL_UNAVAILABLE") {
      const details = err.details as { model?: unknown } | undefined;
      count(typeof details?.model === "string" ? details.model : "unknown", "model_unavailable");
    }
    throw err;
  }
  if (plan.skippedFallbacks.length > 0) {
    logger.warn("fallback models skipped: unknown or inactive", { skipped: plan.skippedFallbacks, toolId: request.scope.toolId });
  }
  return plan;
}

function planCall(plan: AiPlan, def: ReturnType<typeof definitionFields>, history: GenerationRequest["messages"]): PlannedCall {
  const candidates = [plan.model, ...plan.fallbacks];
  const messages: ChatMessage[] = def.systemPrompt.trim() ? [{ role: "system", content: def.systemPrompt }, ...history] : [...history];
  // One max_tokens goes to every candidate, so it must fit the smallest of them.
  const maxTokens = Math.min(def.maxOutputTokens ?? plan.model.maxOutputTokens, ...candidates.map((m) => m.maxOutputTokens));
  const inputEstimate = estimateMessagesTokens(messages);
  // A fallback may be dearer than the primary: reserve for the dearest that could answer.
  const costEstimate = Math.max(...candidates.map((m) => costOf({ inputTokens: inputEstimate, outputTokens: maxTokens }, m)));
  return { candidates, messages, maxTokens, inputEstimate, costEstimate };
}

/** Reserves the estimate against every limit and budget at once; a refusal throws before any upstream call. */
async function reserveFor(opts: AiServiceOptions, request: GenerationRequest, plan: AiPlan, call: PlannedCall, count: CountCall): Promise<Reservation> {
  try {
    return await opts.limits.reserve({
      userId: request.scope.userId,
      limits: plan.limits,
      groups: plan.budgets,
      estimate: { tokens: call.inputEstimate + call.maxTokens, costMicros: call.costEstimate },
      now: opts.clock.now().getTime(),
      // Kept by the store until settled, so a sweeper can settle it if this instance dies mid-call.
      subject: reservationSubject(request.scope),
    });
  } catch (err) {
    if (err instanceof AppError) count(plan.model.id, "refused");
    throw err;
  }
}

/** Opens the upstream stream; `finish` settles it once, whatever the caller read of it. */
function streamGeneration(input: {
  opts: AiServiceOptions;
  logger: Logger;
  count: CountCall;
  request: GenerationRequest;
  plan: AiPlan;
  call: PlannedCall;
  reservation: Reservation;
  temperature: number | undefined;
}): Generation {
  const { opts, request, plan, call } = input;
  // Lets `finish` cancel an upstream request the caller stopped reading without aborting.
  const internal = new AbortController();
  const stream = opts.client.streamChat({
    models: call.candidates.map((m) => m.id),
    messages: call.messages,
    maxTokens: call.maxTokens,
    temperature: input.temperature,
    signal: AbortSignal.any([request.signal, internal.signal]),
    user: request.scope.userId,
  });
  const startedAt = opts.clock.now().getTime();

  let finishing: Promise<GenerationResult> | null = null;
  return {
    model: plan.model.id,
    // The gateway's events as they are (a usage event's `cost` rides along): a wrapping generator
    // would cost every token another promise hop.
    events: stream,
    finish(status, text, options) {
      finishing ??= (() => {
        // Still open and no finish reason read: the caller stopped reading early.
        if (stream.outcome === "streaming" && stream.summary().finishReason === null) {
          internal.abort(new DOMException("The generation was finished by the caller", "AbortError"));
        }
        return settleGeneration(
          { db: opts.db, limits: opts.limits, clock: opts.clock, logger: input.logger, count: input.count },
          { scope: request.scope, plan, call, reservation: input.reservation, summary: stream.summary(), startedAt },
          status,
          text,
          options,
        );
      })();
      return finishing;
    },
  };
}
