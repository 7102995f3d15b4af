import { describe, expect, test } from "bun:test";
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";

/**
 * The client runs unchanged in browsers and in Bun: its sources use Web APIs only. The compiler
 * checks that too (packages/client/tsconfig.json: lib dom + es2022, no Bun or Node types, run by
 * `bun run typecheck`); this catches what types alone would let through (a global reached via
 * `globalThis`, a dependency that is Node-only).
 */
const SRC = join(import.meta.dir, "../src");
const sources = readdirSync(SRC).filter((f) => f.endsWith(".ts"));

describe("packages/client/src is portable", () => {
  test("imports only its own files, @raptscallions/core and zod", () => {
    const imports = sources.flatMap((f) =>
      [...readFileSync(join(SRC, f), "utf8").matchAll(/\bfrom\s+"([^"]+)"|\bimport\(\s*"([^"]+)"\s*\)/g)].map((m) => ({ f, spec: m[1] ?? m[2] ?? "" })),
    );
    expect(imports.length).toBeGreaterThan(10);
    const foreign = imports.filter(({ spec }) => !spec.startsWith("./") && spec !== "@raptscallions/core" && spec !== "zod");
    expect(foreign).toEqual([]);
  });

  test("names no Node or Bun global", () => {
    const found: string[] = [];
    for (const f of sources) {
      const code = readFileSync(join(SRC, f), "utf8")
        .replace(/\/\*[\s\S]*?\*\//g, "")
        .replace(/\/\/.*$/gm, "");
      for (const word of ["process", "Buffer", "Bun", "require", "__dirname", "__filename", "global", "setImmediate"]) {
        if (new RegExp(`\\b${word}\\b(?!\\w)`).test(code.replace(/globalThis/g, ""))) found.push(`${f}: ${word}`);
      }
    }
    expect(found).toEqual([]);
  });
});
