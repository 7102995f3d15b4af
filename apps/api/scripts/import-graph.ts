/**
 * The folder-level import graph of apps/api/src.
 *
 * A "folder" is the first two directory levels under src (`services/live`, `routes/themes`, `auth`);
 * each file directly under src (`app.ts`, `deps.ts`, `server.ts`) is a node of its own, because
 * they sit at both ends: `deps.ts` is the interface list everything may import, `app.ts` and
 * `server.ts` wire everything together. An edge A → B means some
 * file in A imports (value or type) some file in B. The layering rule is that this graph has no
 * cycles: every arrow points down, none runs back up.
 *
 *   bun apps/api/scripts/import-graph.ts            # edges and cycles, exit 1 on a cycle
 *   bun apps/api/scripts/import-graph.ts --mermaid  # the picture, on stdout
 *   bun apps/api/scripts/import-graph.ts --write-docs  # refresh the picture in docs/architecture.md
 */
import { readdirSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { dirname, join, relative, resolve, sep } from "node:path";
import ts from "typescript";

export const SRC_DIR = resolve(import.meta.dir, "../src");

export type FolderGraph = {
  /** folder → folders it imports, with the importing/imported file pairs behind each edge. */
  edges: Map<string, Map<string, Array<{ from: string; to: string }>>>;
  folders: string[];
};

function listSourceFiles(dir: string): string[] {
  const out: string[] = [];
  for (const name of readdirSync(dir).sort()) {
    const full = join(dir, name);
    if (statSync(full).isDirectory()) out.push(...listSourceFiles(full));
    else if (/\.tsx?$/.test(name) && !name.endsWith(".d.ts")) out.push(full);
  }
  return out;
}

/** `services/live/rooms.ts` → `services/live`; `auth/clerk.ts` → `auth`; `app.ts` → `app.ts`. */
export function folderOf(relPath: string): string {
  const parts = relPath.split(sep).join("/").split("/");
  const file = parts.pop() ?? "";
  return parts.length === 0 ? file : parts.slice(0, 2).join("/");
}

function resolveRelative(fromFile: string, spec: string, known: Set<string>): string | undefined {
  const base = resolve(dirname(fromFile), spec);
  for (const candidate of [base, `${base}.ts`, `${base}.tsx`, join(base, "index.ts")]) {
    if (known.has(candidate)) return candidate;
  }
  return undefined;
}

/**
 * The import graph of `srcDir` with each file mapped to its node by `nodeOf` (its folder by
 * default; `(path) => path` gives the file-level graph).
 */
export function buildFolderGraph(srcDir: string = SRC_DIR, nodeOf: (relPath: string) => string = folderOf): FolderGraph {
  const files = listSourceFiles(srcDir);
  const known = new Set(files);
  const edges: FolderGraph["edges"] = new Map();
  const folders = new Set<string>();
  for (const file of files) {
    const fromRel = relative(srcDir, file);
    const fromFolder = nodeOf(fromRel);
    folders.add(fromFolder);
    // preProcessFile lists every import and export-from, type-only ones included: a type import
    // is still a dependency a reader has to follow.
    const { importedFiles } = ts.preProcessFile(readFileSync(file, "utf8"), true, true);
    for (const { fileName } of importedFiles) {
      if (!fileName.startsWith(".")) continue;
      const target = resolveRelative(file, fileName, known);
      if (!target) continue;
      const toRel = relative(srcDir, target);
      const toFolder = nodeOf(toRel);
      if (toFolder === fromFolder) continue;
      let targets = edges.get(fromFolder);
      if (!targets) edges.set(fromFolder, (targets = new Map()));
      let pairs = targets.get(toFolder);
      if (!pairs) targets.set(toFolder, (pairs = []));
      pairs.push({ from: fromRel, to: toRel });
    }
  }
  return { edges, folders: [...folders].sort() };
}

/** Sets of folders that reach each other (Tarjan's strongly connected components, size > 1). */
export function findTangles(graph: FolderGraph): string[][] {
  const index = new Map<string, number>();
  const low = new Map<string, number>();
  const onStack = new Set<string>();
  const stack: string[] = [];
  const components: string[][] = [];
  let counter = 0;

  const strongConnect = (v: string) => {
    index.set(v, counter);
    low.set(v, counter);
    counter++;
    stack.push(v);
    onStack.add(v);
    for (const w of successors(graph, v)) {
      if (!index.has(w)) {
        strongConnect(w);
        low.set(v, Math.min(low.get(v) ?? 0, low.get(w) ?? 0));
      } else if (onStack.has(w)) {
        low.set(v, Math.min(low.get(v) ?? 0, index.get(w) ?? 0));
      }
    }
    if (low.get(v) === index.get(v)) {
      const component: string[] = [];
      let w: string | undefined;
      do {
        w = stack.pop();
        if (w === undefined) break;
        onStack.delete(w);
        component.push(w);
      } while (w !== v);
      if (component.length > 1) components.push(component.sort());
    }
  };
  for (const v of graph.folders) if (!index.has(v)) strongConnect(v);
  return components;
}

function successors(graph: FolderGraph, folder: string): string[] {
  return [...(graph.edges.get(folder)?.keys() ?? [])].sort();
}

/**
 * One concrete loop for every edge that closes one: for each edge A → B inside a tangle, the
 * shortest way from B back to A. Listing all elementary cycles would be exponential; this names
 * each arrow that runs back up, which is what a reader needs to act on.
 */
export function findCycles(graph: FolderGraph): string[][] {
  const loops = new Map<string, string[]>();
  for (const component of findTangles(graph)) {
    const members = new Set(component);
    for (const a of component) {
      for (const b of successors(graph, a).filter((x) => members.has(x))) {
        const back = shortestPath(graph, b, a, members);
        if (!back) continue;
        const loop = [a, ...back];
        // Rotate so that the same loop found from another edge is recognised.
        const body = loop.slice(0, -1);
        const first = body.indexOf([...body].sort()[0] ?? "");
        const rotated = [...body.slice(first), ...body.slice(0, first)];
        const key = rotated.join(" ");
        if (!loops.has(key)) loops.set(key, [...rotated, rotated[0] ?? ""]);
      }
    }
  }
  return [...loops.values()].sort((x, y) => x.length - y.length || x.join().localeCompare(y.join()));
}

function shortestPath(graph: FolderGraph, from: string, to: string, within: Set<string>): string[] | undefined {
  const previous = new Map<string, string>();
  const queue = [from];
  const seen = new Set([from]);
  while (queue.length > 0) {
    const v = queue.shift() ?? "";
    if (v === to) {
      const path = [v];
      let p = previous.get(v);
      while (p !== undefined) {
        path.unshift(p);
        p = previous.get(p);
      }
      return path;
    }
    for (const w of successors(graph, v)) {
      if (within.has(w) && !seen.has(w)) {
        seen.add(w);
        previous.set(w, v);
        queue.push(w);
      }
    }
  }
  return undefined;
}

/** The picture groups every `routes/<resource>` into one box: they sit side by side at the top. */
function pictureNode(folder: string): string {
  return folder.startsWith("routes/") ? "routes/*" : folder;
}

/**
 * A Mermaid flowchart of the folder graph for docs/architecture.md: routes grouped, and only the
 * arrows not implied by a longer path (the transitive reduction), so the layers can be read off
 * top to bottom. Only meaningful without cycles; the text output lists every direct edge.
 */
export function toMermaid(graph: FolderGraph): string {
  const edges = new Map<string, Set<string>>();
  const nodes = new Set<string>();
  for (const folder of graph.folders) nodes.add(pictureNode(folder));
  for (const [from, targets] of graph.edges) {
    for (const to of targets.keys()) {
      const a = pictureNode(from);
      const b = pictureNode(to);
      if (a === b) continue;
      let set = edges.get(a);
      if (!set) edges.set(a, (set = new Set()));
      set.add(b);
    }
  }
  const reachableAvoiding = (from: string, to: string): boolean => {
    // Is `to` reachable from `from` without taking the direct edge?
    const stack = [...(edges.get(from) ?? [])].filter((n) => n !== to);
    const seen = new Set(stack);
    while (stack.length > 0) {
      const v = stack.pop() ?? "";
      if (v === to) return true;
      for (const w of edges.get(v) ?? []) {
        if (!seen.has(w)) {
          seen.add(w);
          stack.push(w);
        }
      }
    }
    return false;
  };
  const id = (node: string) => node.replace(/[^A-Za-z0-9]/g, "_");
  const lines = ["flowchart TD"];
  for (const node of [...nodes].sort()) lines.push(`  ${id(node)}["${node}"]`);
  for (const from of [...edges.keys()].sort()) {
    for (const to of [...(edges.get(from) ?? [])].sort()) {
      if (!reachableAvoiding(from, to)) lines.push(`  ${id(from)} --> ${id(to)}`);
    }
  }
  return lines.join("\n");
}

export const DOCS_FILE = resolve(import.meta.dir, "../../../docs/architecture.md");
const START = "<!-- import-graph:start (generated by bun apps/api/scripts/import-graph.ts --write-docs) -->";
const END = "<!-- import-graph:end -->";

/** The Mermaid block as it sits in docs/architecture.md, between its markers. */
export function docsBlock(graph: FolderGraph): string {
  return `${START}\n\`\`\`mermaid\n${toMermaid(graph)}\n\`\`\`\n${END}`;
}

/** The generated block currently in the docs, or undefined when the markers are missing. */
export function readDocsBlock(text: string): string | undefined {
  const a = text.indexOf(START);
  const b = text.indexOf(END);
  return a < 0 || b < a ? undefined : text.slice(a, b + END.length);
}

if (import.meta.main) {
  const graph = buildFolderGraph();
  if (process.argv.includes("--mermaid")) {
    console.log(toMermaid(graph));
  } else if (process.argv.includes("--write-docs")) {
    const text = readFileSync(DOCS_FILE, "utf8");
    const current = readDocsBlock(text);
    if (current === undefined) throw new Error(`${DOCS_FILE}: import-graph markers not found`);
    writeFileSync(DOCS_FILE, text.replace(current, docsBlock(graph)));
    console.log(`updated ${relative(process.cwd(), DOCS_FILE)}`);
  } else {
    for (const [from, targets] of [...graph.edges].sort(([a], [b]) => a.localeCompare(b))) {
      for (const [to, pairs] of [...targets].sort(([a], [b]) => a.localeCompare(b))) {
        console.log(`${from} -> ${to} (${pairs.length})`);
      }
    }
    const cycles = findCycles(graph);
    if (cycles.length === 0) {
      console.log("\nno folder cycles");
    } else {
      console.log(`\n${cycles.length} folder cycle(s):`);
      for (const cycle of cycles) {
        console.log(`  ${cycle.join(" -> ")}`);
        for (let i = 0; i + 1 < cycle.length; i++) {
          const a = cycle[i] ?? "";
          const b = cycle[i + 1] ?? "";
          for (const pair of graph.edges.get(a)?.get(b) ?? []) console.log(`      ${pair.from} -> ${pair.to}`);
        }
      }
      process.exitCode = 1;
    }
  }
}
