import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { extname, join } from "node:path";

/** One built file, served under `/app/assets/<name>`. */
export interface ConsoleAsset {
  body: Uint8Array;
  contentType: string;
}

/** The built console: `index.html` and its content-hashed assets by file name. */
export interface ConsoleBundle {
  indexHtml: string;
  assets: ReadonlyMap<string, ConsoleAsset>;
}

const here = import.meta.dir;
export const CONSOLE_ENTRY = join(here, "src", "main.tsx");
/** `bun apps/web/build.ts` writes here; the server serves it when present instead of building. */
export const CONSOLE_DIST = join(here, "dist");
const ASSET_URL = "/app/assets/";

const TYPES: Record<string, string> = {
  ".js": "text/javascript; charset=utf-8",
  ".css": "text/css; charset=utf-8",
  ".map": "application/json; charset=utf-8",
  ".woff2": "font/woff2",
  ".svg": "image/svg+xml",
  ".png": "image/png",
};
const typeOf = (name: string) => TYPES[extname(name)] ?? "application/octet-stream";

function indexHtml(scripts: string[], styles: string[]): string {
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>raptscallions</title>
<link rel="icon" href="data:,">
${styles.map((s) => `<link rel="stylesheet" href="${ASSET_URL}${s}">`).join("\n")}
${scripts.map((s) => `<script type="module" src="${ASSET_URL}${s}"></script>`).join("\n")}
</head>
<body>
<div id="root"></div>
<noscript>The console needs JavaScript.</noscript>
</body>
</html>
`;
}

/**
 * Builds the console with Bun's bundler, in memory: minified, every file named by its content
 * hash (so it can be cached for a year), and an `index.html` that names them.
 */
export async function buildConsole(): Promise<ConsoleBundle> {
  const result = await Bun.build({
    entrypoints: [CONSOLE_ENTRY],
    target: "browser",
    format: "esm",
    minify: true,
    splitting: false,
    sourcemap: "none",
    naming: { entry: "[name]-[hash].[ext]", chunk: "[name]-[hash].[ext]", asset: "[name]-[hash].[ext]" },
    define: { "process.env.NODE_ENV": JSON.stringify("production") },
  });
  if (!result.success) {
    throw new Error(`console build failed:\n${result.logs.map((l) => String(l)).join("\n")}`);
  }
  const assets = new Map<string, ConsoleAsset>();
  const scripts: string[] = [];
  const styles: string[] = [];
  for (const out of result.outputs) {
    const name = out.path.replace(/^.*[\\/]/, "");
    assets.set(name, { body: new Uint8Array(await out.arrayBuffer()), contentType: typeOf(name) });
    if (out.kind === "entry-point" && name.endsWith(".js")) scripts.push(name);
    if (name.endsWith(".css")) styles.push(name);
  }
  return { indexHtml: indexHtml(scripts, styles), assets };
}

/** The prebuilt console in `dir` (written by `writeConsole`), or null when there is none. */
export function readConsole(dir = CONSOLE_DIST): ConsoleBundle | null {
  const index = join(dir, "index.html");
  if (!existsSync(index)) return null;
  const assets = new Map<string, ConsoleAsset>();
  const assetDir = join(dir, "assets");
  for (const name of existsSync(assetDir) ? readdirSync(assetDir) : []) {
    assets.set(name, { body: new Uint8Array(readFileSync(join(assetDir, name))), contentType: typeOf(name) });
  }
  return { indexHtml: readFileSync(index, "utf8"), assets };
}

/** Builds and writes `index.html` and `assets/` into `dir`. */
export async function writeConsole(dir = CONSOLE_DIST): Promise<ConsoleBundle> {
  const bundle = await buildConsole();
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(join(dir, "assets"), { recursive: true });
  for (const [name, asset] of bundle.assets) writeFileSync(join(dir, "assets", name), asset.body);
  writeFileSync(join(dir, "index.html"), bundle.indexHtml);
  return bundle;
}

/** What the server uses: the prebuilt console if there is one, else a fresh in-memory build. */
export async function loadConsole(dir = CONSOLE_DIST): Promise<ConsoleBundle> {
  return readConsole(dir) ?? buildConsole();
}

if (import.meta.main) {
  const bundle = await writeConsole(process.argv[2] ?? CONSOLE_DIST);
  console.log(`console written: ${[...bundle.assets.keys()].join(", ")}`);
}
