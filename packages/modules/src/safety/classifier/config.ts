import { z } from "zod";
import type { ClassifierCategory } from "./model.ts";

const score = z.number().min(0).max(1);

/**
 * Default thresholds on the classifier's probability, chosen by cross-validation on the dev and
 * training lines (never the held-out ones): `alert` keeps false alerts on look-alikes near 3%,
 * `block` is set where no look-alike in cross-validation reached it. See docs/modules.md.
 */
export const DEFAULT_CLASSIFIER_THRESHOLDS: Record<ClassifierCategory, { alert: number; block: number }> = {
  "self-harm": { alert: 0.5, block: 0.9 },
  "eating-disorder": { alert: 0.5, block: 0.9 },
  violence: { alert: 0.5, block: 0.9 },
  abuse: { alert: 0.5, block: 0.9 },
  bullying: { alert: 0.5, block: 0.9 },
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
