import { AppError, type ErrorBody, type ErrorCode } from "@raptscallions/core";
import { databaseErrorFrom } from "@raptscallions/db";
import type { Context } from "hono";
import { HTTPException } from "hono/http-exception";
import type { AppEnv } from "../deps.ts";

/** Builds the one error envelope; every error response of the API goes through here. */
export function errorResponse(c: Context<AppEnv>, status: number, code: ErrorCode, message: string, details?: unknown, headers?: Record<string, string>): Response {
  const body: ErrorBody = { error: { code, message, requestId: c.get("requestId") ?? "unknown" } };
  if (details !== undefined) body.error.details = details;
  return new Response(JSON.stringify(body), {
    status,
    headers: { "content-type": "application/json; charset=utf-8", ...headers },
  });
}

const HTTP_EXCEPTION_CODES: Record<number, ErrorCode> = {
  400: "BAD_REQUEST",
  401: "UNAUTHENTICATED",
  403: "FORBIDDEN",
  404: "NOT_FOUND",
  405: "METHOD_NOT_ALLOWED",
  409: "CONFLICT",
  413: "PAYLOAD_TOO_LARGE",
  415: "UNSUPPORTED_MEDIA_TYPE",
  422: "VALIDATION_FAILED",
  429: "RATE_LIMITED",
};

/**
 * The one mapping from a thrown value to what a client is told, shared by REST (`mapError`) and
 * the WebSocket path (error frames): a domain error keeps its code, status and details; a
 * statement cut short by a time limit or a lost connection is the database's trouble, not a bug
 * (503 with its own code, whichever driver and wrapper it came through); anything else is
 * `undefined` — a bug, reported as INTERNAL and logged by the caller.
 */
export function domainError(thrown: unknown): AppError | undefined {
  const err = thrown instanceof AppError ? thrown : databaseErrorFrom(thrown);
  return err instanceof AppError ? err : undefined;
}

/** A domain error's message as clients see it: an internal one never echoes what went wrong. */
export function publicMessage(err: AppError): string {
  return err.status >= 500 && err.code === "INTERNAL" ? "Internal error" : err.message;
}

/**
 * Maps any thrown value to a response: domain errors to their status, the rest to a bare 500.
 * `headers` are added to a domain error's response (a webhook's delivery control).
 */
export function mapError(thrown: unknown, c: Context<AppEnv>, extraHeaders?: Record<string, string>): Response {
  const domain = domainError(thrown);
  if (domain) {
    const headers: Record<string, string> = { ...extraHeaders };
    if (domain.retryAfterSeconds !== undefined) headers["retry-after"] = String(Math.max(1, Math.ceil(domain.retryAfterSeconds)));
    if (domain.status >= 500) logServerError(c, domain);
    return errorResponse(c, domain.status, domain.code, publicMessage(domain), domain.details, headers);
  }
  const err = thrown;
  if (err instanceof HTTPException && err.status < 500) {
    const code = err.status === 400 && /json/i.test(err.message) ? "INVALID_JSON" : (HTTP_EXCEPTION_CODES[err.status] ?? "BAD_REQUEST");
    return errorResponse(c, err.status, code, err.message || code);
  }
  // A malformed request body surfaces from Bun/undici as a SyntaxError or TypeError while reading;
  // those are the client's mistake, not ours.
  if (err instanceof SyntaxError) return errorResponse(c, 400, "INVALID_JSON", "Malformed JSON in request body");
  logServerError(c, err);
  return errorResponse(c, 500, "INTERNAL", "Internal error");
}

function logServerError(c: Context<AppEnv>, err: unknown) {
  c.get("deps")?.logger.error("request failed", { requestId: c.get("requestId"), err, path: c.req.path });
}
