import type { BeforeGatewayResult, ContentModule, Finding, GatewayAction, ModuleContext, ResolvedModuleConfig, ResolvedModuleConfigs, TurnContext } from "./types.ts";

/**
 * The fixed run order. Safety goes first so it always sees the student's ORIGINAL words: a risk
 * must not hide behind a redaction (an address in "come to 12 Oak St, I have a knife" matters to
 * safety, not to the provider). PII runs next so everything after it, and the provider, sees
 * redacted text. Modules not listed here run afterwards in the order given.
 */
export const MODULE_ORDER: readonly string[] = ["safety-filter", "pii-filter", "struggle-detector"];

/** The combined verdict on one student message. */
export interface CombinedBeforeGatewayResult {
  /** `block` if any module blocked; else `redact` if the text changed; else `allow`. */
  action: GatewayAction;
  /** What may be sent to the AI provider (never send it when `action` is `block`). */
  text: string;
  /** The student's words exactly as received. */
  originalText: string;
  /** What the school's policy says to persist: the original, or the redacted text. */
  textToStore: string;
  findings: Finding[];
  /** For `block`: the caring reply to show the student instead of an AI answer. */
  reply?: string | undefined;
  /** The module whose block (and reply) won, for `block`. */
  blockedBy?: string | undefined;
  /**
   * Set by the safety moderation stage's fail-closed policy: the message was not judged risky but
   * could not be checked, so it is withheld like a block (`action: "block"`) with a neutral reply.
   */
  held?: boolean | undefined;
  /** Set when the moderation stage answered (see `applyModeration`). */
  moderation?: { status: "ok"; model: string; latencyMs: number } | undefined;
}

/** Modules sorted into the fixed run order (stable for modules outside {@link MODULE_ORDER}). */
export function orderModules(modules: readonly ContentModule[]): ContentModule[] {
  const rank = (m: ContentModule): number => {
    const i = MODULE_ORDER.indexOf(m.id);
    return i === -1 ? MODULE_ORDER.length : i;
  };
  return modules
    .map((module, index) => ({ module, index }))
    .sort((a, b) => rank(a.module) - rank(b.module) || a.index - b.index)
    .map((entry) => entry.module);
}

// A module with no resolved entry runs with its defaults: forgetting to resolve config must not
// silently switch safety or redaction off.
function configFor(module: ContentModule, configs: ResolvedModuleConfigs): ResolvedModuleConfig {
  return configs[module.id] ?? { enabled: true, config: module.configSchema.parse({}) };
}

function enabledWithConfig(modules: readonly ContentModule[], configs: ResolvedModuleConfigs): Array<{ module: ContentModule; config: unknown }> {
  return orderModules(modules)
    .map((module) => ({ module, resolved: configFor(module, configs) }))
    .filter((entry) => entry.resolved.enabled)
    .map((entry) => ({ module: entry.module, config: entry.resolved.config }));
}

function contextFor(ctx: TurnContext, config: unknown): ModuleContext<unknown> {
  return { ...ctx, config };
}

/**
 * Runs every enabled module's `beforeGateway` on a student message, in {@link MODULE_ORDER}.
 * Each module receives the text as left by the modules before it, so redactions compose; the
 * first module in order that blocks supplies the reply (any block wins). All modules run even
 * after a block so the findings and the text to store are complete. A module that throws is not
 * caught: failing the turn is safer than sending unredacted or unchecked text.
 */
export function runBeforeGateway(modules: readonly ContentModule[], configs: ResolvedModuleConfigs, ctx: TurnContext, text: string): CombinedBeforeGatewayResult {
  let current = text;
  let blocked: { by: string; reply: string | undefined } | undefined;
  let storeRedacted = false;
  let redacted = false;
  const findings: Finding[] = [];
  for (const { module, config } of enabledWithConfig(modules, configs)) {
    if (!module.beforeGateway) continue;
    const result: BeforeGatewayResult = module.beforeGateway(contextFor(ctx, config), current);
    findings.push(...result.findings);
    if (result.action === "block" && !blocked) blocked = { by: module.id, reply: result.reply };
    if (result.text !== current || result.action === "redact") {
      redacted = true;
      if (result.storeOriginal === false) storeRedacted = true;
    }
    current = result.text;
  }
  const action: GatewayAction = blocked ? "block" : redacted && current !== text ? "redact" : "allow";
  return {
    action,
    text: current,
    originalText: text,
    textToStore: storeRedacted ? current : text,
    findings,
    reply: blocked?.reply,
    blockedBy: blocked?.by,
  };
}

/** Runs every enabled module's `afterAnswer` on a finished AI answer and concatenates findings. */
export function runAfterAnswer(modules: readonly ContentModule[], configs: ResolvedModuleConfigs, ctx: TurnContext, text: string): Finding[] {
  const findings: Finding[] = [];
  for (const { module, config } of enabledWithConfig(modules, configs)) {
    if (module.afterAnswer) findings.push(...module.afterAnswer(contextFor(ctx, config), text));
  }
  return findings;
}

/** Runs every enabled module's `onSessionEnd` and concatenates findings. */
export function runOnSessionEnd(modules: readonly ContentModule[], configs: ResolvedModuleConfigs, ctx: TurnContext): Finding[] {
  const findings: Finding[] = [];
  for (const { module, config } of enabledWithConfig(modules, configs)) {
    if (module.onSessionEnd) findings.push(...module.onSessionEnd(contextFor(ctx, config)));
  }
  return findings;
}
