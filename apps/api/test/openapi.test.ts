import { beforeAll, describe, expect, test } from "bun:test";
import { createGroupBodySchema, createToolBodySchema, groupSchema, idParamSchema, pageQuerySchema } from "@raptscallions/core";
import { Hono } from "hono";
import { z } from "zod";
import { requireUser } from "../src/auth/middleware.ts";
import { type RouteDoc, routeDocOf } from "../src/openapi/describe.ts";
import { buildOpenApiDocument, describeRoute, jsonBody, pathParams, queryParams, toOpenApiPath } from "../src/openapi/index.ts";
import { useHarness } from "./helpers/harness.ts";
import { type Fixture, fixtureBody, makeRestFixtures, pathOf } from "./helpers/rest-fixtures.ts";

type Op = {
  summary?: string;
  tags?: string[];
  security?: unknown[];
  "x-access"?: string;
  parameters?: { name: string; in: string; required: boolean }[];
  requestBody?: { content: { "application/json": { schema: unknown } } };
  responses: Record<string, { $ref?: string; content?: Record<string, { schema: unknown }> }>;
};
type Doc = { openapi: string; paths: Record<string, Record<string, Op>>; components: Record<string, Record<string, unknown>> };

// The embedded dev model mounted too, so its routes are held to the same rules.
const h = useHarness({ deps: (base) => ({ config: { ...base.config, devModel: { tokensPerSecond: 1000, apiKey: "dev-model-key" } } }) });
let doc: Doc;
let fixtures: Record<string, Fixture>;
let headersOf: Awaited<ReturnType<typeof makeRestFixtures>>["headersOf"];

beforeAll(async () => {
  const res = await h.app.request("/openapi.json");
  expect(res.status).toBe(200);
  doc = (await res.json()) as Doc;
  ({ fixtures, headersOf } = await makeRestFixtures(h.db, h.app));
}, 120_000);

/**
 * Operations anyone may call without a session token: probes and docs, the socket (its ticket is
 * the credential), webhooks (signed by Svix), theme images (shown on sign-in pages) and what exists
 * only in development (dev sign-in, the embedded dev model, the console's static files). Any other
 * operation must require a signed-in user.
 */
const PUBLIC = ["/health", "/ready", "/metrics", "/openapi.json", "/docs", "/ws", "/api/webhooks/", "/api/theme-assets/", "/api/dev/", "/v1/", "/app"];
/** Answers that are not this API's JSON: metrics text, HTML, the document itself, image bytes, OpenAI's shapes. */
const NOT_JSON = ["/metrics", "/docs", "/openapi.json", "/api/theme-assets/", "/v1/"];
const isPublic = (path: string) => PUBLIC.some((p) => path === p || (p.endsWith("/") ? path.startsWith(p) : path.startsWith(`${p}/`)));

const operations = () => Object.entries(doc.paths).flatMap(([path, item]) => Object.entries(item).map(([method, op]) => ({ path, method, op })));
const stripMeta = (s: Record<string, unknown>) => {
  const { $schema: _drop, ...rest } = s;
  return rest;
};

describe("GET /openapi.json", () => {
  test("is OpenAPI 3.1 and holds exactly the routes mounted on the app", () => {
    expect(doc.openapi).toBe("3.1.0");
    const mounted = new Set(h.app.routes.filter((r) => r.method !== "ALL").map((r) => `${r.method} ${toOpenApiPath(r.path)}`));
    expect(mounted.size).toBeGreaterThan(70);
    const documented = new Set(operations().map(({ path, method }) => `${method.toUpperCase()} ${path}`));
    expect([...mounted].filter((r) => !documented.has(r))).toEqual([]);
    expect([...documented].filter((r) => !mounted.has(r))).toEqual([]);
    for (const path of ["/api/me", "/api/sessions", "/api/realtime/tickets", "/health", "/ws", "/v1/chat/completions"]) expect(doc.paths[path]).toBeDefined();
  });

  test("every operation is described: summary, who may call it, security unless public, success and error responses", () => {
    const problems: string[] = [];
    for (const { path, method, op } of operations()) {
      const label = `${method.toUpperCase()} ${path}`;
      // Set only by describeRoute: a route mounted without one has neither.
      if (typeof op["x-access"] !== "string" || !op.summary || op.summary === `${method.toUpperCase()} ${path}`) problems.push(`${label}: not described`);
      if (!op.tags?.length) problems.push(`${label}: no tag`);
      const statuses = Object.keys(op.responses);
      if (!statuses.some((s) => /^(2\d\d|101)$/.test(s))) problems.push(`${label}: no success response`);
      if (isPublic(path)) {
        if (op.security !== undefined) problems.push(`${label}: public, yet documented as needing a token`);
      } else {
        if (JSON.stringify(op.security) !== JSON.stringify([{ bearerAuth: [] }])) problems.push(`${label}: no security requirement`);
        if (!statuses.includes("401")) problems.push(`${label}: no 401`);
      }
      if (path.includes("{") && !statuses.includes("404")) problems.push(`${label}: no 404`);
      for (const [status, r] of Object.entries(op.responses)) {
        const download = Object.keys(r.content ?? {}).some((type) => type !== "application/json");
        const jsonAnswer = /^2\d\d$/.test(status) && status !== "204" && !download && !NOT_JSON.some((p) => path.startsWith(p));
        if (jsonAnswer && !r.content?.["application/json"]?.schema) problems.push(`${label}: ${status} has no body schema`);
      }
    }
    expect(problems).toEqual([]);
  });

  test("a JSON body is documented exactly where an operation takes one (checked against a valid call of each)", () => {
    const problems: string[] = [];
    for (const [label, fx] of Object.entries(fixtures)) {
      const [method = "", path = ""] = label.split(" ");
      const op = doc.paths[path]?.[method.toLowerCase()];
      if (!op) {
        problems.push(`${label}: fixture for an operation the document lacks`);
        continue;
      }
      const documented = Boolean(op.requestBody?.content["application/json"].schema);
      if (Boolean(fx.body) !== documented)
        problems.push(`${label}: takes ${fx.body ? "a JSON body" : "no JSON body"}, documented ${documented ? "with" : "without"} one`);
    }
    expect(problems).toEqual([]);
    // Every REST operation has a valid call to check it against (webhooks: signed by Svix, in their own tests).
    const rest = operations().filter(({ path }) => path.startsWith("/api/") && !path.startsWith("/api/webhooks/"));
    expect(rest.map(({ path, method }) => `${method.toUpperCase()} ${path}`).filter((l) => !fixtures[l])).toEqual([]);
  });

  test("every success status an operation answers is documented, with a body its documented schema accepts", async () => {
    const docs = new Map<string, RouteDoc>();
    for (const r of h.app.routes) {
      const d = routeDocOf(r.handler);
      if (d) docs.set(`${r.method} ${toOpenApiPath(r.path)}`, d);
    }
    // Reads, writes, archives (which close a class or tool to further writes), deletes.
    const order = (op: string) => (op.startsWith("GET") ? 0 : op.startsWith("DELETE") ? 3 : op.endsWith("/archive") ? 2 : 1);
    const problems: string[] = [];
    const seen = new Set<string>();
    const conflicted = new Set<string>();
    for (const label of Object.keys(fixtures).sort((x, y) => order(x) - order(y))) {
      const fx = fixtures[label];
      if (!fx || fx.baseline === false) continue;
      // Writes twice: a repeat is how idempotent operations reach their other success status.
      for (let round = 0; round < (label.startsWith("GET") ? 1 : 2); round++) {
        const body = fixtureBody(fx);
        const headers: Record<string, string> = { ...headersOf[fx.as] };
        if (body) headers["content-type"] = body.type;
        const res = await h.app.request(pathOf(label, fx.params, fx.query), { method: label.split(" ")[0], headers, body: body?.text as BodyInit | undefined });
        // Read every body, so no streamed file is left open.
        const text = await res.text();
        if (res.status === 409) conflicted.add(label);
        if (res.status < 200 || res.status >= 300) continue;
        seen.add(label);
        const documented = docs.get(label)?.responses[res.status];
        if (!documented) {
          problems.push(`${label} answered ${res.status}, documented ${Object.keys(docs.get(label)?.responses ?? {}).join("/")}`);
          continue;
        }
        if (!documented.schema) continue;
        const parsed = documented.schema.safeParse(JSON.parse(text));
        if (!parsed.success)
          problems.push(
            `${label} ${res.status}: body does not match its schema: ${parsed.error.issues
              .slice(0, 2)
              .map((i) => `${i.path.join(".")} ${i.message}`)
              .join("; ")}`,
          );
      }
    }
    expect(problems).toEqual([]);
    // Each operation answered with success at least once (or met a business rule, 409: deleting an
    // assignment that has submissions), so none was checked vacuously.
    expect(Object.keys(fixtures).filter((l) => fixtures[l]?.baseline !== false && !seen.has(l) && !conflicted.has(l))).toEqual([]);
    expect(seen.size).toBeGreaterThan(60);
  }, 120_000);

  test("request and response schemas are generated from the same zod schemas the validators use", () => {
    const create = doc.paths["/api/groups"]?.post;
    expect(create?.requestBody?.content["application/json"].schema).toEqual(
      stripMeta(z.toJSONSchema(createGroupBodySchema, { io: "input", unrepresentable: "any" }) as Record<string, unknown>),
    );
    const tool = doc.paths["/api/tools"]?.post;
    expect(tool?.requestBody?.content["application/json"].schema).toEqual(
      stripMeta(z.toJSONSchema(createToolBodySchema, { io: "input", unrepresentable: "any" }) as Record<string, unknown>),
    );
    const get = doc.paths["/api/groups/{id}"]?.get;
    expect(get?.responses["200"]?.content?.["application/json"]?.schema).toEqual(
      stripMeta(z.toJSONSchema(groupSchema, { unrepresentable: "any" }) as Record<string, unknown>),
    );
    const list = doc.paths["/api/groups"]?.get;
    expect(list?.parameters?.map((p) => `${p.in}:${p.name}:${p.required}`)).toEqual(["query:limit:false", "query:cursor:false", "query:kind:false"]);
    expect(doc.paths["/api/ai/models/{id}"]?.patch?.parameters?.[0]).toMatchObject({ name: "id", in: "path", required: true });
  });

  test("every $ref resolves inside the document", () => {
    const refs: string[] = [];
    const walk = (v: unknown) => {
      if (Array.isArray(v)) v.forEach(walk);
      else if (v && typeof v === "object") {
        for (const [k, child] of Object.entries(v)) {
          if (k === "$ref" && typeof child === "string") refs.push(child);
          else walk(child);
        }
      }
    };
    walk(doc);
    expect(refs.length).toBeGreaterThan(0);
    for (const ref of new Set(refs)) {
      const target = ref
        .replace(/^#\//, "")
        .split("/")
        .reduce<unknown>((node, key) => (node && typeof node === "object" ? (node as Record<string, unknown>)[key] : undefined), doc);
      expect({ ref, resolves: target !== undefined }).toEqual({ ref, resolves: true });
    }
  });
});

describe("GET /docs", () => {
  test("a self-contained page under a CSP that allows nothing it does not need", async () => {
    const res = await h.app.request("/docs");
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toContain("text/html");
    const csp = res.headers.get("content-security-policy") ?? "";
    expect(csp).toContain("default-src 'none'");
    const html = await res.text();
    expect(html).not.toMatch(/<script|<link|<style|<iframe|\ssrc=|\sstyle=/i);
    for (const path of ["/api/groups/{id}/subtree", "/api/tools/{id}/versions", "/api/audit", "/api/me"]) expect(html).toContain(path);
    expect(html).toContain("Access:");
  });
});

describe("buildOpenApiDocument", () => {
  test("documents any mounted route, and marks one without describeRoute by leaving out who may call it", () => {
    const sub = new Hono();
    sub.get(
      "/:id",
      describeRoute({ summary: "A thing", access: "anyone", responses: { 200: { description: "ok", schema: groupSchema } }, errors: [409] }),
      requireUser,
      pathParams(idParamSchema),
      queryParams(pageQuerySchema),
      (c) => c.json({}),
    );
    sub.post("/", jsonBody(createGroupBodySchema), (c) => c.json({}, 201));
    sub.get("/plain/:slug{[a-z]+}", (c) => c.text("x"));
    const root = new Hono();
    root.route("/api/things", sub);
    root.get("/outside", (c) => c.text("not api"));

    const built = buildOpenApiDocument(root.routes, { title: "t", version: "1" }) as unknown as Doc;
    expect(Object.keys(built.paths).sort()).toEqual(["/api/things", "/api/things/plain/{slug}", "/api/things/{id}", "/outside"]);
    const described = built.paths["/api/things/{id}"]?.get;
    expect(described).toMatchObject({ summary: "A thing", "x-access": "anyone", security: [{ bearerAuth: [] }] });
    expect(Object.keys(described?.responses ?? {})).toEqual(["200", "400", "401", "403", "404", "409"]);
    expect(described?.parameters?.map((p) => p.name)).toEqual(["id", "limit", "cursor"]);
    const validated = built.paths["/api/things"]?.post;
    expect(validated?.security).toBeUndefined();
    expect(validated?.requestBody).toBeDefined();
    expect(Object.keys(validated?.responses ?? {})).toEqual(["200", "400", "413", "415", "422"]);
    const plain = built.paths["/api/things/plain/{slug}"]?.get;
    expect(plain?.summary).toBe("GET /api/things/plain/{slug}");
    expect(plain?.["x-access"]).toBeUndefined();
    expect(Object.keys(built.components.responses ?? {}).sort()).toEqual(["E400", "E401", "E403", "E404", "E409", "E413", "E415", "E422"]);
  });
});
