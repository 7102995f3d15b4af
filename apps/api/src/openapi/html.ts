import type { OpenApiDocument } from "./generate.ts";

const escapeHtml = (s: string) => s.replaceAll("&", "&amp;").replaceAll("<", "&lt;").replaceAll(">", "&gt;").replaceAll('"', "&quot;").replaceAll("'", "&#39;");

const pretty = (value: unknown) => `<pre>${escapeHtml(JSON.stringify(value, null, 2))}</pre>`;

function anchor(method: string, path: string): string {
  return `${method}-${path}`.replace(/[^A-Za-z0-9]+/g, "-");
}

type Op = Record<string, unknown>;
const text = (v: unknown) => (typeof v === "string" ? v : "");

function renderOperation(method: string, path: string, op: Op): string {
  const parts = [`<section id="${anchor(method, path)}">`, `<h3><code>${method.toUpperCase()} ${escapeHtml(path)}</code></h3>`];
  parts.push(`<p>${escapeHtml(text(op.summary))}</p>`);
  if (typeof op["x-access"] === "string") parts.push(`<p><strong>Access:</strong> ${escapeHtml(op["x-access"])}</p>`);
  if (Array.isArray(op.parameters) && op.parameters.length > 0) {
    const rows = (op.parameters as Op[])
      .map(
        (p) =>
          `<tr><td><code>${escapeHtml(text(p.name))}</code></td><td>${escapeHtml(text(p.in))}</td><td>${p.required ? "yes" : "no"}</td><td><code>${escapeHtml(JSON.stringify(p.schema))}</code></td></tr>`,
      )
      .join("");
    parts.push(`<table><thead><tr><th>Parameter</th><th>In</th><th>Required</th><th>Schema</th></tr></thead><tbody>${rows}</tbody></table>`);
  }
  if (op.requestBody) parts.push(`<details><summary>Request body</summary>${pretty(op.requestBody)}</details>`);
  parts.push(`<details><summary>Responses</summary>${pretty(op.responses)}</details>`);
  parts.push("</section>");
  return parts.join("\n");
}

/**
 * The API reference as one self-contained page: no script, no stylesheet, no remote fetch, so it
 * renders offline under the app's `default-src 'none'` policy.
 */
export function renderDocsHtml(doc: OpenApiDocument): string {
  const ops = Object.entries(doc.paths).flatMap(([path, item]) => Object.entries(item).map(([method, op]) => ({ method, path, op })));
  const toc = ops
    .map(
      ({ method, path, op }) =>
        `<li><a href="#${anchor(method, path)}"><code>${method.toUpperCase()} ${escapeHtml(path)}</code></a> — ${escapeHtml(text(op.summary))}</li>`,
    )
    .join("\n");
  return `<!doctype html>
<html lang="en">
<head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1"><title>${escapeHtml(doc.info.title)} — API reference</title></head>
<body>
<header><h1>${escapeHtml(doc.info.title)} <small>${escapeHtml(doc.info.version)}</small></h1>
<p>Machine-readable: <a href="/openapi.json">/openapi.json</a> (OpenAPI ${doc.openapi}). Errors always use <code>{ "error": { "code", "message", "requestId", "details"? } }</code>. Authenticated routes take <code>Authorization: Bearer &lt;Clerk session token&gt;</code>. Lists take <code>?limit=&amp;cursor=</code> and return <code>{ items, nextCursor }</code>.</p></header>
<nav><h2>Routes</h2><ul>
${toc}
</ul></nav>
<main><h2>Reference</h2>
${ops.map(({ method, path, op }) => renderOperation(method, path, op)).join("\n")}
<h2>Error schema</h2>${pretty(doc.components.schemas)}
</main>
</body>
</html>`;
}
