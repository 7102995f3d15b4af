import { z } from "zod";
import { SEVERITIES, atLeast, type ContentModule } from "../types.ts";
import { bundledClassifier } from "./classifier/bundled.ts";
import { classifierConfigSchema } from "./classifier/config.ts";
import { classifyForm, type ClassifierModel, type ClassifierScores } from "./classifier/model.ts";
import { foldClassifier } from "./classifier/stage.ts";
import { assessText, type CategoryAssessment } from "./detect.ts";
import { safetyForms } from "./normalize.ts";
import { SAFETY_FILTER_ID, replyFor, toFinding } from "./finding.ts";
import { moderationConfigSchema } from "./moderation-config.ts";
import { ANSWER_RULES, SAFETY_CATEGORIES, type SafetyCategory } from "./rules.ts";
import { STUDENT_RULES } from "./student-rules.ts";

export { SAFETY_FILTER_ID } from "./finding.ts";

/** Default reply when a message is blocked for anything but self-harm. */
export const DEFAULT_BLOCK_REPLY =
  "I can't help with that here, but I care about how you're doing. What you wrote sounds serious, " +
  "so please talk to a trusted adult today: a teacher, your school counsellor, or someone at home " +
  "you trust. Someone at your school has been asked to check in with you.";

/**
 * Default reply for self-harm. Deliberately names no country's hotline: schools add their own
 * through `crisisResources`.
 */
export const DEFAULT_SELF_HARM_REPLY =
  "I'm really sorry you're feeling this way. You matter, and you don't have to deal with this on " +
  "your own. Please talk to a trusted adult right now: a teacher, your school counsellor, or " +
  "someone at home. If you might hurt yourself or you're in danger, call your local emergency " +
  "number or a crisis helpline straight away. Someone at your school has been asked to check in " +
  "with you.";

const severitySchema = z.enum(SEVERITIES);

export const safetyConfigSchema = z.strictObject({
  /** At or above this severity a student message is blocked and escalated. */
  blockAt: severitySchema.default("high"),
  /** At or above this severity a finding is an alert for teachers. */
  alertAt: severitySchema.default("medium"),
  /** Reply shown instead of an AI answer when blocked (non-self-harm). */
  reply: z.string().min(1).max(2000).default(DEFAULT_BLOCK_REPLY),
  /** Reply shown when blocked for self-harm. */
  selfHarmReply: z.string().min(1).max(2000).default(DEFAULT_SELF_HARM_REPLY),
  /** Crisis resources appended to the self-harm reply, e.g. "In the US, call or text 988." */
  crisisResources: z.string().min(1).max(1000).nullable().default(null),
  /** User ids of admins to alert on escalation. Accumulates across layers. */
  escalation: z.array(z.string().min(1).max(200)).max(100).default([]),
  /** Which categories to check. */
  categories: z
    .strictObject({
      "self-harm": z.boolean().default(true),
      "eating-disorder": z.boolean().default(true),
      violence: z.boolean().default(true),
      abuse: z.boolean().default(true),
      grooming: z.boolean().default(true),
      sexual: z.boolean().default(true),
      bullying: z.boolean().default(true),
    })
    .prefault({}),
  /** Also check finished AI answers. */
  checkAnswers: z.boolean().default(true),
  /** The fast path's second layer: the bundled text classifier (on by default). */
  classifier: classifierConfigSchema.prefault({}),
  /** The second stage: a moderation model behind the gateway (off unless a layer turns it on). */
  moderation: moderationConfigSchema.prefault({}),
});
export type SafetyConfig = z.output<typeof safetyConfigSchema>;

/** The categories a config checks. */
export function enabledCategories(config: SafetyConfig): Set<SafetyCategory> {
  return new Set(SAFETY_CATEGORIES.filter((c) => config.categories[c]));
}

/** Assesses a student's message with the student rules alone. Exposed for evaluation and tooling. */
export function assessStudentMessage(text: string, config: SafetyConfig = safetyConfigSchema.parse({}), excused?: Set<SafetyCategory>): CategoryAssessment[] {
  return assessText(text, STUDENT_RULES, enabledCategories(config), excused);
}

/** The fast path's assessment and what the classifier said (null when it is off). */
export interface FastPathAssessment {
  assessments: CategoryAssessment[];
  classified: ClassifierScores | null;
}

/**
 * The fast path on a student message: the rules, then the bundled classifier folded in (see
 * classifier/stage.ts). `model` is for tests and evaluation; the live path uses the bundled one.
 */
export function assessFastPath(
  text: string,
  config: SafetyConfig = safetyConfigSchema.parse({}),
  model: ClassifierModel | null = config.classifier.enabled ? bundledClassifier() : null,
): FastPathAssessment {
  const enabled = enabledCategories(config);
  const excused = new Set<SafetyCategory>();
  // The rules and the classifier read forms of the text that share their first steps.
  const forms = safetyForms(text);
  const rules = assessText(text, STUDENT_RULES, enabled, excused, forms.variants);
  if (!model || !config.classifier.enabled) return { assessments: rules, classified: null };
  const classified = classifyForm(model, forms.classifier);
  return { assessments: foldClassifier(rules, classified, config.classifier, enabled, excused), classified };
}

/** Assesses a finished AI answer with the answer rules. */
export function assessAnswer(text: string, config: SafetyConfig = safetyConfigSchema.parse({})): CategoryAssessment[] {
  return assessText(text, ANSWER_RULES, enabledCategories(config));
}

/**
 * Flags self-harm, eating disorders, violence, abuse, grooming, sexual content and bullying. A
 * student message goes through the fast path (the rules, then the bundled classifier); an AI
 * answer through the answer rules only. On a student message, severity
 * at or above `blockAt` blocks the message with a caring reply and marks the finding
 * `escalate: true` (teachers at once, admins on `escalation`); at or above `alertAt` it alerts
 * without blocking. Below that it records a non-alert finding. Answers are checked too; they
 * cannot be blocked after the fact, so high findings there are escalated alerts.
 */
export const safetyFilter: ContentModule<typeof safetyConfigSchema> = {
  id: SAFETY_FILTER_ID,
  description: "Spots risk to a student's safety and answers with care instead of the AI.",
  configSchema: safetyConfigSchema,
  unionKeys: ["escalation"],
  beforeGateway(ctx, text) {
    const { assessments } = assessFastPath(text, ctx.config);
    const blocking = assessments.filter((a) => atLeast(a.severity, ctx.config.blockAt));
    const blocked = blocking.length > 0;
    const findings = assessments.map((a) => toFinding(a, ctx.config, "student", blocked));
    if (!blocked) return { action: "allow", text, findings };
    return {
      action: "block",
      text,
      findings,
      reply: replyFor(
        blocking.map((a) => a.category),
        ctx.config,
      ),
    };
  },
  afterAnswer(ctx, text) {
    if (!ctx.config.checkAnswers) return [];
    return assessAnswer(text, ctx.config).map((a) => toFinding(a, ctx.config, "answer", false));
  },
};
