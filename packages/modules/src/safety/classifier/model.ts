import { z } from "zod";
import { extractFeatures, type FeatureVector, featuresOfForm } from "./features.ts";

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
  /**
   * A loaded (read-only) model's rows for scoring: the weights of row r at `flat[r*K…]`, found
   * through an open-addressing table of feature ids (no Map entry or typed-array view per read).
   * Training models, whose weights change, have none.
   */
  rows?: RowIndex;
}

interface RowIndex {
  ids: Uint32Array;
  /** Slot → row + 1 (0 = free); a power of two at least twice the row count. */
  slots: Int32Array;
  flat: Float64Array;
}

const slotHash = (id: number, mask: number) => (Math.imul(id, 0x9e3779b1) >>> 0) & mask;

function rowOf(index: RowIndex, id: number): number {
  const mask = index.slots.length - 1;
  for (let slot = slotHash(id, mask); ; slot = (slot + 1) & mask) {
    const row = (index.slots[slot] ?? 0) - 1;
    if (row < 0 || index.ids[row] === id) return row;
  }
}

function rowIndex(ids: readonly number[], flat: Float64Array): RowIndex {
  let size = 2;
  while (size < ids.length * 2) size *= 2;
  const index: RowIndex = { ids: Uint32Array.from(ids), slots: new Int32Array(size), flat };
  const mask = size - 1;
  ids.forEach((id, row) => {
    let slot = slotHash(id, mask);
    while ((index.slots[slot] ?? 0) !== 0) slot = (slot + 1) & mask;
    index.slots[slot] = row + 1;
  });
  return index;
}

/** The committed JSON form: integer weights (÷ `scale`), row-major per feature id. */
const headerSchema = z.strictObject({
  format: z.literal(1),
  classes: z.array(z.enum(CLASSIFIER_CLASSES)).length(CLASSIFIER_CLASSES.length),
  trainedOn: z.strictObject({ lines: z.number().int(), sources: z.array(z.string()) }),
  options: z.record(z.string(), z.number()),
  /** The thresholds cross-validation chose for these weights; config.ts's defaults must match. */
  thresholds: z.record(z.string(), z.strictObject({ alert: z.number(), block: z.number() })),
  scale: z.number().positive(),
  bias: z.array(z.number().int()).length(CLASSIFIER_CLASSES.length),
});
export type SerialisedModel = z.infer<typeof headerSchema> & { ids: number[]; weights: number[] };

// Hundreds of thousands of numbers: one plain loop, not a schema check per element (~20× faster).
const integers = (xs: unknown, min: number): number[] => {
  if (!Array.isArray(xs) || !xs.every((x) => Number.isInteger(x) && x >= min)) throw new Error("classifier weights must be arrays of integers");
  return xs as number[];
};

const K = CLASSIFIER_CLASSES.length;

/** Softmax probabilities per class for an already extracted vector. */
export function predictVector(model: ClassifierModel, x: FeatureVector): Float64Array {
  const z = new Float64Array(K);
  z.set(model.bias);
  const rows = model.rows;
  if (rows) {
    // The same sums in the same order as below, rows read from the flat array.
    const flat = rows.flat;
    for (let i = 0; i < x.ids.length; i++) {
      const row = rowOf(rows, x.ids[i] ?? 0);
      if (row < 0) continue;
      const v = x.values[i] ?? 0;
      const at = row * K;
      for (let k = 0; k < K; k++) z[k] = (z[k] ?? 0) + (flat[at + k] ?? 0) * v;
    }
  } else {
    for (let i = 0; i < x.ids.length; i++) {
      const w = model.weights.get(x.ids[i] ?? 0);
      if (!w) continue;
      const v = x.values[i] ?? 0;
      for (let k = 0; k < K; k++) z[k] = (z[k] ?? 0) + (w[k] ?? 0) * v;
    }
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

/**
 * A category whose probability is at least this share of the top category's is a plausible
 * reading of the message. Students' disclosures often span two categories ("they call me fat
 * every day so i stopped eating"), and the model is surer that a line is worrying at all than
 * which category it is: in cross-validation, scoring plausible categories with the alert
 * probability rather than their own raised recall at 3% false alerts from ~41% to ~71%.
 */
export const PLAUSIBLE_SHARE = 0.15;

/** What the classifier says about one message, per category. */
export interface ClassifierScores {
  /** The model's own probability for each category (they and P(none) sum to 1). */
  probabilities: Record<ClassifierCategory, number>;
  /**
   * What the thresholds apply to: a plausible category (see PLAUSIBLE_SHARE) scores the
   * probability that the message is worrying at all (1 − P(none)), any other its own probability.
   */
  scores: Record<ClassifierCategory, number>;
}

/** Probabilities and threshold scores per category from the class probabilities. */
export function scoresFrom(p: ArrayLike<number>): ClassifierScores {
  let top = 0;
  for (let k = 1; k < K; k++) top = Math.max(top, p[k] ?? 0);
  const alert = 1 - (p[0] ?? 0);
  const probabilities = {} as Record<ClassifierCategory, number>;
  const scores = {} as Record<ClassifierCategory, number>;
  CLASSIFIER_CLASSES.forEach((c, k) => {
    if (c === "none") return;
    const own = p[k] ?? 0;
    probabilities[c] = own;
    scores[c] = top > 0 && own >= PLAUSIBLE_SHARE * top ? alert : own;
  });
  return { probabilities, scores };
}

/** How likely `text` is a message a teacher should be alerted to, per category. */
export function classifyText(model: ClassifierModel, text: string): ClassifierScores {
  return scoresFrom(predictVector(model, extractFeatures(text)));
}

/** {@link classifyText} of a text already in its classifier form (`classifierForm`). */
export function classifyForm(model: ClassifierModel, form: string): ClassifierScores {
  return scoresFrom(predictVector(model, featuresOfForm(form)));
}

/**
 * The JSON form: weights as integers in units of 1/`scale` (short to store, exact to reload);
 * features whose weights all round to zero are left out (zero and missing score the same).
 */
export function toSerialised(model: ClassifierModel, meta: Pick<SerialisedModel, "trainedOn" | "options" | "thresholds">, scale = 1000): SerialisedModel {
  const ids = [...model.weights.keys()].sort((a, b) => a - b);
  const kept: number[] = [];
  const weights: number[] = [];
  for (const id of ids) {
    const row = Array.from(model.weights.get(id) ?? new Float64Array(K), (v) => Math.round(v * scale));
    if (row.every((v) => v === 0)) continue;
    kept.push(id);
    weights.push(...row);
  }
  const bias = Array.from(model.bias, (v) => Math.round(v * scale));
  return { format: 1, classes: [...CLASSIFIER_CLASSES], ...meta, scale, bias, ids: kept, weights };
}

export function fromSerialised(data: unknown): ClassifierModel {
  if (typeof data !== "object" || data === null) throw new Error("classifier weights must be an object");
  const { ids, weights: flat, ...header } = data as Record<string, unknown>;
  const m: SerialisedModel = { ...headerSchema.parse(header), ids: integers(ids, 0), weights: integers(flat, Number.MIN_SAFE_INTEGER) };
  if (m.classes.some((c, k) => c !== CLASSIFIER_CLASSES[k])) throw new Error("classifier weights were trained for other classes");
  if (m.weights.length !== m.ids.length * K) throw new Error("classifier weights do not match their feature ids");
  // One buffer, one view per feature: far cheaper than an array per row on a cold start.
  const all = new Float64Array(m.weights.length);
  for (let i = 0; i < all.length; i++) all[i] = (m.weights[i] ?? 0) / m.scale;
  const weights = new Map<number, Float64Array>();
  m.ids.forEach((id, i) => weights.set(id, all.subarray(i * K, (i + 1) * K)));
  return { bias: Float64Array.from(m.bias, (v) => v / m.scale), weights, rows: rowIndex(m.ids, all) };
}
