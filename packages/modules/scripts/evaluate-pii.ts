/**
 * PII recall and precision per labelled kind and language on the span-labelled evaluation set.
 * Definitions are in scripts/pii-scoring.ts.
 *
 *   bun packages/modules/scripts/evaluate-pii.ts                      # evaluation/, all splits
 *   bun packages/modules/scripts/evaluate-pii.ts --split heldout      # the final measurement
 *   bun packages/modules/scripts/evaluate-pii.ts --dir /path --split dev --misses
 *
 * `--misses` lists leaked spans and wrong redactions; it refuses to do so for held-out lines,
 * which are for measuring only, never for tuning.
 */
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { evaluatePiiLines, formatPiiEvaluation, loadPiiEvaluation, SPLITS, type EvalSplit, type PiiEvalLine } from "./pii-scoring.ts";

const { values } = parseArgs({
  options: {
    dir: { type: "string", default: fileURLToPath(new URL("../evaluation", import.meta.url)) },
    split: { type: "string", default: "all" },
    misses: { type: "boolean", default: false },
  },
});
const split = values.split;
if (split !== "all" && !SPLITS.includes(split as EvalSplit)) {
  console.error(`--split must be one of dev, heldout, all (got ${split})`);
  process.exit(2);
}
// Held-out lines are for measuring only: never list them for tuning.
if (values.misses && split !== "dev") {
  console.error("--misses lists dev lines only: pass --split dev");
  process.exit(2);
}
let lines: PiiEvalLine[];
try {
  lines = loadPiiEvaluation(values.dir, split as EvalSplit | "all");
} catch (error) {
  console.error(error instanceof Error ? error.message : String(error));
  process.exit(2);
}
const evaluation = evaluatePiiLines(lines);
console.log(formatPiiEvaluation(evaluation, `${lines.length} lines from ${values.dir}, split ${split}`));

if (values.misses) {
  for (const r of evaluation.lines) {
    if (r.leaked.length === 0 && r.wrong.length === 0) continue;
    const leaked = r.leaked.map((s) => `${s.kind}:${JSON.stringify(s.value)}`).join(" ");
    const wrong = r.wrong.map((w) => `${w.kind}:${JSON.stringify(w.text)}`).join(" ");
    console.log(`${r.line.id} ${leaked ? `LEAK ${leaked} ` : ""}${wrong ? `WRONG ${wrong} ` : ""}-> ${JSON.stringify(r.output)}`);
  }
}
