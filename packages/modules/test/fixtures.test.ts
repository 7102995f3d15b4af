/**
 * Precision/recall of the PII and safety filters on the labelled fixtures. Thresholds are what
 * the filters achieved when the rules were frozen, minus a small margin (see README): the dev
 * split was used while writing the rules, the holdout split never was.
 */
import { describe, expect, test } from "bun:test";
import { PII_KINDS, SAFETY_CATEGORIES } from "../src/index.ts";
import { evaluatePii, evaluateSafety, formatTable, loadPiiFixtures, loadSafetyFixtures, type Score } from "../scripts/evaluation-lib.ts";

const pii = loadPiiFixtures();
const safety = loadSafetyFixtures();

describe("fixtures", () => {
  test("are big enough and include held-out lines and hard negatives", () => {
    expect(pii.length).toBeGreaterThanOrEqual(120);
    expect(safety.length).toBeGreaterThanOrEqual(150);
    expect(pii.filter((f) => f.split === "holdout").length).toBeGreaterThanOrEqual(40);
    expect(safety.filter((f) => f.split === "holdout").length).toBeGreaterThanOrEqual(45);
    expect(pii.filter((f) => f.labels.length === 0).length).toBeGreaterThanOrEqual(40);
    expect(safety.filter((f) => f.labels.includes("none")).length).toBeGreaterThanOrEqual(60);
  });
});

function expectAtLeast(s: Score, precision: number, recall: number): void {
  expect(s.precision).toBeGreaterThanOrEqual(precision);
  expect(s.recall).toBeGreaterThanOrEqual(recall);
}

describe("PII filter", () => {
  const all = evaluatePii(pii);
  const dev = evaluatePii(pii.filter((f) => f.split === "dev"));
  const holdout = evaluatePii(pii.filter((f) => f.split === "holdout"));
  const rows = (r: typeof all): Array<[string, Score]> => [...PII_KINDS.map((k): [string, Score] => [k, r.perKind[k]]), ["overall", r.overall]];
  console.log(formatTable("\nPII, dev split", rows(dev)));
  console.log(formatTable("PII, holdout split", rows(holdout)));
  console.log(`PII values leaked: ${all.leaked}/${all.values}`);

  test("dev split: overall precision >= 0.95, recall >= 0.95", () => expectAtLeast(dev.overall, 0.95, 0.95));
  test("holdout split: overall precision >= 0.88, recall >= 0.88", () => expectAtLeast(holdout.overall, 0.88, 0.88));
  test.each([...PII_KINDS])("all splits, %s: precision >= 0.85, recall >= 0.85", (kind) => expectAtLeast(all.perKind[kind], 0.85, 0.85));
  test("at most 3% of labelled raw values survive redaction", () => {
    expect(all.leaked / all.values).toBeLessThanOrEqual(0.03);
  });
});

describe("safety filter", () => {
  const all = evaluateSafety(safety);
  const dev = evaluateSafety(safety.filter((f) => f.split === "dev"));
  const holdout = evaluateSafety(safety.filter((f) => f.split === "holdout"));
  const rows = (r: typeof all): Array<[string, Score]> => [
    ...SAFETY_CATEGORIES.map((c): [string, Score] => [c, r.perCategory[c]]),
    ["any alert", r.anyAlert],
    ["block (>=high)", r.block],
  ];
  console.log(formatTable("\nSafety, dev split", rows(dev)));
  console.log(formatTable("Safety, holdout split", rows(holdout)));

  test.each([...SAFETY_CATEGORIES])("dev split, %s: precision >= 0.9, recall >= 0.9", (c) => expectAtLeast(dev.perCategory[c], 0.9, 0.9));
  test.each([...SAFETY_CATEGORIES])("all splits, %s: precision >= 0.85, recall >= 0.9", (c) => expectAtLeast(all.perCategory[c], 0.85, 0.9));
  test("holdout split: any-alert precision and recall >= 0.9", () => expectAtLeast(holdout.anyAlert, 0.9, 0.9));
  test("holdout split: block precision and recall >= 0.9", () => expectAtLeast(holdout.block, 0.9, 0.9));
  test("true positives reach their labelled minimum severity (>= 95%)", () => {
    expect(all.severityMet.met / all.severityMet.of).toBeGreaterThanOrEqual(0.95);
  });
});
