/**
 * Prints precision/recall of the PII and safety filters over the labelled fixtures, per kind,
 * for the dev split (used while writing the rules) and the held-out split (never tuned against).
 *
 *   bun packages/modules/scripts/evaluate.ts            # tables only
 *   bun packages/modules/scripts/evaluate.ts --misses   # also list dev-split misses
 */
import { PII_KINDS, SAFETY_CATEGORIES } from "../src/index.ts";
import { evaluatePii, evaluateSafety, formatTable, loadPiiFixtures, loadSafetyFixtures, type Split } from "./evaluation-lib.ts";

const showMisses = process.argv.includes("--misses");
const pii = loadPiiFixtures();
const safety = loadSafetyFixtures();

for (const split of ["dev", "holdout"] as Split[]) {
  const p = evaluatePii(pii.filter((f) => f.split === split));
  const s = evaluateSafety(safety.filter((f) => f.split === split));
  const nPii = pii.filter((f) => f.split === split).length;
  const nSafety = safety.filter((f) => f.split === split).length;
  console.log(`\n===== ${split} split =====`);
  console.log(
    formatTable(`PII (${nPii} messages; a kind counts once per message)`, [
      ...PII_KINDS.map((k): [string, (typeof p.perKind)[typeof k]] => [k, p.perKind[k]]),
      ["overall", p.overall],
    ]),
  );
  console.log(`values leaked after redaction: ${p.leaked}/${p.values}`);
  console.log(
    formatTable(`\nSafety (${nSafety} messages; positive = alert, severity >= medium)`, [
      ...SAFETY_CATEGORIES.map((c): [string, (typeof s.perCategory)[typeof c]] => [c, s.perCategory[c]]),
      ["any alert", s.anyAlert],
      ["block (>=high)", s.block],
    ]),
  );
  console.log(`severity at or above label (true positives): ${s.severityMet.met}/${s.severityMet.of}`);
  // Misses are listed for the dev split only: the held-out split stays unseen while tuning.
  if (showMisses && split === "dev") {
    for (const m of [...p.misses, ...s.misses]) {
      console.log(
        `  MISS ${JSON.stringify(m.text)} expected=${m.expected.join(",") || "-"} got=${m.predicted.join(",") || "-"}${m.output ? ` -> ${JSON.stringify(m.output)}` : ""}`,
      );
    }
  }
}
