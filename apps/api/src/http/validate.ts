import { AppError } from "@raptscallions/core";
import { zValidator } from "@hono/zod-validator";
import type { Context } from "hono";
import type { ZodType } from "zod";

const JSON_TYPE = /^application\/([\w.-]+\+)?json$/i;

function issues(error: { issues: { path: PropertyKey[]; message: string; code: string }[] }) {
  return error.issues.map((i) => ({ path: i.path.map(String).join("."), message: i.message, code: i.code }));
}

/** Validates a JSON body: 415 when it is not JSON, 400 when malformed, 422 with issues when invalid. */
export const jsonBody = <T extends ZodType>(schema: T) =>
  zValidator("json", schema, (result, c: Context) => {
    const type = (c.req.header("content-type") ?? "").split(";")[0]?.trim() ?? "";
    if (!JSON_TYPE.test(type)) {
      throw new AppError("UNSUPPORTED_MEDIA_TYPE", "Expected Content-Type: application/json");
    }
    if (!result.success) throw new AppError("VALIDATION_FAILED", "Request body is invalid", { details: issues(result.error) });
  });

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
