import type { Severity } from "../types.ts";

/** The safety categories. */
export const SAFETY_CATEGORIES = ["self-harm", "eating-disorder", "violence", "abuse", "grooming", "sexual", "bullying"] as const;
export type SafetyCategory = (typeof SAFETY_CATEGORIES)[number];

/**
 * One pattern. Patterns run against lower-cased, de-obfuscated text (see normalize.ts).
 * `unless` and `firstPerson` look at the sentence around the match: that is what separates
 * "I want to die" from "why does the speaker want to die?".
 */
export interface SafetyRule {
  id: string;
  category: SafetyCategory;
  severity: Severity;
  pattern: RegExp;
  /** Suppress when the sentence matches (academic, fictional, game, accidental contexts). */
  unless?: RegExp;
  /** Require a first-person word (i, me, my…) in the sentence. */
  firstPerson?: boolean;
  /** Lower the severity when the sentence matches (hyperbole markers). */
  demote?: { when: RegExp; to: Severity };
}

/** Builds a global pattern (rules are run with matchAll). */
export const r = (source: string): RegExp => new RegExp(source, "g");
