import { z } from "zod";
import { extractFeatures, type FeatureVector } from "./features.ts";

/**
 * The classes the classifier tells apart: nothing to alert on, and the five categories the
 * labelled data covers. `abuse` covers harm by someone in the student's life, grooming and
 * sexual exploitation by an adult (the data labels them as one category).
 */
export const CLASSIFIER_CLASSES = ["none", "self-harm", "eating-disorder", "violence", "abuse", "bullying"] as const;
export type ClassifierClass = (typeof CLASSIFIER_CLASSES)[number];
export type ClassifierCategory = Exclude<ClassifierClass, "none">;
export const CLASSIFIER_CATEGORIES = CLASSIFIER_CLASSES.filter((c): c is ClassifierCategory => c !== "none");

/** A trained model in memory: per feature bucket, one weight per class. */
export interface ClassifierModel {
  bias: Float64Array;
  weights: Map<number, Float64Array>;
}

/** The committed JSON form: weights row-major per feature id, rounded to keep the file small. */
export const serialisedModelSchema = z.strictObject({
  format: z.literal(1),
  classes: z.array(z.enum(CLASSIFIER_CLASSES)).length(CLASSIFIER_CLASSES.length),
  trainedOn: z.strictObject({ lines: z.number().int(), sources: z.array(z.string()) }),
  options: z.record(z.string(), z.number()),
  /** The thresholds cross-validation chose for these weights; config.ts's defaults must match. */
  thresholds: z.record(z.string(), z.strictObject({ alert: z.number(), block: z.number() })),
  bias: z.array(z.number()).length(CLASSIFIER_CLASSES.length),
  ids: z.array(z.number().int().min(0)),
  weights: z.array(z.number()),
});
export type SerialisedModel = z.infer<typeof serialisedModelSchema>;

const K = CLASSIFIER_CLASSES.length;

/** Softmax probabilities per class for an already extracted vector. */
export function predictVector(model: ClassifierModel, x: FeatureVector): Float64Array {
  const z = Float64Array.from(model.bias);
  for (let i = 0; i < x.ids.length; i++) {
    const w = model.weights.get(x.ids[i] ?? 0);
    if (!w) continue;
    const v = x.values[i] ?? 0;
    for (let k = 0; k < K; k++) z[k] = (z[k] ?? 0) + (w[k] ?? 0) * v;
  }
  let max = Number.NEGATIVE_INFINITY;
  for (const v of z) max = Math.max(max, v);
  let sum = 0;
  for (let k = 0; k < K; k++) {
    const e = Math.exp((z[k] ?? 0) - max);
    z[k] = e;
    sum += e;
  }
  for (let k = 0; k < K; k++) z[k] = (z[k] ?? 0) / sum;
  return z;
}

/** Probability per category (0..1) that `text` is a message a teacher should be alerted to. */
export function classifyText(model: ClassifierModel, text: string): Record<ClassifierCategory, number> {
  const p = predictVector(model, extractFeatures(text));
  const out = {} as Record<ClassifierCategory, number>;
  CLASSIFIER_CLASSES.forEach((c, k) => {
    if (c !== "none") out[c] = p[k] ?? 0;
  });
  return out;
}

export function toSerialised(model: ClassifierModel, meta: Pick<SerialisedModel, "trainedOn" | "options" | "thresholds">): SerialisedModel {
  const round = (v: number) => Math.round(v * 1e4) / 1e4;
  const ids = [...model.weights.keys()].sort((a, b) => a - b);
  const kept: number[] = [];
  const weights: number[] = [];
  for (const id of ids) {
    const row = model.weights.get(id) ?? new Float64Array(K);
    const rounded = Array.from(row, round);
    if (rounded.every((v) => v === 0)) continue;
    kept.push(id);
    weights.push(...rounded);
  }
  return { format: 1, classes: [...CLASSIFIER_CLASSES], ...meta, bias: Array.from(model.bias, round), ids: kept, weights };
}

export function fromSerialised(data: unknown): ClassifierModel {
  const m = serialisedModelSchema.parse(data);
  if (m.classes.some((c, k) => c !== CLASSIFIER_CLASSES[k])) throw new Error("classifier weights were trained for other classes");
  if (m.weights.length !== m.ids.length * K) throw new Error("classifier weights do not match their feature ids");
  const weights = new Map<number, Float64Array>();
  m.ids.forEach((id, i) => weights.set(id, Float64Array.from(m.weights.slice(i * K, (i + 1) * K))));
  return { bias: Float64Array.from(m.bias), weights };
}
