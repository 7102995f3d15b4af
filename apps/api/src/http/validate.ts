import { AppError, readClientJson, findTextIssue } from "@raptscallions/core";
import { zValidator } from "@hono/zod-validator";
import type { Context, MiddlewareHandler, Next } from "hono";
import type { ZodType } from "zod";

const JSON_TYPE = /^application\/([\w.-]+\+)?json$/i;

function issues(error: { issues: { path: PropertyKey[]; message: string; code: string }[] }) {
  return error.issues.map((i) => ({ path: i.path.map(String).join("."), message: i.message, code: i.code }));
}

/**
 * Reads the body as client JSON before any schema sees it (see `readClientJson` in
 * packages/core): 415 when it is not JSON, 400 JSON_TOO_COMPLEX when nested or sized past the
 * limits, 400 INVALID_JSON when malformed, 422 when a string anywhere (keys too) holds text the
 * database cannot store. The parsed value is left in Hono's body cache for the validator.
 */
async function readJsonBody(c: Context): Promise<void> {
  const type = (c.req.header("content-type") ?? "").split(";")[0]?.trim() ?? "";
  if (!JSON_TYPE.test(type)) throw new AppError("UNSUPPORTED_MEDIA_TYPE", "Expected Content-Type: application/json");
  const read = readClientJson(await c.req.text());
  if (read.ok) {
    c.req.bodyCache.json = Promise.resolve(read.value);
    return;
  }
  if (read.reason === "too_complex") throw new AppError("JSON_TOO_COMPLEX", read.message);
  if (read.reason === "malformed") throw new AppError("INVALID_JSON", "Malformed JSON in request body");
  throw new AppError("VALIDATION_FAILED", "Request body is invalid", { details: [read.issue] });
}

/** Validates a JSON body: 415 when it is not JSON, 400 when malformed or too complex, 422 with issues when invalid. */
export const jsonBody = <T extends ZodType>(schema: T) => {
  const validate = zValidator("json", schema, (result) => {
    if (!result.success) throw new AppError("VALIDATION_FAILED", "Request body is invalid", { details: issues(result.error) });
  });
  const mw: MiddlewareHandler = async (c, next) => {
    await readJsonBody(c);
    return validate(c, next);
  };
  // Same input/output types as the validator, so `c.req.valid("json")` stays typed.
  return mw as typeof validate;
};

/** Validates query parameters: 400 with issues. */
export const queryParams = <T extends ZodType>(schema: T) =>
  zValidator("query", schema, (result) => {
    if (!result.success) throw new AppError("BAD_REQUEST", "Query parameters are invalid", { details: issues(result.error) });
  });

/** Validates path parameters (ids): a malformed id is a 404, not a database error. */
export const pathParams = <T extends ZodType>(schema: T) =>
  zValidator("param", schema, (result) => {
    if (!result.success) throw new AppError("NOT_FOUND", "No such resource", { details: issues(result.error) });
  });

function decodeOrRaw(text: string): string {
  try {
    return decodeURIComponent(text);
  } catch {
    // Hono keeps an undecodable escape as it came; so does this check.
    return text;
  }
}

/**
 * Every request's path segments and query string, decoded as the routes will see them, must be
 * text the database can store: a NUL or unpaired surrogate in a path is a 404 (nothing is named
 * so), in a query string a 400 naming the parameter. One check for every route, including those
 * whose query a validator does not describe.
 */
export const refuseUnstorableUrlText: MiddlewareHandler = (c, next) => {
  const href = c.req.url;
  // A request's URL arrives serialised: control characters and non-ASCII are percent-encoded, so
  // without a `%` there is nothing to decode and nothing to refuse. That is nearly every request,
  // which then parses no URL, builds no query object and enters no async frame here.
  if (!href.includes("%")) return next();
  return checkEscapedUrlText(c, href, next);
};

async function checkEscapedUrlText(c: Context, href: string, next: Next): Promise<void> {
  const url = new URL(href);
  for (const segment of url.pathname.split("/")) {
    const issue = findTextIssue(decodeOrRaw(segment));
    if (issue) throw new AppError("NOT_FOUND", "No such resource", { details: [{ ...issue, path: "path" }] });
  }
  if (url.search.length > 1) {
    for (const [key, values] of Object.entries(c.req.queries())) {
      const badKey = findTextIssue(key);
      const issue = badKey ?? findTextIssue(values);
      // A bad key is not echoed back: the issue names the query string instead.
      if (issue) throw new AppError("BAD_REQUEST", "Query parameters are invalid", { details: [{ ...issue, path: badKey ? "query" : key }] });
    }
  }
  await next();
}
