import { z } from "zod";

/**
 * Every error code the API and the WebSocket protocol can return. One list, shared by REST and
 * realtime, so clients can switch on `error.code` without guessing.
 */
export const ERROR_CODES = [
  "BAD_REQUEST",
  "VALIDATION_FAILED",
  "INVALID_JSON",
  /** A JSON body or frame nested deeper, or holding more values, than `INPUT_LIMITS` allow. */
  "JSON_TOO_COMPLEX",
  "UNAUTHENTICATED",
  "FORBIDDEN",
  "NOT_FOUND",
  "METHOD_NOT_ALLOWED",
  "CONFLICT",
  "PAYLOAD_TOO_LARGE",
  "UNSUPPORTED_MEDIA_TYPE",
  "RATE_LIMITED",
  "BUDGET_EXCEEDED",
  "LIMIT_EXCEEDED",
  "MODEL_UNAVAILABLE",
  "UPSTREAM_ERROR",
  "UPSTREAM_TIMEOUT",
  "SESSION_BUSY",
  "SESSION_PAUSED",
  "SESSION_ENDED",
  "ASSIGNMENT_NOT_OPEN",
  "ATTEMPTS_EXHAUSTED",
  "TICKET_INVALID",
  "USER_NOT_IN_REACH",
  "PROTOCOL_ERROR",
  "FRAME_TOO_LARGE",
  "MESSAGE_TOO_LONG",
  "SERVICE_UNAVAILABLE",
  "DATABASE_TIMEOUT",
  "DATABASE_UNAVAILABLE",
  "INTERNAL",
] as const;

export const errorCodeSchema = z.enum(ERROR_CODES);
export type ErrorCode = z.infer<typeof errorCodeSchema>;

/** The one error envelope of the API (docs/api.md): `{ error: { code, message, requestId, details? } }`. */
export const errorBodySchema = z.object({
  error: z.object({
    code: errorCodeSchema,
    message: z.string(),
    requestId: z.string(),
    details: z.unknown().optional(),
  }),
});
export type ErrorBody = z.infer<typeof errorBodySchema>;

/** HTTP status each code maps to by default. */
export const ERROR_STATUS: Record<ErrorCode, number> = {
  BAD_REQUEST: 400,
  VALIDATION_FAILED: 422,
  INVALID_JSON: 400,
  JSON_TOO_COMPLEX: 400,
  UNAUTHENTICATED: 401,
  FORBIDDEN: 403,
  NOT_FOUND: 404,
  METHOD_NOT_ALLOWED: 405,
  CONFLICT: 409,
  PAYLOAD_TOO_LARGE: 413,
  UNSUPPORTED_MEDIA_TYPE: 415,
  RATE_LIMITED: 429,
  BUDGET_EXCEEDED: 429,
  LIMIT_EXCEEDED: 429,
  MODEL_UNAVAILABLE: 422,
  UPSTREAM_ERROR: 502,
  UPSTREAM_TIMEOUT: 504,
  SESSION_BUSY: 409,
  SESSION_PAUSED: 409,
  SESSION_ENDED: 409,
  ASSIGNMENT_NOT_OPEN: 409,
  ATTEMPTS_EXHAUSTED: 409,
  TICKET_INVALID: 401,
  USER_NOT_IN_REACH: 422,
  PROTOCOL_ERROR: 400,
  FRAME_TOO_LARGE: 413,
  MESSAGE_TOO_LONG: 413,
  SERVICE_UNAVAILABLE: 503,
  DATABASE_TIMEOUT: 503,
  DATABASE_UNAVAILABLE: 503,
  INTERNAL: 500,
};

/**
 * Domain error thrown by services and infrastructure; the HTTP and WebSocket layers map it to the
 * envelope once. `retryAfterSeconds` becomes a `Retry-After` header on 429/503.
 */
export class AppError extends Error {
  readonly code: ErrorCode;
  readonly status: number;
  readonly details: unknown;
  readonly retryAfterSeconds: number | undefined;
  constructor(code: ErrorCode, message: string, opts: { details?: unknown; status?: number; retryAfterSeconds?: number; cause?: unknown } = {}) {
    super(message, { cause: opts.cause });
    this.name = new.target.name;
    this.code = code;
    this.status = opts.status ?? ERROR_STATUS[code];
    this.details = opts.details;
    this.retryAfterSeconds = opts.retryAfterSeconds;
  }
}

export class NotFoundError extends AppError {
  constructor(what: string, details?: unknown) {
    super("NOT_FOUND", `${what} not found`, { details });
  }
}
export class ForbiddenError extends AppError {
  constructor(message = "You may not do this", details?: unknown) {
    super("FORBIDDEN", message, { details });
  }
}
export class UnauthenticatedError extends AppError {
  constructor(message = "Authentication required", details?: unknown) {
    super("UNAUTHENTICATED", message, { details });
  }
}
export class ConflictError extends AppError {
  constructor(message: string, details?: unknown, code: ErrorCode = "CONFLICT") {
    super(code, message, { details });
  }
}
export class ValidationError extends AppError {
  constructor(message: string, details?: unknown) {
    super("VALIDATION_FAILED", message, { details });
  }
}
export class LimitExceededError extends AppError {
  constructor(message: string, opts: { retryAfterSeconds: number; details?: unknown; code?: ErrorCode }) {
    super(opts.code ?? "RATE_LIMITED", message, {
      retryAfterSeconds: opts.retryAfterSeconds,
      details: opts.details,
    });
  }
}

/** How long clients are told to wait when shared infrastructure (Redis) is briefly unreachable. */
export const UNAVAILABLE_RETRY_AFTER_SECONDS = 2;

/**
 * 503: a dependency the request needs is unreachable right now and nothing was changed; retry
 * after `retryAfterSeconds` (sent as `Retry-After` and in `details`, so REST and WebSocket
 * clients read it from the same place).
 */
export class ServiceUnavailableError extends AppError {
  constructor(message: string, opts: { retryAfterSeconds?: number; cause?: unknown } = {}) {
    const retryAfterSeconds = opts.retryAfterSeconds ?? UNAVAILABLE_RETRY_AFTER_SECONDS;
    super("SERVICE_UNAVAILABLE", message, { retryAfterSeconds, details: { retryAfterSeconds }, cause: opts.cause });
  }
}

// Replies that mean "Redis cannot serve right now" rather than "this command is wrong".
const UNAVAILABLE_REPLIES = /^(LOADING|READONLY|MASTERDOWN|BUSY|CLUSTERDOWN|TRYAGAIN|NOREPLICAS)\b/;

/**
 * True when a failure from a Redis client means the server is unreachable or unable to serve
 * (connection closed, command refused while offline, command timeout, failover replies); false
 * for errors in the command itself and for domain errors, which must surface as they are.
 */
export function isRedisUnavailable(error: unknown): boolean {
  if (error instanceof AppError) return false;
  if (!(error instanceof Error)) return true;
  if (error.name === "ReplyError") return UNAVAILABLE_REPLIES.test(error.message);
  return true;
}

/**
 * A statement ran past the database's time limit (Postgres `statement_timeout` / `lock_timeout`,
 * or the embedded database's watchdog) and was cancelled. The request may be retried.
 */
export class DatabaseTimeoutError extends AppError {
  constructor(message = "The database did not answer in time", opts: { cause?: unknown } = {}) {
    super("DATABASE_TIMEOUT", message, { retryAfterSeconds: 2, cause: opts.cause });
  }
}

/** The database cannot take statements right now (connection lost, restarting, crashed). */
export class DatabaseUnavailableError extends AppError {
  constructor(message = "The database is unavailable", opts: { cause?: unknown; retryAfterSeconds?: number } = {}) {
    super("DATABASE_UNAVAILABLE", message, { retryAfterSeconds: opts.retryAfterSeconds ?? 2, cause: opts.cause });
  }
}
