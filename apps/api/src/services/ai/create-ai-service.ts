import { AppError, ServiceUnavailableError } from "@raptscallions/core";
import { aiUsage, type DbOrTx } from "@raptscallions/db";
import {
  costOf,
  estimateMessagesTokens,
  estimateTokens,
  microsToUsd,
  type BudgetAlert,
  type ChatMessage,
  type GatewayClient,
  type LimitStore,
  type Reservation,
} from "@raptscallions/gateway";
import type { Clock } from "../../lib/clock.ts";
import type { Logger } from "../../lib/logger.ts";
import type { Metrics } from "../../lib/metrics.ts";
import { loadAiPlan, SYSTEM_BUDGET_ID, type AiPlan, type ModelInfo } from "./load-plan.ts";
import type {
  AiService,
  Generation,
  GenerationEvent,
  GenerationRequest,
  GenerationResult,
  GenerationStatus,
} from "../../lib/ai-service.ts";

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
  const fallbacks = Array.isArray(definition.fallbackModels)
    ? definition.fallbackModels.filter((m): m is string => typeof m === "string" && m.trim() !== "")
    : [];
  const temperature =
    typeof definition.temperature === "number" && Number.isFinite(definition.temperature) ? definition.temperature : undefined;
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
    assertAvailable() {
      if (opts.limits.available?.() === false) {
        throw new ServiceUnavailableError("Rate limits and budgets cannot be checked right now; retry shortly");
      }
    },
    async start(request) {
      const def = definitionFields(request.definition);
      let plan: AiPlan;
      try {
        plan = await loadAiPlan(opts.db, {
          groupId: request.scope.groupId,
          toolModel: def.model,
          fallbackModels: def.fallbackModels,
          envDefault: opts.defaultModel,
        });
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

      const candidates = [plan.model, ...plan.fallbacks];
      const messages: ChatMessage[] = def.systemPrompt.trim()
        ? [{ role: "system", content: def.systemPrompt }, ...request.messages]
        : [...request.messages];
      // One max_tokens goes to every candidate, so it must fit the smallest of them.
      const maxTokens = Math.min(def.maxOutputTokens ?? plan.model.maxOutputTokens, ...candidates.map((m) => m.maxOutputTokens));
      const inputEstimate = estimateMessagesTokens(messages);
      // A fallback may be dearer than the primary: reserve for the dearest that could answer.
      const costEstimate = Math.max(
        ...candidates.map((m) => costOf({ inputTokens: inputEstimate, outputTokens: maxTokens }, m)),
      );

      let reservation: Reservation;
      try {
        reservation = await opts.limits.reserve({
          userId: request.scope.userId,
          limits: plan.limits,
          groups: plan.budgets,
          estimate: { tokens: inputEstimate + maxTokens, costMicros: costEstimate },
          now: opts.clock.now().getTime(),
        });
      } catch (err) {
        if (err instanceof AppError) count(plan.model.id, "refused");
        throw err;
      }

      // Lets `finish` cancel an upstream request the caller stopped reading without aborting.
      const internal = new AbortController();
      const stream = opts.client.streamChat({
        models: candidates.map((m) => m.id),
        messages,
        maxTokens,
        temperature: def.temperature,
        signal: AbortSignal.any([request.signal, internal.signal]),
        user: request.scope.userId,
      });
      const startedAt = opts.clock.now().getTime();
      let sawFinish = false;

      async function* events(): AsyncGenerator<GenerationEvent, void, undefined> {
        for await (const ev of stream) {
          if (ev.type === "usage") yield { type: "usage", inputTokens: ev.inputTokens, outputTokens: ev.outputTokens };
          else {
            if (ev.type === "finish") sawFinish = true;
            yield ev;
          }
        }
      }

      let finishing: Promise<GenerationResult> | null = null;
      const settle = async (status: GenerationStatus, callerText: string): Promise<GenerationResult> => {
        if (!sawFinish && stream.outcome === "streaming") {
          internal.abort(new DOMException("The generation was finished by the caller", "AbortError"));
        }
        const s = stream.summary();
        const modelId = s.model ?? plan.model.id;
        const info: ModelInfo = candidates.find((m) => m.id === modelId) ?? plan.model;
        let inputTokens: number;
        let outputTokens: number;
        let estimated: boolean;
        if (s.usage) {
          ({ inputTokens, outputTokens } = s.usage);
          estimated = false;
        } else if (s.outcome === "pending" || (s.outcome === "failed" && !s.firstTokenReceived)) {
          // Nothing was sent, or every attempt was refused before generating: providers bill nothing.
          inputTokens = 0;
          outputTokens = 0;
          estimated = true;
        } else {
          // Broken or aborted stream: no usage chunk comes, so charge what was plausibly consumed.
          inputTokens = inputEstimate;
          outputTokens = estimateTokens(s.text || callerText);
          estimated = true;
        }
        const costMicros = costOf({ inputTokens, outputTokens }, info);
        const latencyMs = s.latencyMs ?? Math.max(0, opts.clock.now().getTime() - startedAt);

        let settleAlerts: readonly BudgetAlert[] = [];
        try {
          settleAlerts = (await opts.limits.settle(reservation, { tokens: inputTokens + outputTokens, costMicros })).alerts;
        } catch (err) {
          // The reservation stays charged at its estimate (errs safe); the answer still finalises.
          logger.error("settling the AI reservation failed", { err, reservationId: reservation.id });
        }

        const { scope } = request;
        try {
          await opts.db.insert(aiUsage).values({
            userId: scope.userId,
            groupId: scope.groupId,
            classId: scope.classId,
            toolId: scope.toolId,
            sessionId: scope.sessionId,
            assignmentId: scope.assignmentId,
            runId: scope.runId,
            messageId: scope.messageId,
            model: info.id,
            inputTokens,
            outputTokens,
            costUsd: microsToUsd(costMicros),
            latencyMs: Math.round(latencyMs),
            ttftMs: s.ttftMs === null ? null : Math.round(s.ttftMs),
            status,
            estimated,
          });
        } catch (err) {
          // Usage rows feed reports; limits were already settled, so losing one must not fail the answer.
          logger.error("writing the ai_usage row failed", { err, messageId: scope.messageId, model: info.id });
        }
        count(info.id, status);

        const alerts = dedupeAlerts([...(await confirmedReserveAlerts(opts.limits, reservation, logger)), ...settleAlerts]);
        const system = alerts.find((a) => a.groupId === SYSTEM_BUDGET_ID);
        if (system) logger.warn("system-wide AI budget alert threshold crossed", { ...system });
        return {
          model: info.id,
          inputTokens,
          outputTokens,
          costUsd: microsToUsd(costMicros),
          estimated,
          ttftMs: s.ttftMs,
          latencyMs,
          budgetAlerts: alerts
            .filter((a) => a.groupId !== SYSTEM_BUDGET_ID)
            .map((a) => ({
              groupId: a.groupId,
              usedUsd: microsToUsd(a.spentMicros),
              budgetUsd: microsToUsd(a.budgetMicros),
              threshold: plan.budgets.find((b) => b.groupId === a.groupId)?.alertThreshold ?? a.thresholdMicros / a.budgetMicros,
            })),
        };
      };

      const generation: Generation = {
        model: plan.model.id,
        events: events(),
        finish(status, text) {
          finishing ??= settle(status, text);
          return finishing;
        },
      };
      return generation;
    },
  };
}

/**
 * A reservation charges the whole estimate (the full output allowance), so it can cross an alert
 * threshold that the actual usage does not reach. Keep only the groups still at or above their
 * threshold after settling, with their current spend.
 */
async function confirmedReserveAlerts(limits: LimitStore, reservation: Reservation, logger: Logger): Promise<BudgetAlert[]> {
  if (reservation.alerts.length === 0) return [];
  try {
    const usage = await limits.usage({
      userId: reservation.userId,
      groupIds: reservation.alerts.map((a) => a.groupId),
      now: reservation.reservedAt,
    });
    return reservation.alerts.flatMap((a) => {
      const spent = usage.spentThisMonthMicros[a.groupId] ?? 0;
      return spent >= a.thresholdMicros ? [{ ...a, spentMicros: spent }] : [];
    });
  } catch (err) {
    logger.warn("could not confirm budget alerts; reporting them as reserved", { err });
    return [...reservation.alerts];
  }
}

/** One alert per group (a reserve and its settle can both cross), keeping the latest spend. */
function dedupeAlerts(alerts: readonly BudgetAlert[]): BudgetAlert[] {
  const byGroup = new Map<string, BudgetAlert>();
  for (const a of alerts) byGroup.set(a.groupId, a);
  return [...byGroup.values()];
}
