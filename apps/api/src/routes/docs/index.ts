import { Hono } from "hono";
import type { AppEnv } from "../../deps.ts";
import { buildOpenApiDocument, describeRoute, type MountedRoute, type OpenApiDocument, renderDocsHtml } from "../../openapi/index.ts";

// Nothing but the document itself may load; the page has no script, style or remote resource.
const DOCS_CSP = "default-src 'none'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'";
const tags = ["docs"];
const access = "public";

/**
 * `GET /openapi.json` and `GET /docs`, generated on first request from the routes mounted on the
 * app (passed lazily: the document must see every route, including ones mounted after this).
 */
export function docsRoutes(routes: () => readonly MountedRoute[]) {
  let cached: { doc: OpenApiDocument; html: string } | undefined;
  const build = () => {
    if (!cached) {
      const doc = buildOpenApiDocument(routes(), {
        title: "raptscallions API",
        version: "1",
        description:
          "REST API: groups, classes, tools, assignments, sessions, alerts, submissions, AI models and settings, themes, usage, audit; the realtime socket; health and docs.",
      });
      cached = { doc, html: renderDocsHtml(doc) };
    }
    return cached;
  };

  const app = new Hono<AppEnv>();
  app.get("/openapi.json", describeRoute({ summary: "This document (OpenAPI 3.1)", tags, access, responses: { 200: { description: "The OpenAPI document" } } }), (c) =>
    c.json(build().doc, 200, { "cache-control": "no-cache" }),
  );
  app.get("/docs", describeRoute({ summary: "The API reference as one HTML page", tags, access, responses: { 200: { description: "HTML" } } }), (c) =>
    c.html(build().html, 200, { "content-security-policy": DOCS_CSP, "cache-control": "no-cache" }),
  );
  return app;
}
