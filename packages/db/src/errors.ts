import { AppError, DatabaseTimeoutError, DatabaseUnavailableError } from "@raptscallions/core";

// SQLSTATEs that mean "the statement was cut short by a time limit": 57014 query_canceled (what
// statement_timeout raises), 55P03 lock_not_available (lock_timeout).
const TIMEOUT_STATES = new Set(["57014", "55P03"]);
// The session or the server went away under the statement: 25P03 idle_in_transaction_session_timeout,
// 57P01–57P03 admin/crash shutdown and "cannot connect now", 53300 too many connections, class 08
// connection exceptions.
const UNAVAILABLE_STATES = new Set(["25P03", "57P01", "57P02", "57P03", "53300"]);
// postgres-js reports lost connections with its own codes, and sockets with errno names.
const UNAVAILABLE_CLIENT_CODES = new Set([
  "CONNECTION_CLOSED",
  "CONNECTION_ENDED",
  "CONNECTION_DESTROYED",
  "CONNECT_TIMEOUT",
  "ECONNREFUSED",
  "ECONNRESET",
  "ETIMEDOUT",
  "EPIPE",
]);

/**
 * Recognises a failed query that is the database's fault rather than the request's — a time limit
 * hit or a connection lost — and returns it as a 503 domain error (`DATABASE_TIMEOUT` /
 * `DATABASE_UNAVAILABLE`). Drizzle wraps the driver's error in `cause`, so the chain is walked.
 * Anything else returns undefined and stays an internal error.
 */
export function databaseErrorFrom(err: unknown): AppError | undefined {
  for (let e: unknown = err, depth = 0; e && typeof e === "object" && depth < 5; depth += 1) {
    if (e instanceof AppError) return e.code === "DATABASE_TIMEOUT" || e.code === "DATABASE_UNAVAILABLE" ? e : undefined;
    const code = "code" in e && typeof e.code === "string" ? e.code : undefined;
    if (code && TIMEOUT_STATES.has(code)) {
      return new DatabaseTimeoutError(code === "55P03" ? "A database lock was not granted in time" : "The database statement took too long and was cancelled", {
        cause: err,
      });
    }
    if (code && (UNAVAILABLE_STATES.has(code) || code.startsWith("08") || UNAVAILABLE_CLIENT_CODES.has(code))) {
      return new DatabaseUnavailableError("The database connection was lost", { cause: err });
    }
    e = "cause" in e ? e.cause : undefined;
  }
  return undefined;
}
