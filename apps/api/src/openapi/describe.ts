import type { MiddlewareHandler } from "hono";
import type { ZodType } from "zod";
import * as validate from "../http/validate.ts";

/** A response a route documents: its status, what it means and (unless empty) its body schema. */
export interface ResponseDoc {
  description: string;
  schema?: ZodType;
  /** A body that is not JSON (a file download): its media type, documented as binary. */
  mediaType?: string;
}

/** What the OpenAPI document says about one route beyond what its validators already tell. */
export interface RouteDoc {
  summary: string;
  description?: string;
  /** Defaults to the first path segment after `/api`. */
  tags?: string[];
  /** Who may call it, in words (rendered in /docs and as `x-access`). */
  access: string;
  /** Success responses by status. */
  responses: Record<number, ResponseDoc>;
  /** Query parameters a handler reads itself (no `queryParams` validator), for the document. */
  query?: ZodType;
  /** Error statuses beyond those implied by auth and validators (e.g. 409). */
  errors?: number[];
  operationId?: string;
}

export type InputTarget = "json" | "query" | "param";
export interface InputDoc {
  target: InputTarget;
  schema: ZodType;
}

// Metadata rides on the middleware functions themselves (keyed by identity), so the document is
// generated from the routes actually mounted and their actual validators: nothing to keep in sync.
const routeDocs = new WeakMap<object, RouteDoc>();
const inputDocs = new WeakMap<object, InputDoc>();

/**
 * Pass-through middleware carrying a route's documentation. Put it first in the chain. Not an
 * async function: it hands on `next()`'s promise, so every request of every route does not pay
 * for an async frame (a generator, a promise and a scope) that only waits.
 */
export function describeRoute(doc: RouteDoc): MiddlewareHandler {
  const mw: MiddlewareHandler = (_c, next) => next();
  routeDocs.set(mw, doc);
  return mw;
}

/** `jsonBody` of src/http/validate.ts, recorded as the route's request body. */
export const jsonBody = <T extends ZodType>(schema: T) => {
  const mw = validate.jsonBody(schema);
  inputDocs.set(mw, { target: "json", schema });
  return mw;
};
/** `queryParams` of src/http/validate.ts, recorded as the route's query parameters. */
export const queryParams = <T extends ZodType>(schema: T) => {
  const mw = validate.queryParams(schema);
  inputDocs.set(mw, { target: "query", schema });
  return mw;
};
/** `pathParams` of src/http/validate.ts, recorded as the route's path parameters. */
export const pathParams = <T extends ZodType>(schema: T) => {
  const mw = validate.pathParams(schema);
  inputDocs.set(mw, { target: "param", schema });
  return mw;
};

export function routeDocOf(handler: unknown): RouteDoc | undefined {
  return typeof handler === "function" ? routeDocs.get(handler) : undefined;
}
export function inputDocOf(handler: unknown): InputDoc | undefined {
  return typeof handler === "function" ? inputDocs.get(handler) : undefined;
}
