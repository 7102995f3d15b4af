import { describe, expect, test } from "bun:test";
import { selectBenches } from "../select.ts";

const FILES = ["turn.bench.ts", "modules-turn.bench.ts", "console.bench.ts", "console-paint.bench.ts", "live.bench.ts", "README.md", "run.ts"];

describe("bun run bench -- <name>", () => {
  test("no argument runs every bench, in name order", () => {
    expect(selectBenches(FILES, [])).toEqual(["console-paint.bench.ts", "console.bench.ts", "live.bench.ts", "modules-turn.bench.ts", "turn.bench.ts"]);
  });

  test("a bench's whole name picks that bench alone", () => {
    expect(selectBenches(FILES, ["turn"])).toEqual(["turn.bench.ts"]);
    expect(selectBenches(FILES, ["console"])).toEqual(["console.bench.ts"]);
  });

  test("any other argument picks every bench whose name contains it", () => {
    expect(selectBenches(FILES, ["paint"])).toEqual(["console-paint.bench.ts"]);
    expect(selectBenches(FILES, ["ur"])).toEqual(["modules-turn.bench.ts", "turn.bench.ts"]);
  });

  test("several arguments pick the union, each once", () => {
    expect(selectBenches(FILES, ["turn", "modules-turn", "live"])).toEqual(["live.bench.ts", "modules-turn.bench.ts", "turn.bench.ts"]);
    expect(selectBenches(FILES, ["nothing-like-it"])).toEqual([]);
  });
});
