import { AppError } from "@raptscallions/core";
import type { ModerationClient } from "@raptscallions/gateway";
import {
  builtInModules,
  type CombinedBeforeGatewayResult,
  type ContentModule,
  DEFAULT_BLOCK_REPLY,
  type ModuleConfigLayer,
  PII_FILTER_ID,
  type PiiConfig,
  moderateTurn,
  createHistoryRedactor,
  runBeforeGateway,
  SAFETY_FILTER_ID,
  type SafetyConfig,
} from "@raptscallions/modules";
import { type CpuSlices, turnStartSlices } from "../../lib/cpu-slices.ts";
import type { Logger } from "../../lib/logger.ts";
import type { GateDecision, StudentMessageGate } from "./hooks.ts";
import { type FindingTarget, inlineFindingValues, persistFindings, publishFindings } from "./findings.ts";
import { checkAnswer } from "./after-answer.ts";
import { RECENT_STUDENT_MESSAGES } from "./turn-context.ts";
import { loadTurnInputs, turnInputsOf } from "./turn-inputs.ts";

/** Options of {@link createModuleGate}; the defaults are what production runs. */
export interface ModuleGateOptions {
  modules?: readonly ContentModule[];
  /** The system layer under every group's settings (built-in module defaults when absent). */
  system?: ModuleConfigLayer | undefined;
  /** The gateway's moderation client; a group that enables moderation without one gets the fail-safe policy. */
  moderation?: ModerationClient | undefined;
  /** Where the modules' synchronous work runs (the instance's turn-start slices; budget 0, the default, runs it in place). */
  slices?: CpuSlices | undefined;
}

/**
 * The content modules on the live path (docs/modules.md): safety, PII redaction and
 * struggle signals on every student message before the gateway. What is stored follows the
 * school's policy (`textToStore`), what the provider gets is always the redacted text, and a
 * blocked turn gets the caring reply instead of a gateway call. Findings are stored in the
 * message's transaction and published to the class room after commit.
 */
export function createModuleGate(options: ModuleGateOptions = {}): StudentMessageGate {
  const modules = options.modules ?? builtInModules;
  const slices = options.slices ?? turnStartSlices;
  return {
    async beforeGateway(input): Promise<GateDecision> {
      const { ctx } = input;
      const keys = {
        groupId: input.groupId,
        toolModules: input.modulesConfig,
        system: options.system,
        sessionId: input.sessionId,
        studentId: input.studentId,
        now: ctx.clock.now(),
      };
      const { configs, turn } = input.turnInputs ? turnInputsOf(input.turnInputs, keys, ctx.logger) : await loadTurnInputs(ctx.db, ctx.logger, keys);
      const session = { id: input.sessionId, classId: input.classId, groupId: input.groupId, studentId: input.studentId };
      // In the instance's slices when a budget is set: a burst of turns then does not run every turn's modules in one stop of the loop.
      // Without one (the default) they run here, with no promise or hop around them.
      const rules = slices.inline
        ? runBeforeGateway(modules, configs, turn, input.content)
        : await slices.run(() => runBeforeGateway(modules, configs, turn, input.content));
      const safety = configs[SAFETY_FILTER_ID];
      const safetyConfig = safety?.enabled ? (safety.config as SafetyConfig) : null;
      // Only a turn the moderation stage can change goes through it (and its awaits).
      const result =
        safetyConfig?.moderation.enabled && rules.action !== "block" ? await moderate(rules, safetyConfig, options.moderation, ctx.logger, input.sessionId) : rules;
      const blocked = result.action === "block";
      const withheld = result.held ? "held" : "blocked";
      const flags = [...(blocked ? [withheld] : []), ...(result.textToStore !== result.originalText ? ["redacted"] : [])];
      // The message's meta is visible to the student: it says what happened, never which rule fired.
      const meta: Record<string, unknown> = {
        modules: { action: result.held ? "hold" : result.action },
        ...(flags.length > 0 ? { flags } : {}),
      };
      if (result.textToStore !== result.originalText) meta.redacted = true;

      let target: FindingTarget | null = null;
      let rows: Awaited<ReturnType<typeof persistFindings>> = [];
      const pii = configs[PII_FILTER_ID];
      const findingTarget = { sessionId: input.sessionId, classId: input.classId, groupId: input.groupId, studentId: input.studentId };
      const inline = result.findings.length === 0 ? null : inlineFindingValues(findingTarget, result.findings, turn.now);
      const decision: GateDecision = {
        stored: result.textToStore,
        sent: result.text,
        blockedReply: blocked ? (result.reply ?? DEFAULT_BLOCK_REPLY) : null,
        replyFlags: blocked ? [withheld] : undefined,
        meta,
        // Quiet findings ride the turn's one store statement; alerts (their outbox rows) take the
        // transaction and `persist`, which is also the fallback when that statement cannot store.
        inlineFindings:
          inline === null
            ? undefined
            : {
                values: inline,
                stored(stored, messageId) {
                  target = { ...findingTarget, messageId };
                  rows = stored;
                },
              },
        persist:
          result.findings.length === 0
            ? undefined
            : async (tx, ids) => {
                target = { ...findingTarget, messageId: ids.messageId };
                rows = await persistFindings(tx, target, result.findings, turn.now);
              },
        // The answer is checked with what this turn was judged with: nothing is loaded again.
        // Its history holds the student's message, as it does once the message is stored.
        afterAnswer(answer) {
          const history = input.alreadyStored
            ? turn.recentStudentMessages
            : [...turn.recentStudentMessages, { text: result.textToStore, at: turn.now }].slice(-RECENT_STUDENT_MESSAGES);
          return checkAnswer(
            { db: ctx.db, bus: ctx.bus, logger: ctx.logger, modules },
            { configs, session, turn: { ...turn, recentStudentMessages: history, now: ctx.clock.now() } },
            answer,
          );
        },
        async notify() {
          if (!target || rows.length === 0) return;
          await publishFindings(ctx.bus, ctx.logger, target, rows).catch((err: unknown) =>
            ctx.logger.warn("publishing findings failed", { sessionId: input.sessionId, err }),
          );
        },
      };
      // Earlier turns are stored redacted by default; a school that keeps originals still never
      // sends them (nor a teacher's note naming the student) to the provider.
      if (pii?.enabled) {
        const redact = createHistoryRedactor({ student: turn.student, now: turn.now, config: pii.config as PiiConfig });
        decision.toProvider = (history) => history.map((m) => (m.role === "assistant" ? m : { ...m, content: redact(m.content) }));
      }
      return decision;
    },
  };
}

/**
 * The moderation stage, after the rules (see docs/modules.md "Moderation stage"): only when the
 * group enabled it and the rules did not already block — a blocked message must not reach any
 * outside service, a moderation endpoint included — on the redacted text, within the group's
 * latency budget. An unavailable model is never read as "safe" (`applyModeration`).
 */
async function moderate(
  rules: CombinedBeforeGatewayResult,
  config: SafetyConfig,
  client: ModerationClient | undefined,
  logger: Logger,
  sessionId: string,
): Promise<CombinedBeforeGatewayResult> {
  const m = config.moderation;
  const classify = client
    ? async (input: string, signal: AbortSignal) => {
        try {
          return await client.moderate({ model: m.model, mode: m.mode, input, signal });
        } catch (err) {
          if (signal.aborted) throw err;
          const details = err instanceof AppError ? (err.details as { malformed?: unknown } | undefined) : undefined;
          logger.warn("moderation failed", { sessionId, model: m.model, err });
          return { failure: details?.malformed === true ? ("malformed" as const) : ("error" as const) };
        }
      }
    : null;
  const { result, outcome } = await moderateTurn(rules, config, classify);
  if (outcome?.status === "unavailable") {
    logger.warn("moderation unavailable", { sessionId, model: m.model, reason: outcome.reason, latencyMs: outcome.latencyMs, held: result.held === true });
  }
  return result;
}
