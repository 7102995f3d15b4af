import { afterAll, describe, expect, test } from "bun:test";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { buildFolderGraph, DOCS_FILE, docsBlock, findCycles, folderOf, readDocsBlock } from "../scripts/import-graph.ts";

const fixtures: string[] = [];
afterAll(() => {
  for (const dir of fixtures) rmSync(dir, { recursive: true, force: true });
});

function fixture(files: Record<string, string>): string {
  const dir = mkdtempSync(join(tmpdir(), "import-graph-"));
  fixtures.push(dir);
  for (const [path, text] of Object.entries(files)) {
    mkdirSync(dirname(join(dir, path)), { recursive: true });
    writeFileSync(join(dir, path), text);
  }
  return dir;
}

describe("folder import graph of apps/api/src", () => {
  test("has no folder cycles", () => {
    const cycles = findCycles(buildFolderGraph());
    // On failure the message names each loop; `bun apps/api/scripts/import-graph.ts` lists the files behind it.
    expect(cycles.map((c) => c.join(" -> "))).toEqual([]);
  });

  test("has no cycles between files either", () => {
    const cycles = findCycles(buildFolderGraph(undefined, (path) => path));
    expect(cycles.map((c) => c.join(" -> "))).toEqual([]);
  });

  test("docs/architecture.md shows the current picture (refresh: bun apps/api/scripts/import-graph.ts --write-docs)", () => {
    const inDocs = readDocsBlock(readFileSync(DOCS_FILE, "utf8"));
    expect(inDocs).toBe(docsBlock(buildFolderGraph()));
  });
});

describe("import-graph script", () => {
  test("a folder is the first two directory levels; a file at the root is its own node", () => {
    expect(folderOf("services/live/rooms.ts")).toBe("services/live");
    expect(folderOf("services/live/deeper/x.ts")).toBe("services/live");
    expect(folderOf("auth/clerk.ts")).toBe("auth");
    expect(folderOf("app.ts")).toBe("app.ts");
  });

  test("finds a loop made of type-only and index imports, and names its files", () => {
    const dir = fixture({
      "a/x/one.ts": 'import type { T } from "../../b/y/index.ts";\nexport const one = 1;\n',
      "b/y/index.ts": 'export { two } from "./two";\nexport type T = string;\n',
      "b/y/two.ts": 'import { one } from "../../a/x/one.ts";\nexport const two = one + 1;\n',
      "c/leaf.ts": 'import { one } from "../a/x/one.ts";\nimport { z } from "zod";\nexport const leaf = one;\n',
    });
    const graph = buildFolderGraph(dir);
    expect(findCycles(graph)).toEqual([["a/x", "b/y", "a/x"]]);
    expect(graph.edges.get("b/y")?.get("a/x")).toEqual([{ from: "b/y/two.ts", to: "a/x/one.ts" }]);
    // Package imports are not folders of src.
    expect([...(graph.edges.get("c") ?? new Map()).keys()]).toEqual(["a/x"]);
  });

  test("a graph whose arrows all point one way has no cycles", () => {
    const dir = fixture({
      "top/a.ts": 'import "../mid/b.ts";\n',
      "mid/b.ts": 'import "../low/c.ts";\n',
      "low/c.ts": "export {};\n",
      "app.ts": 'import "./top/a.ts";\n',
    });
    expect(findCycles(buildFolderGraph(dir))).toEqual([]);
  });
});
