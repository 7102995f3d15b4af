import { z } from "zod";
import type { ClassifierCategory } from "./model.ts";

const score = z.number().min(0).max(1);

/**
 * Default thresholds on the classifier's probability, chosen by cross-validation on the dev and
 * training lines (never the held-out ones) by scripts/train-safety.ts, which writes them into
 * weights.json beside the weights (a test keeps the two equal): `alert` keeps the classifier's
 * false alerts on look-alikes within 3%, `block` sits above every look-alike's score in
 * cross-validation. See docs/modules.md.
 */
export const DEFAULT_CLASSIFIER_THRESHOLDS: Record<ClassifierCategory, { alert: number; block: number }> = {
  "self-harm": { alert: 0.48, block: 0.85 },
  "eating-disorder": { alert: 0.48, block: 0.85 },
  violence: { alert: 0.48, block: 0.85 },
  abuse: { alert: 0.48, block: 0.85 },
  bullying: { alert: 0.48, block: 0.85 },
};

const threshold = (c: ClassifierCategory) =>
  z
    .strictObject({ alert: score.default(DEFAULT_CLASSIFIER_THRESHOLDS[c].alert), block: score.default(DEFAULT_CLASSIFIER_THRESHOLDS[c].block) })
    .refine((t) => t.alert <= t.block, { message: "alert must not be above block" })
    .prefault({});

/** The fast path's second layer: the bundled text classifier, on by default. */
export const classifierConfigSchema = z.strictObject({
  enabled: z.boolean().default(true),
  /** Probability at or above `alert` raises a teacher alert; at or above `block` the turn is blocked. */
  thresholds: z
    .strictObject({
      "self-harm": threshold("self-harm"),
      "eating-disorder": threshold("eating-disorder"),
      violence: threshold("violence"),
      abuse: threshold("abuse"),
      bullying: threshold("bullying"),
    })
    .prefault({}),
});
export type ClassifierConfig = z.output<typeof classifierConfigSchema>;
