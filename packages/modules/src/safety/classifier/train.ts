import { seededRandom } from "@raptscallions/core";
import { extractFeatures, type FeatureVector } from "./features.ts";
import { CLASSIFIER_CLASSES, type ClassifierClass, type ClassifierModel, predictVector } from "./model.ts";

/** One labelled line: its text and what a teacher should be told (`none` for a look-alike). */
export interface TrainingExample {
  text: string;
  label: ClassifierClass;
}

export interface TrainOptions {
  epochs: number;
  learningRate: number;
  /** L2 penalty per example step: keeps rare n-grams from memorising single lines. */
  l2: number;
  seed: number;
}

export const DEFAULT_TRAIN_OPTIONS: TrainOptions = { epochs: 30, learningRate: 0.5, l2: 1e-3, seed: 16 };

/**
 * Multinomial logistic regression (softmax) trained by stochastic gradient descent with
 * AdaGrad step sizes and L2 shrinkage on the weights each example touches. Deterministic: the
 * example order comes from a seeded shuffle, and nothing else is random.
 */
export function trainClassifier(examples: readonly TrainingExample[], options: Partial<TrainOptions> = {}): ClassifierModel {
  const o = { ...DEFAULT_TRAIN_OPTIONS, ...options };
  const K = CLASSIFIER_CLASSES.length;
  const data: { x: FeatureVector; y: number }[] = examples.map((e) => ({ x: extractFeatures(e.text), y: CLASSIFIER_CLASSES.indexOf(e.label) }));
  const model: ClassifierModel = { bias: new Float64Array(K), weights: new Map() };
  const g2 = new Map<number, Float64Array>();
  const biasG2 = new Float64Array(K);
  const random = seededRandom(o.seed);
  const order = data.map((_, i) => i);
  for (let epoch = 0; epoch < o.epochs; epoch++) {
    for (let i = order.length - 1; i > 0; i--) {
      const j = Math.floor(random() * (i + 1));
      [order[i], order[j]] = [order[j] ?? 0, order[i] ?? 0];
    }
    for (const idx of order) {
      const ex = data[idx];
      if (!ex) continue;
      const p = predictVector(model, ex.x);
      for (let k = 0; k < K; k++) {
        const grad = (p[k] ?? 0) - (k === ex.y ? 1 : 0);
        biasG2[k] = (biasG2[k] ?? 0) + grad * grad;
        model.bias[k] = (model.bias[k] ?? 0) - (o.learningRate * grad) / Math.sqrt((biasG2[k] ?? 0) + 1e-8);
      }
      for (let f = 0; f < ex.x.ids.length; f++) {
        const id = ex.x.ids[f] ?? 0;
        const v = ex.x.values[f] ?? 0;
        let w = model.weights.get(id);
        let acc = g2.get(id);
        if (!w || !acc) {
          w = new Float64Array(K);
          acc = new Float64Array(K);
          model.weights.set(id, w);
          g2.set(id, acc);
        }
        for (let k = 0; k < K; k++) {
          const grad = ((p[k] ?? 0) - (k === ex.y ? 1 : 0)) * v + o.l2 * (w[k] ?? 0);
          acc[k] = (acc[k] ?? 0) + grad * grad;
          w[k] = (w[k] ?? 0) - (o.learningRate * grad) / Math.sqrt((acc[k] ?? 0) + 1e-8);
        }
      }
    }
  }
  return model;
}
