import type { CombinedBeforeGatewayResult } from "../runner.ts";
import { atLeast, type Finding, type Severity } from "../types.ts";
import type { CategoryAssessment } from "./detect.ts";
import { replyFor, SAFETY_FILTER_ID, stageData, toFinding } from "./finding.ts";
import type { ModerationConfig } from "./moderation-config.ts";
import { SAFETY_CATEGORIES, type SafetyCategory } from "./rule-types.ts";
import { enabledCategories, type SafetyConfig } from "./safety-filter.ts";

/** What a moderation model said, in the gateway's normalised form (OpenAI category names). */
export interface ModerationScores {
  model: string;
  /** Upstream category → flagged (OpenAI's `categories`). */
  categories: Record<string, boolean>;
  /** Upstream category → 0..1 (OpenAI's `category_scores`); a guard model gives 1 or 0. */
  scores: Record<string, number>;
}

/** Why the stage has no verdict. None of these ever counts as "safe". */
export type ModerationFailure = "timeout" | "error" | "malformed" | "not-configured";

export type ModerationOutcome =
  | ({ status: "ok"; latencyMs: number } & ModerationScores)
  | { status: "unavailable"; reason: ModerationFailure; latencyMs: number; model: string };

/**
 * Calls the model. Resolves with scores, or with a failure reason (the caller knows whether a
 * body was malformed); may also throw, which counts as "error". Must honour `signal`.
 */
export type ModerationClassifier = (input: string, signal: AbortSignal) => Promise<ModerationScores | { failure: Exclude<ModerationFailure, "timeout"> }>;

// OpenAI's moderation categories (and our own ids, for endpoints that speak them) → ours.
// "sexual/minors" on a student's message is someone sexualising a child: grooming, not content.
const UPSTREAM: Record<string, SafetyCategory> = {
  "self-harm": "self-harm",
  "self-harm/intent": "self-harm",
  "self-harm/instructions": "self-harm",
  self_harm: "self-harm",
  "eating-disorder": "eating-disorder",
  eating_disorder: "eating-disorder",
  violence: "violence",
  "violence/graphic": "violence",
  "illicit/violent": "violence",
  abuse: "abuse",
  grooming: "grooming",
  abuse_grooming: "grooming",
  "sexual/minors": "grooming",
  sexual: "sexual",
  harassment: "bullying",
  "harassment/threatening": "bullying",
  hate: "bullying",
  "hate/threatening": "bullying",
  bullying: "bullying",
};

/** The highest score per category of ours; a flagged category without a score counts as 1. */
export function categoryScores(scores: ModerationScores): Map<SafetyCategory, { score: number; labels: string[] }> {
  const out = new Map<SafetyCategory, { score: number; labels: string[] }>();
  const keys = new Set([...Object.keys(scores.scores), ...Object.keys(scores.categories)]);
  for (const key of keys) {
    const category = UPSTREAM[key.toLowerCase()];
    if (!category) continue;
    const raw = scores.scores[key];
    const value = typeof raw === "number" && Number.isFinite(raw) ? Math.min(1, Math.max(0, raw)) : scores.categories[key] ? 1 : 0;
    const prev = out.get(category);
    if (!prev) out.set(category, { score: value, labels: value > 0 ? [key] : [] });
    else {
      if (value > 0) prev.labels.push(key);
      prev.score = Math.max(prev.score, value);
    }
  }
  return out;
}

/**
 * Runs the classifier within `config.budgetMs`. Never throws: a timeout, an error, a malformed
 * answer or a missing client is an `unavailable` outcome, which the fail-safe policy handles.
 */
export async function runModeration(
  classify: ModerationClassifier | null,
  input: string,
  config: ModerationConfig,
  now: () => number = Date.now,
): Promise<ModerationOutcome> {
  const started = now();
  const done = (reason: ModerationFailure): ModerationOutcome => ({ status: "unavailable", reason, latencyMs: now() - started, model: config.model });
  if (!classify) return done("not-configured");
  const controller = new AbortController();
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<"timeout">((resolve) => {
    timer = setTimeout(() => {
      controller.abort(new DOMException("moderation budget spent", "TimeoutError"));
      resolve("timeout");
    }, config.budgetMs);
  });
  try {
    const answer = await Promise.race([classify(input, controller.signal), timeout]);
    if (answer === "timeout") return done("timeout");
    if ("failure" in answer) return done(answer.failure);
    return { status: "ok", latencyMs: now() - started, ...answer };
  } catch {
    return done(controller.signal.aborted ? "timeout" : "error");
  } finally {
    clearTimeout(timer);
  }
}

// A finding the fast path's classifier spoke on carries `classifier: { score }` in its data.
function classifierScoreOf(f: Finding): { classifierScore?: number } {
  const c = f.data.classifier;
  if (typeof c !== "object" || c === null || !("score" in c) || typeof c.score !== "number") return {};
  return { classifierScore: c.score };
}

function severityFor(score: number, t: { alert: number; block: number }): Severity | null {
  if (score >= t.block) return "high";
  if (score >= t.alert) return "medium";
  return null;
}

function unavailableFinding(outcome: Extract<ModerationOutcome, { status: "unavailable" }>, held: boolean): Finding {
  const why = outcome.reason === "timeout" ? "did not answer in time" : outcome.reason === "not-configured" ? "is not configured" : "failed";
  return {
    module: SAFETY_FILTER_ID,
    kind: "moderation-unavailable",
    severity: "low",
    // Teachers must be able to see that a message was checked by the rules only.
    isAlert: true,
    message: held
      ? `The moderation model ${why}, so a student message was held: it was not sent to the AI and the student was asked to try again.`
      : `The moderation model ${why}; a student message was checked by the built-in rules only.`,
    data: { source: "student", stage: "moderation", reason: outcome.reason, model: outcome.model, held, latencyMs: outcome.latencyMs },
  };
}

/**
 * Folds the moderation stage's outcome into the rules' verdict. A category the model scores at
 * or above its `block` threshold becomes a `high` finding (blocked at the default `blockAt`), at
 * or above `alert` a `medium` one; a category the rules already found is raised, not duplicated.
 * When the model is unavailable the rules' verdict stands, a `moderation-unavailable` alert is
 * added, and with `failClosed` the message is held (`held: true`, no provider call).
 */
export function applyModeration(result: CombinedBeforeGatewayResult, outcome: ModerationOutcome, config: SafetyConfig): CombinedBeforeGatewayResult {
  const m = config.moderation;
  if (outcome.status === "unavailable") {
    const hold = m.failClosed && result.action !== "block";
    const findings = [...result.findings, unavailableFinding(outcome, hold)];
    if (!hold) return { ...result, findings };
    return { ...result, action: "block", findings, reply: m.holdReply, blockedBy: SAFETY_FILTER_ID, held: true };
  }
  const enabled = enabledCategories(config);
  const raised = new Map<SafetyCategory, { severity: Severity; score: number; labels: string[] }>();
  for (const [category, { score, labels }] of categoryScores(outcome)) {
    if (!enabled.has(category)) continue;
    const severity = severityFor(score, m.thresholds[category]);
    if (severity) raised.set(category, { severity, score, labels });
  }
  const stage = { model: outcome.model, latencyMs: outcome.latencyMs };
  if (raised.size === 0) return { ...result, moderation: { status: "ok", ...stage } };

  const safety = result.findings.filter((f) => f.module === SAFETY_FILTER_ID && SAFETY_CATEGORIES.includes(f.kind as SafetyCategory));
  const others = result.findings.filter((f) => !safety.includes(f));
  const merged = new Map<SafetyCategory, { severity: Severity; rules: string[]; classifierScore?: number; score?: number; labels?: string[] }>();
  for (const f of safety) {
    const rules = Array.isArray(f.data.rules) ? f.data.rules.filter((x): x is string => typeof x === "string") : [];
    merged.set(f.kind as SafetyCategory, { severity: f.severity, rules, ...classifierScoreOf(f) });
  }
  for (const [category, hit] of raised) {
    const prev = merged.get(category);
    const severity = prev && atLeast(prev.severity, hit.severity) ? prev.severity : hit.severity;
    merged.set(category, { ...prev, severity, rules: prev?.rules ?? [], score: hit.score, labels: hit.labels });
  }
  const blocking = [...merged].filter(([, v]) => atLeast(v.severity, config.blockAt)).map(([c]) => c);
  const blocked = result.action === "block" || blocking.length > 0;
  const findings = [...merged].map(([category, v]) => {
    const a: CategoryAssessment = { category, severity: v.severity, ruleIds: v.rules };
    if (v.classifierScore !== undefined) a.classifierScore = v.classifierScore;
    return toFinding(a, config, "student", blocked, {
      stages: [...stageData(a).stages, ...(v.score !== undefined ? ["moderation"] : [])],
      ...(v.score !== undefined ? { moderation: { model: outcome.model, score: v.score, labels: v.labels } } : {}),
    });
  });
  const next: CombinedBeforeGatewayResult = { ...result, findings: [...findings, ...others], moderation: { status: "ok", ...stage } };
  if (result.action === "block" || blocking.length === 0) return next;
  return { ...next, action: "block", reply: replyFor(blocking, config), blockedBy: SAFETY_FILTER_ID };
}

/**
 * The moderation stage as the live path runs it: only when enabled and the rules did not already
 * block (a blocked message must reach no outside service, a moderation endpoint included), within
 * the budget, folded into the rules' verdict. `outcome` is null when the stage did not run.
 */
export async function moderateTurn(
  rules: CombinedBeforeGatewayResult,
  config: SafetyConfig,
  classify: ModerationClassifier | null,
): Promise<{ result: CombinedBeforeGatewayResult; outcome: ModerationOutcome | null }> {
  if (!config.moderation.enabled || rules.action === "block") return { result: rules, outcome: null };
  const outcome = await runModeration(classify, rules.text, config.moderation);
  return { result: applyModeration(rules, outcome, config), outcome };
}
