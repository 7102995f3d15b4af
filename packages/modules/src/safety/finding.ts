import { atLeast, type Finding } from "../types.ts";
import type { CategoryAssessment } from "./detect.ts";
import type { SafetyCategory } from "./rule-types.ts";
import type { SafetyConfig } from "./safety-filter.ts";

export const SAFETY_FILTER_ID = "safety-filter";

export const CATEGORY_LABELS: Record<SafetyCategory, string> = {
  "self-harm": "self-harm or suicide risk",
  "eating-disorder": "eating-disorder risk",
  violence: "threat of violence",
  abuse: "possible abuse",
  grooming: "possible grooming or sexual exploitation by an adult",
  sexual: "sexual content or exploitation",
  bullying: "bullying",
};

/** Where a finding came from: the fast path (rules, bundled classifier) or the moderation model. */
export type SafetyStage = "rules" | "classifier" | "moderation";

/** The stages behind an assessment, and the classifier's score when it spoke. */
export function stageData(a: CategoryAssessment): { stages: SafetyStage[]; classifier?: { score: number } } {
  const stages: SafetyStage[] = [];
  if (a.ruleIds.length > 0) stages.push("rules");
  if (a.classifierScore === undefined) return { stages };
  stages.push("classifier");
  return { stages, classifier: { score: Math.round(a.classifierScore * 1000) / 1000 } };
}

/** A teacher-facing safety finding for one category; never contains the student's words. */
export function toFinding(a: CategoryAssessment, config: SafetyConfig, source: "student" | "answer", blocked: boolean, extra: Record<string, unknown> = {}): Finding {
  const escalate = atLeast(a.severity, config.blockAt);
  const what = CATEGORY_LABELS[a.category];
  const where = source === "student" ? "a student message" : "an AI answer";
  const outcome =
    source === "student"
      ? blocked
        ? " The message was not sent to the AI; the student was shown the school's support reply."
        : ""
      : " The answer was already shown to the student.";
  return {
    module: SAFETY_FILTER_ID,
    kind: a.category,
    severity: a.severity,
    isAlert: atLeast(a.severity, config.alertAt),
    message: `Possible ${what} (${a.severity}) in ${where}.${outcome}`,
    data: {
      category: a.category,
      source,
      rules: a.ruleIds,
      blocked,
      escalate,
      escalateTo: escalate ? config.escalation : [],
      ...stageData(a),
      ...extra,
    },
  };
}

/** The caring reply for a block: the self-harm reply (with crisis resources) wins. */
export function replyFor(categories: SafetyCategory[], config: SafetyConfig): string {
  if (!categories.includes("self-harm")) return config.reply;
  return config.crisisResources ? `${config.selfHarmReply} ${config.crisisResources}` : config.selfHarmReply;
}
