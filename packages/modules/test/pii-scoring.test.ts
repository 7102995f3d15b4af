import { describe, expect, test } from "bun:test";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { evaluatePiiLines, formatPiiEvaluation, loadPiiEvaluation, piiTotals, type PiiEvalLine } from "../scripts/pii-scoring.ts";

const line = (text: string, spans: PiiEvalLine["spans"], lang: PiiEvalLine["lang"] = "en"): PiiEvalLine => ({
  id: `t-${text.length}`,
  lang,
  student: { givenName: "Maya", familyName: "Okafor" },
  split: "dev",
  text,
  spans,
});

describe("PII evaluation scoring", () => {
  test("a span counts as withheld only when none of its letters or digits are left", () => {
    const ev = evaluatePiiLines([
      line("email me at maya.k12@gmail.com", [{ kind: "email", value: "maya.k12@gmail.com" }]),
      // The street is redacted, the city is not: the labelled span is leaked.
      line("i live at 42 oak street in springfield", [{ kind: "address", value: "42 oak street in springfield" }]),
    ]);
    expect(ev.recall.get("email|en")).toEqual({ gold: 1, withheld: 1 });
    expect(ev.lines[1]?.output).toBe("i live at [address] in springfield");
    expect(ev.recall.get("address|en")).toEqual({ gold: 1, withheld: 0 });
  });

  test("a value that occurs twice must be withheld everywhere; a redaction inside an email counts", () => {
    const ev = evaluatePiiLines([
      line("write to coach hendricks at bhendricks@school.org", [
        { kind: "other_person_name", value: "hendricks" },
        { kind: "email", value: "bhendricks@school.org" },
      ]),
    ]);
    expect(ev.recall.get("other_person_name|en")).toEqual({ gold: 1, withheld: 1 });
  });

  test("precision is per redaction, and redactions on span-less lines are counted", () => {
    const ev = evaluatePiiLines([line("i'm Maya, i was born on 14 March 2012", [{ kind: "own_name", value: "Maya" }]), line("my phone is 07700 900123", [])]);
    // The date of birth was not labelled, so that redaction is wrong; the name is right.
    expect(ev.precision.get("name|en")).toMatchObject({ redactions: 1, correct: 1 });
    expect(ev.precision.get("dob|en")).toMatchObject({ redactions: 1, correct: 0 });
    expect(ev.falseRedactionLines).toBe(1);
    expect(ev.spanlessLines).toBe(1);
    expect(piiTotals(ev).precision).toBeCloseTo(1 / 3);
    const report = formatPiiEvaluation(ev, "test");
    expect(report.split("\n").every((l) => l.startsWith("[PII]"))).toBe(true);
    expect(report).toContain("date_of_birth");
  });

  test("the loader reads dev/ and heldout/ files, only the split asked for", () => {
    const dir = mkdtempSync(join(tmpdir(), "pii-eval-"));
    try {
      mkdirSync(join(dir, "dev"));
      writeFileSync(join(dir, "dev", "pii.jsonl"), `${JSON.stringify(line("dev line", []))}\n`);
      // A held-out file that cannot be parsed proves it is not opened for the dev split.
      mkdirSync(join(dir, "heldout"));
      writeFileSync(join(dir, "heldout", "pii.jsonl"), "not json\n");
      expect(loadPiiEvaluation(dir, "dev").map((l) => l.text)).toEqual(["dev line"]);
      expect(() => loadPiiEvaluation(dir, "heldout")).toThrow();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test("the loader refuses a malformed line with its line number", () => {
    const dir = mkdtempSync(join(tmpdir(), "pii-eval-"));
    try {
      writeFileSync(join(dir, "pii.jsonl"), `${JSON.stringify(line("hi", []))}\n{"id":"x","lang":"fr"}\n`);
      expect(() => loadPiiEvaluation(dir)).toThrow(/pii\.jsonl:2/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
