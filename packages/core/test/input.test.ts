import { describe, expect, test } from "bun:test";
import { z } from "zod";
import { cursorParts, decodeCursor, encodeCursor } from "../src/api/pagination.ts";
import { dateInput, instantInput } from "../src/api/common.ts";
import { AppError } from "../src/errors.ts";
import { findTextIssue, INPUT_LIMITS, jsonComplexityProblem, readClientJson, textProblem } from "../src/input.ts";

const nest = (levels: number) => `${"[".repeat(levels)}${"]".repeat(levels)}`;

describe("jsonComplexityProblem", () => {
  test("depth up to the limit passes; one more is refused, without recursion at any depth", () => {
    expect(jsonComplexityProblem(nest(INPUT_LIMITS.maxJsonDepth))).toBeNull();
    expect(jsonComplexityProblem(nest(INPUT_LIMITS.maxJsonDepth + 1))).toContain("deeper");
    expect(jsonComplexityProblem(nest(1_000_000))).toContain("deeper");
  });

  test("brackets, quotes and backslashes inside strings are text, not structure", () => {
    const tricky = JSON.stringify({ a: "[[[[{{{{".repeat(100), b: 'quote " and \\ backslash [', c: "\\" });
    expect(jsonComplexityProblem(tricky)).toBeNull();
    expect(jsonComplexityProblem(`["\\"${"[".repeat(40)}"]`)).toBeNull();
  });

  test("value count is bounded", () => {
    expect(jsonComplexityProblem(JSON.stringify(new Array(INPUT_LIMITS.maxJsonValues - 1).fill(0)))).toBeNull();
    expect(jsonComplexityProblem(JSON.stringify(new Array(INPUT_LIMITS.maxJsonValues + 1).fill(0)))).toContain("values");
  });
});

describe("text the database cannot store", () => {
  test("NUL and unpaired surrogates are refused; paired surrogates (emoji) and other controls pass", () => {
    expect(textProblem("a\u0000b")).toContain("NUL");
    expect(textProblem("\ud800")).toContain("surrogate");
    expect(textProblem("x\udc00")).toContain("surrogate");
    expect(textProblem("\udc00\ud800")).toContain("surrogate");
    expect(textProblem("🌱 grows \u0001\t\n")).toBeNull();
  });

  test("found at any depth, in values and keys, with the path", () => {
    expect(findTextIssue({ a: [{ b: "ok" }, { c: "x\u0000" }] })).toMatchObject({ path: "a.1.c", code: "invalid_text" });
    expect(findTextIssue({ a: { "\ud800": 1 } })).toMatchObject({ path: "a" });
    expect(findTextIssue({ a: ["fine", 1, null, true] })).toBeNull();
  });

  test("readClientJson refuses in order: too complex, malformed, bad text", () => {
    expect(readClientJson(nest(50_000))).toMatchObject({ ok: false, reason: "too_complex" });
    expect(readClientJson("{")).toMatchObject({ ok: false, reason: "malformed" });
    expect(readClientJson('{"content":"hello\\u0000world"}')).toMatchObject({ ok: false, reason: "invalid_text", issue: { path: "content" } });
    expect(readClientJson('{"x":"\\ud83c\\udf31"}')).toEqual({ ok: true, value: { x: "🌱" } });
  });
});

describe("dates, timestamps and cursors are checked against what their columns hold", () => {
  test("instants and dates: real calendar values within 1970–2999 UTC", () => {
    expect(instantInput.safeParse("2026-06-01T10:00:00+02:00").success).toBe(true);
    for (const bad of ["2026-13-45T25:61:61Z", "2026-02-30T00:00:00Z", "0000-01-01T00:00:00Z", "2999-12-31T23:00:00-05:00"]) {
      expect(instantInput.safeParse(bad).success).toBe(false);
    }
    expect(dateInput.safeParse("2999-12-31").success).toBe(true);
    expect(dateInput.safeParse("0000-01-01").success).toBe(false);
  });

  test("cursor parts", () => {
    expect(cursorParts.timestamp.safeParse("2026-11-30T10:00:00.123456Z").success).toBe(true);
    expect(cursorParts.timestamp.safeParse("2026-13-45T25:61:61.000000Z").success).toBe(false);
    expect(cursorParts.timestamp.safeParse("2025-02-29T00:00:00.000000Z").success).toBe(false);
    expect(cursorParts.int4.safeParse(2 ** 31 - 1).success).toBe(true);
    expect(cursorParts.int4.safeParse(2 ** 31).success).toBe(false);
    expect(cursorParts.epochMs.safeParse(8.64e15).success).toBe(false);
    const label = "0b4f6a3e_1c2d_4e5f_8a9b_0c1d2e3f4a5b";
    expect(cursorParts.ltreePath.safeParse(`${label}.${label}`).success).toBe(true);
    expect(cursorParts.ltreePath.safeParse("a..b").success).toBe(false);
  });

  test("a cursor holding NUL is malformed, whatever its shape says", () => {
    const shape = z.tuple([cursorParts.text, cursorParts.uuid]);
    expect(() => decodeCursor(encodeCursor(["\u0000", crypto.randomUUID()]), shape)).toThrow(AppError);
    expect(decodeCursor(encodeCursor(["ok", "00000000-0000-4000-8000-000000000000"]), shape)[0]).toBe("ok");
  });
});
