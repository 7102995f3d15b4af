import { sentenceBounds } from "../text.ts";
import { atLeast, type Severity } from "../types.ts";
import { safetyVariants } from "./normalize.ts";
import { candidateRules } from "./prefilter.ts";
import type { SafetyCategory, SafetyRule } from "./rules.ts";

// Students run homework and disclosures together ("help w my essay also i haven't eaten in 3
// days"): a context word in another clause must not excuse the disclosure. Only discourse words
// split, never commas, so "for my essay, why did Romeo want to die" stays one clause.
const CLAUSE_BREAK = /\b(?:also|btw|anyway|anyways|ngl|tbh|honestly|lowkey|but|and then|oh and|idk)\b|[;:]/g;

/** The clause of `sentence` that contains the match at `start` (length `length`). */
function clauseAround(sentence: string, start: number, length: number): string {
  let from = 0;
  let to = sentence.length;
  for (const b of sentence.matchAll(CLAUSE_BREAK)) {
    const end = b.index + b[0].length;
    if (end <= start) from = end;
    else if (b.index >= start + length) {
      to = b.index;
      break;
    }
  }
  return sentence.slice(from, to);
}

const FIRST_PERSON = /\b(?:i|i'm|im|i've|ive|i'd|id|i'll|me|my|myself|mine)\b/;

/** What the patterns found for one category: the highest severity and the rules behind it. */
export interface CategoryAssessment {
  category: SafetyCategory;
  severity: Severity;
  ruleIds: string[];
  /** The bundled classifier's probability for this category, when it spoke (see classifier/). */
  classifierScore?: number;
}

function ruleHit(rule: SafetyRule, variant: string, excused: { any: boolean }): Severity | undefined {
  // `exec` on the rule's own global pattern, not `matchAll`: matchAll clones the RegExp on every
  // call, and a student message is tried against every rule on every turn (most never match).
  const pattern = rule.pattern;
  pattern.lastIndex = 0;
  try {
    return hitsIn(rule, pattern, variant, excused);
  } finally {
    pattern.lastIndex = 0;
  }
}

function nextIndex(text: string, index: number, unicode: boolean): number {
  if (!unicode || index + 1 >= text.length) return index + 1;
  const unit = text.charCodeAt(index);
  return unit >= 0xd800 && unit <= 0xdbff ? index + 2 : index + 1;
}

function hitsIn(rule: SafetyRule, pattern: RegExp, variant: string, excused: { any: boolean }): Severity | undefined {
  let best: Severity | undefined;
  for (let m = pattern.exec(variant); m !== null; m = pattern.exec(variant)) {
    // As matchAll does: an empty match moves on (by a code point in a `u` pattern), so the loop ends.
    if (m[0].length === 0) pattern.lastIndex = nextIndex(variant, pattern.lastIndex, pattern.unicode);
    const bounds = sentenceBounds(variant, m.index);
    const sentence = variant.slice(bounds.start, bounds.end);
    if (rule.unless?.test(clauseAround(sentence, m.index - bounds.start, m[0].length)) || (rule.firstPerson && !FIRST_PERSON.test(sentence))) {
      excused.any = true;
      continue;
    }
    const severity = rule.demote?.when.test(sentence) ? rule.demote.to : rule.severity;
    if (!best || atLeast(severity, best)) best = severity;
    if (best === rule.severity) break; // demotion only lowers, so this is the ceiling
  }
  return best;
}

/**
 * Runs `rules` over every normalised form of `text` and returns one assessment per category
 * that matched, highest severity first. A threat of serious violence from a student who also
 * says they are armed is raised to critical: intent plus means is the classic escalation sign.
 *
 * `excused`, when given, collects the categories whose patterns matched only where a look-alike
 * guard (`unless`, `firstPerson`) excused them: "my dad will kill me when he sees this grade".
 * The classifier stage honours those guards.
 */
export function assessText(
  text: string,
  rules: readonly SafetyRule[],
  categories: ReadonlySet<SafetyCategory>,
  excused?: Set<SafetyCategory>,
  /** `safetyVariants(text)`, when the caller has them already. */
  variants: readonly string[] = safetyVariants(text),
  /** false runs every rule on every form (the definition the prefilter is checked against). */
  prefilter = true,
): CategoryAssessment[] {
  const byRule = new Map<string, { rule: SafetyRule; severity: Severity }>();
  const guarded = new Set<SafetyCategory>();
  // A rule runs only on the forms that hold one of the strings its every match contains
  // (prefilter.ts): most rules on most messages never run. Skipping a form the rule cannot match
  // changes nothing below (no hit, no excuse).
  const may = prefilter ? candidateRules(rules, variants) : [];
  for (let r = 0; r < rules.length; r++) {
    const rule = rules[r] as SafetyRule;
    if (!categories.has(rule.category)) continue;
    const excuse = { any: false };
    for (let v = 0; v < variants.length; v++) {
      if (may[v]?.[r] === 0) continue;
      const variant = variants[v] as string;
      const severity = ruleHit(rule, variant, excuse);
      if (!severity) continue;
      const prev = byRule.get(rule.id);
      if (!prev || atLeast(severity, prev.severity)) byRule.set(rule.id, { rule, severity });
    }
    if (excuse.any) guarded.add(rule.category);
  }
  const armed = byRule.has("v.armed");
  const byCategory = new Map<SafetyCategory, CategoryAssessment>();
  for (const { rule, severity: hitSeverity } of byRule.values()) {
    const severity: Severity = armed && rule.category === "violence" && hitSeverity === "high" ? "critical" : hitSeverity;
    const prev = byCategory.get(rule.category);
    if (!prev) {
      byCategory.set(rule.category, { category: rule.category, severity, ruleIds: [rule.id] });
    } else {
      prev.ruleIds.push(rule.id);
      if (atLeast(severity, prev.severity)) prev.severity = severity;
    }
  }
  if (excused) for (const c of guarded) if (!byCategory.has(c)) excused.add(c);
  return [...byCategory.values()].sort((a, b) => (atLeast(a.severity, b.severity) ? (a.severity === b.severity ? 0 : -1) : 1));
}
