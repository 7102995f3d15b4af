import { atLeast, type Severity } from "../../types.ts";
import type { CategoryAssessment } from "../detect.ts";
import type { SafetyCategory } from "../rule-types.ts";
import type { ClassifierConfig } from "./config.ts";
import { CLASSIFIER_CATEGORIES, type ClassifierCategory, type ClassifierScores } from "./model.ts";

// The labelled data has one class for abuse, grooming and sexual exploitation; the filter's
// finer categories come from the rules when they matched, else the finding is "abuse".
const COVERS: Record<ClassifierCategory, readonly SafetyCategory[]> = {
  "self-harm": ["self-harm"],
  "eating-disorder": ["eating-disorder"],
  violence: ["violence"],
  abuse: ["abuse", "grooming", "sexual"],
  bullying: ["bullying"],
};

function severityFor(score: number, t: { alert: number; block: number }): Severity | null {
  if (score >= t.block) return "high";
  if (score >= t.alert) return "medium";
  return null;
}

/**
 * Folds the classifier's probabilities into the rules' assessments. A category at or above its
 * `alert` threshold is a `medium` finding, at or above `block` a `high` one (blocked at the
 * default `blockAt`); a category the rules already found keeps the rules' severity unless the
 * classifier's is higher, and records the score. A category whose rule matched but was excused
 * by a look-alike guard ("…when he sees this grade") gets nothing from the classifier: the
 * guards are the rules' knowledge of idioms and schoolwork, and they still apply.
 *
 * Once the rules have raised a category, the teacher is already alerted: a further category
 * then needs the model's own probability above its threshold, not the shared alert score, so a
 * plain "i want to kill myself" does not also read as violence.
 */
export function foldClassifier(
  rules: readonly CategoryAssessment[],
  classified: ClassifierScores,
  config: ClassifierConfig,
  enabled: ReadonlySet<SafetyCategory>,
  excused: ReadonlySet<SafetyCategory>,
): CategoryAssessment[] {
  const out = rules.map((a) => ({ ...a, ruleIds: [...a.ruleIds] }));
  const rulesSpoke = rules.some((a) => a.severity !== "info" && a.severity !== "low");
  for (const category of CLASSIFIER_CATEGORIES) {
    const covers = COVERS[category].filter((c) => enabled.has(c));
    if (covers.length === 0) continue;
    const found = out.find((a) => covers.includes(a.category));
    const score = found || !rulesSpoke ? classified.scores[category] : classified.probabilities[category];
    const severity = severityFor(score, config.thresholds[category]);
    if (!severity) continue;
    if (found) {
      found.classifierScore = score;
      if (!atLeast(found.severity, severity)) found.severity = severity;
      continue;
    }
    if (covers.some((c) => excused.has(c))) continue;
    out.push({ category: covers[0] ?? "abuse", severity, ruleIds: [], classifierScore: score });
  }
  return out.sort((a, b) => (a.severity === b.severity ? 0 : atLeast(a.severity, b.severity) ? -1 : 1));
}
