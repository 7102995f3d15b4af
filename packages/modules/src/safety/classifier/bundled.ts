import weights from "./weights.json" with { type: "json" };
import { type ClassifierModel, fromSerialised } from "./model.ts";

let cached: ClassifierModel | undefined;

/**
 * The classifier trained by `scripts/train-safety.ts` and committed as weights.json. Parsed on
 * first use (a few milliseconds), then shared: the model is read-only.
 */
export function bundledClassifier(): ClassifierModel {
  cached ??= fromSerialised(weights);
  return cached;
}
