import { errorBodySchema } from "@raptscallions/core";
import { z, type ZodType } from "zod";
import { isAuthenticating } from "../auth/middleware.ts";
import { type InputDoc, inputDocOf, type RouteDoc, routeDocOf } from "./describe.ts";

/** A mounted route as Hono lists it in `app.routes`. */
export interface MountedRoute {
  method: string;
  path: string;
  handler: unknown;
}

type JsonSchema = Record<string, unknown>;
type Operation = Record<string, unknown>;
export interface OpenApiDocument {
  openapi: "3.1.0";
  info: { title: string; version: string; description?: string };
  paths: Record<string, Record<string, Operation>>;
  components: Record<string, Record<string, unknown>>;
}

const ERROR_DESCRIPTIONS: Record<number, string> = {
  400: "Malformed request (bad JSON, JSON nested or sized past the input limits, query or cursor)",
  401: "No valid session token",
  403: "Visible but not allowed for this caller",
  404: "Not found, or not visible to this caller",
  405: "Method not allowed",
  409: "Conflicts with the current state",
  413: "Body too large",
  415: "Body is not JSON",
  422: "Body fails validation",
  429: "Rate limited (see Retry-After)",
  500: "Internal error (logged with its request id)",
  502: "Upstream error",
  503: "Service unavailable",
  504: "Upstream timed out",
};

function toJsonSchema(schema: ZodType, io: "input" | "output"): JsonSchema {
  // Transforms and the like have no JSON Schema; `any` keeps generation total instead of throwing.
  const json = z.toJSONSchema(schema, { io, unrepresentable: "any", target: "draft-2020-12" }) as JsonSchema;
  delete json.$schema;
  return json;
}

/** `/api/groups/:id` → `/api/groups/{id}` (also `:id{regex}` and optional `:id?`). */
export function toOpenApiPath(path: string): string {
  return path.replace(/:([A-Za-z0-9_]+)(\{(?:[^{}]|\{[^{}]*\})*\})?\??/g, "{$1}");
}

function operationIdFor(method: string, path: string): string {
  const words = toOpenApiPath(path)
    .split("/")
    .filter(Boolean)
    .map((seg) => (seg.startsWith("{") ? `by-${seg.slice(1, -1)}` : seg))
    .map((w) => w.replace(/[^A-Za-z0-9]+(.)?/g, (_m, ch: string | undefined) => (ch ? ch.toUpperCase() : "")))
    .map((w) => w.charAt(0).toUpperCase() + w.slice(1));
  return method.toLowerCase() + words.join("");
}

function objectParameters(schema: ZodType, where: "path" | "query"): Operation[] {
  if (!(schema instanceof z.ZodObject)) return [];
  return Object.entries(schema.shape as Record<string, ZodType>).map(([name, prop]) => {
    const { description, ...rest } = toJsonSchema(prop, "input");
    const param: Operation = {
      name,
      in: where,
      required: where === "path" || !prop.safeParse(undefined).success,
      schema: rest,
    };
    if (typeof description === "string") param.description = description;
    return param;
  });
}

function pathParamNames(path: string): string[] {
  return [...toOpenApiPath(path).matchAll(/\{([^}]+)\}/g)].map((m) => m[1] ?? "");
}

function buildOperation(method: string, path: string, doc: RouteDoc | undefined, inputs: InputDoc[], authenticated: boolean, usedErrors: Set<number>): Operation {
  const segments = path.split("/").filter(Boolean);
  const tag = (segments[0] === "api" ? segments[1] : segments[0]) ?? "api";
  const op: Operation = {
    operationId: doc?.operationId ?? operationIdFor(method, path),
    summary: doc?.summary ?? `${method} ${toOpenApiPath(path)}`,
    tags: doc?.tags ?? [tag],
  };
  const description = [doc?.description, doc ? `**Access:** ${doc.access}` : undefined].filter(Boolean).join("\n\n");
  if (description) op.description = description;
  if (doc) op["x-access"] = doc.access;

  const params: Operation[] = [];
  const pathInput = inputs.find((i) => i.target === "param");
  const documented = new Set<string>();
  if (pathInput) {
    for (const p of objectParameters(pathInput.schema, "path")) {
      params.push(p);
      documented.add(String(p.name));
    }
  }
  for (const name of pathParamNames(path)) {
    if (!documented.has(name)) params.push({ name, in: "path", required: true, schema: { type: "string" } });
  }
  const queryInput = inputs.find((i) => i.target === "query");
  if (queryInput) params.push(...objectParameters(queryInput.schema, "query"));
  else if (doc?.query) params.push(...objectParameters(doc.query, "query"));
  if (params.length > 0) op.parameters = params;

  const bodyInput = inputs.find((i) => i.target === "json");
  if (bodyInput) {
    op.requestBody = { required: true, content: { "application/json": { schema: toJsonSchema(bodyInput.schema, "input") } } };
  }

  const responses: Record<string, unknown> = {};
  for (const [status, r] of Object.entries(doc?.responses ?? { 200: { description: "Success" } })) {
    responses[status] = r.schema
      ? { description: r.description, content: { "application/json": { schema: toJsonSchema(r.schema, "output") } } }
      : r.mediaType
        ? { description: r.description, content: { [r.mediaType]: { schema: { type: "string", format: "binary" } } } }
        : { description: r.description };
  }
  const errors = new Set<number>(doc?.errors ?? []);
  if (authenticated) errors.add(401).add(403);
  if (bodyInput) errors.add(400).add(413).add(415).add(422);
  if (queryInput) errors.add(400);
  if (pathParamNames(path).length > 0) errors.add(404);
  for (const status of [...errors].sort((a, b) => a - b)) {
    responses[String(status)] = { $ref: `#/components/responses/E${status}` };
    usedErrors.add(status);
  }
  op.responses = responses;
  if (authenticated) op.security = [{ bearerAuth: [] }];
  return op;
}

/**
 * Builds the OpenAPI 3.1 document of every mounted route from the routes themselves:
 * request schemas from the validators in each chain, responses and access from `describeRoute`,
 * authentication from the presence of `requireUser` (or another middleware `isAuthenticating` knows). A route without `describeRoute` still
 * appears (with a placeholder summary and no `x-access`), and the OpenAPI test fails on it.
 */
export function buildOpenApiDocument(routes: readonly MountedRoute[], info: OpenApiDocument["info"]): OpenApiDocument {
  const byRoute = new Map<string, { method: string; path: string; handlers: unknown[] }>();
  for (const r of routes) {
    // `ALL` entries are middleware (`app.use`), not operations.
    if (r.method === "ALL") continue;
    const key = `${r.method} ${r.path}`;
    const entry = byRoute.get(key) ?? { method: r.method, path: r.path, handlers: [] };
    entry.handlers.push(r.handler);
    byRoute.set(key, entry);
  }

  const paths: OpenApiDocument["paths"] = {};
  const usedErrors = new Set<number>();
  const sorted = [...byRoute.values()].sort((a, b) => a.path.localeCompare(b.path) || a.method.localeCompare(b.method));
  for (const { method, path, handlers } of sorted) {
    const doc = handlers.map(routeDocOf).find((d) => d !== undefined);
    const inputs = handlers.map(inputDocOf).filter((d) => d !== undefined);
    const authenticated = handlers.some(isAuthenticating);
    const openPath = toOpenApiPath(path);
    paths[openPath] ??= {};
    const item = paths[openPath];
    if (item) item[method.toLowerCase()] = buildOperation(method, path, doc, inputs, authenticated, usedErrors);
  }

  const errorResponses: Record<string, unknown> = {};
  // One shared response per error status any operation names, so every $ref resolves.
  for (const status of [...usedErrors].sort((a, b) => a - b)) {
    const description = ERROR_DESCRIPTIONS[status] ?? "Error";
    errorResponses[`E${status}`] = { description, content: { "application/json": { schema: { $ref: "#/components/schemas/Error" } } } };
  }
  return {
    openapi: "3.1.0",
    info,
    paths,
    components: {
      schemas: { Error: toJsonSchema(errorBodySchema, "output") },
      responses: errorResponses,
      securitySchemes: { bearerAuth: { type: "http", scheme: "bearer", bearerFormat: "JWT", description: "Clerk session token" } },
    },
  };
}
