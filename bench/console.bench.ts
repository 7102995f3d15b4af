/**
 * The web console's weight: `bun bench/console.bench.ts`. Builds apps/web the way the server does
 * (Bun.build, minified, content-hashed) and prints each file's size raw and gzipped, the build
 * time (median of 5), and what each dependency costs on its own (each bundled alone, minified,
 * gzipped), so a regression can be traced. Aim: under 150 KB of gzipped JavaScript. Needs nothing.
 */
import { rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { buildConsole } from "../apps/web/build.ts";

const AIM_KB = 150;
const kb = (n: number) => `${(n / 1024).toFixed(1)} KB`;

const times: number[] = [];
let bundle = await buildConsole();
for (let i = 0; i < 5; i++) {
  const t = performance.now();
  bundle = await buildConsole();
  times.push(performance.now() - t);
}
times.sort((a, b) => a - b);

let jsGzip = 0;
console.log("file                              raw        gzip");
for (const [name, asset] of bundle.assets) {
  const gz = Bun.gzipSync(asset.body as Uint8Array<ArrayBuffer>, { level: 9 }).length;
  if (name.endsWith(".js")) jsGzip += gz;
  console.log(`${name.padEnd(32)} ${kb(asset.body.length).padStart(9)} ${kb(gz).padStart(10)}`);
}
console.log(`index.html                       ${kb(bundle.indexHtml.length).padStart(9)}`);
console.log(`build time: median ${times[2]?.toFixed(0)} ms (min ${times[0]?.toFixed(0)}, max ${times[4]?.toFixed(0)})`);

// Each dependency alone, to see where the bytes come from (shared code is counted in each).
const parts: Record<string, string> = {
  "preact + hooks": 'import { render, h } from "preact"; import { useState } from "preact/hooks"; render(h(() => (useState(0), null), {}), document.body);',
  marked: 'import { Marked } from "marked"; console.log(new Marked().parse("# x"));',
  dompurify: 'import DOMPurify from "dompurify"; console.log(DOMPurify.sanitize("<b>x</b>"));',
  "@raptscallions/client (zod, core schemas)": 'import { createClient } from "@raptscallions/client"; console.log(createClient);',
};
console.log("\ndependency alone                            gzip");
for (const [label, source] of Object.entries(parts)) {
  // Inside apps/web, so the imports resolve to its pinned dependencies.
  const entry = join(import.meta.dir, "..", "apps", "web", `.bench-entry-${process.pid}.ts`);
  writeFileSync(entry, source);
  try {
    const out = await Bun.build({ entrypoints: [entry], target: "browser", minify: true });
    const bytes = out.outputs[0] ? new Uint8Array(await out.outputs[0].arrayBuffer()) : new Uint8Array();
    console.log(`${label.padEnd(42)} ${kb(Bun.gzipSync(bytes, { level: 9 }).length).padStart(9)}`);
  } finally {
    rmSync(entry, { force: true });
  }
}

console.log(`\nconsole JavaScript gzipped: ${kb(jsGzip)} (aim < ${AIM_KB} KB: ${jsGzip < AIM_KB * 1024 ? "met" : "NOT met"})`);
