import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { createGroupBodySchema, createToolBodySchema, groupSchema, idParamSchema, pageQuerySchema } from "@raptscallions/core";
import type { DbHandle } from "@raptscallions/db";
import { Hono } from "hono";
import { z } from "zod";
import { createApp } from "../src/app.ts";
import { requireUser } from "../src/auth/middleware.ts";
import { buildOpenApiDocument, describeRoute, jsonBody, pathParams, queryParams, registerRouteDoc, toOpenApiPath } from "../src/openapi/index.ts";
import { createTestDb, testDeps } from "./helpers/deps.ts";

type Op = {
  summary?: string;
  security?: unknown[];
  "x-access"?: string;
  parameters?: { name: string; in: string; required: boolean }[];
  requestBody?: { content: { "application/json": { schema: unknown } } };
  responses: Record<string, { $ref?: string; content?: Record<string, { schema: unknown }> }>;
};
type Doc = { openapi: string; paths: Record<string, Record<string, Op>>; components: Record<string, Record<string, unknown>> };

let db: DbHandle;
let app: ReturnType<typeof createApp>;
let doc: Doc;

beforeAll(async () => {
  db = await createTestDb();
  app = createApp(await testDeps(db));
  const res = await app.request("/openapi.json");
  expect(res.status).toBe(200);
  doc = (await res.json()) as Doc;
}, 120_000);
afterAll(async () => {
  await db.close();
});

const MINE = ["groups", "classes", "tools", "assignments", "submissions", "ai", "audit"];
const operations = () =>
  Object.entries(doc.paths).flatMap(([path, item]) => Object.entries(item).map(([method, op]) => ({ path, method, op })));
const stripMeta = (s: Record<string, unknown>) => {
  const { $schema: _drop, ...rest } = s;
  return rest;
};

describe("GET /openapi.json", () => {
  test("is OpenAPI 3.1 and lists every mounted /api route, /api/me included", () => {
    expect(doc.openapi).toBe("3.1.0");
    const mounted = app.routes.filter((r) => r.method !== "ALL" && r.path.startsWith("/api/"));
    expect(mounted.length).toBeGreaterThan(40);
    for (const r of mounted) {
      const item = doc.paths[toOpenApiPath(r.path)];
      expect({ route: `${r.method} ${r.path}`, documented: Boolean(item?.[r.method.toLowerCase()]) }).toEqual({
        route: `${r.method} ${r.path}`,
        documented: true,
      });
    }
    const me = doc.paths["/api/me"]?.get;
    expect(me?.responses["200"]?.content?.["application/json"]?.schema).toBeDefined();
    expect(me?.security).toEqual([{ bearerAuth: [] }]);
  });

  test("each of this API's operations says who may call it, its success body and its errors", () => {
    const mine = operations().filter(({ op }) => MINE.some((t) => (op as { tags?: string[] }).tags?.includes(t)));
    expect(mine.length).toBeGreaterThanOrEqual(43);
    for (const { path, method, op } of mine) {
      const label = `${method.toUpperCase()} ${path}`;
      expect({ label, access: typeof op["x-access"] }).toEqual({ label, access: "string" });
      expect({ label, security: op.security }).toEqual({ label, security: [{ bearerAuth: [] }] });
      expect({ label, has401: Boolean(op.responses["401"]) }).toEqual({ label, has401: true });
      const success = Object.entries(op.responses).find(([status]) => status.startsWith("2"));
      expect(success).toBeDefined();
      if (success && success[0] !== "204") expect({ label, body: Boolean(success[1].content) }).toEqual({ label, body: true });
      if (path.includes("{")) expect({ label, has404: Boolean(op.responses["404"]) }).toEqual({ label, has404: true });
    }
  });

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
    const res = await app.request("/docs");
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
  test("documents any mounted route: described, merely validated, or registered from outside", () => {
    const sub = new Hono();
    sub.get("/:id", describeRoute({ summary: "A thing", access: "anyone", responses: { 200: { description: "ok", schema: groupSchema } }, errors: [409] }), requireUser, pathParams(idParamSchema), queryParams(pageQuerySchema), (c) => c.json({}));
    sub.post("/", jsonBody(createGroupBodySchema), (c) => c.json({}, 201));
    sub.get("/plain/:slug{[a-z]+}", (c) => c.text("x"));
    const root = new Hono();
    root.route("/api/things", sub);
    root.get("/outside", (c) => c.text("not api"));
    registerRouteDoc("GET", "/api/things/plain/:slug{[a-z]+}", { summary: "Registered elsewhere", access: "public", responses: { 200: { description: "text" } } });

    const built = buildOpenApiDocument(root.routes, { title: "t", version: "1" }) as unknown as Doc;
    expect(Object.keys(built.paths).sort()).toEqual(["/api/things", "/api/things/plain/{slug}", "/api/things/{id}"]);
    const described = built.paths["/api/things/{id}"]?.get;
    expect(described).toMatchObject({ summary: "A thing", "x-access": "anyone", security: [{ bearerAuth: [] }] });
    expect(Object.keys(described?.responses ?? {})).toEqual(["200", "400", "401", "403", "404", "409"]);
    expect(described?.parameters?.map((p) => p.name)).toEqual(["id", "limit", "cursor"]);
    const validated = built.paths["/api/things"]?.post;
    expect(validated?.security).toBeUndefined();
    expect(validated?.requestBody).toBeDefined();
    expect(Object.keys(validated?.responses ?? {})).toEqual(["200", "400", "413", "415", "422"]);
    expect(built.paths["/api/things/plain/{slug}"]?.get?.summary).toBe("Registered elsewhere");
    expect(Object.keys(built.components.responses ?? {}).sort()).toEqual(["E400", "E401", "E403", "E404", "E409", "E413", "E415", "E422"]);
  });
});
