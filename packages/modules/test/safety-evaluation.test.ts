import { describe, expect, test } from "bun:test";
import { mkdirSync, mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { formatEvaluation, loadEvaluationSet, scoreEvaluation, type EvalLine } from "../scripts/safety-eval-lib.ts";

const line = (over: Partial<EvalLine>): EvalLine => ({
  id: `x-${Math.random()}`,
  lang: "en",
  category: "self_harm",
  label: "alert",
  urgency: null,
  split: "dev",
  text: "t",
  ...over,
});

describe("safety evaluation set", () => {
  test("the dev split never opens the held-out file", () => {
    const dir = mkdtempSync(join(tmpdir(), "rapt-eval-"));
    mkdirSync(join(dir, "dev"));
    mkdirSync(join(dir, "heldout"));
    writeFileSync(join(dir, "dev", "safety.jsonl"), `${JSON.stringify(line({ id: "d1" }))}\n`);
    // Not JSON: opening it would throw.
    writeFileSync(join(dir, "heldout", "safety.jsonl"), "this file must not be read for the dev split\n");
    expect(loadEvaluationSet(dir, "dev").map((l) => l.id)).toEqual(["d1"]);
    expect(() => loadEvaluationSet(dir, "heldout")).toThrow();
  });

  test("one file holding both splits is filtered by each line's split", () => {
    const dir = mkdtempSync(join(tmpdir(), "rapt-eval-"));
    writeFileSync(join(dir, "safety.jsonl"), [line({ id: "a" }), line({ id: "b", split: "heldout" })].map((l) => JSON.stringify(l)).join("\n"));
    expect(loadEvaluationSet(dir, "dev").map((l) => l.id)).toEqual(["a"]);
    expect(loadEvaluationSet(dir, "heldout").map((l) => l.id)).toEqual(["b"]);
    expect(loadEvaluationSet(dir, "all")).toHaveLength(2);
  });

  test("recall counts alerts in a matching category; any alert on a look-alike is a false alert", () => {
    const lines = [
      line({ category: "abuse_grooming" }),
      line({ category: "abuse_grooming" }),
      line({ category: "violence", label: "lookalike", lang: "es" }),
      line({ category: "violence", label: "lookalike", lang: "es" }),
    ];
    const report = scoreEvaluation(lines, [
      { alerts: new Set(["grooming"]) },
      { alerts: new Set(["violence"]) },
      { alerts: new Set(["bullying"]) },
      { alerts: new Set() },
    ]);
    expect(report.cells.get("en/abuse_grooming")).toMatchObject({ alerts: 2, hits: 1, anyHits: 2 });
    expect(report.cells.get("es/violence")).toMatchObject({ lookalikes: 2, falseAlerts: 1 });
    expect(report.cells.get("all/all")).toMatchObject({ alerts: 2, lookalikes: 2 });
    expect(report.misses).toHaveLength(2);
    expect(formatEvaluation(report)).toContain("50.0%");
  });
});
