import postgres from "postgres";

/**
 * A lane's wait after its connection failed. postgres-js under Bun: a statement handed to a
 * connection between its socket's `error` and `close` events is neither sent nor failed (the close
 * handler fails the queue only on a clean close), so it would wait forever. A lane whose statement
 * failed on the connection is therefore given no statement until its connection has closed
 * (postgres-js then reconnects for the next one), or RESET_WAIT_MS passed, should the close have
 * come before the error reached the lane. This narrows the hang, it does not close it: a statement
 * still hangs now and then in the reconnect after such a close (docs/database.md).
 */
export interface LaneReset {
  /** Pending while the lane's connection is being reset; null otherwise. */
  readonly pending: Promise<void> | null;
  /** A statement failed: when it was the connection that failed, wait for its close. */
  failed(error: unknown): void;
  /** The connection closed (postgres-js `onclose`). */
  closed(): void;
}

const RESET_WAIT_MS = 250;

/**
 * A failure of the connection rather than of a statement: postgres-js' own connection errors
 * (`CONNECTION_CLOSED`, `CONNECT_TIMEOUT`…), the socket's (`ECONNRESET`, `EPIPE`…), or a FATAL
 * from the server (its backend ended). Looked for under drizzle's wrapper too.
 */
export function connectionFailed(error: unknown): boolean {
  for (let e = error, depth = 0; e && typeof e === "object" && depth < 3; e = (e as { cause?: unknown }).cause, depth += 1) {
    if (e instanceof postgres.PostgresError) return e.severity === "FATAL" || e.severity === "PANIC";
    const code = (e as { code?: unknown }).code;
    if (typeof code === "string" && (code.startsWith("CONNECT") || /^E[A-Z]+$/.test(code))) return true;
  }
  return false;
}

export function laneReset(): LaneReset {
  let pending: Promise<void> | null = null;
  let finish = () => {};
  return {
    get pending() {
      return pending;
    },
    failed(error) {
      if (pending || !connectionFailed(error)) return;
      let timer: ReturnType<typeof setTimeout> | undefined;
      pending = new Promise<void>((resolve) => {
        finish = () => {
          clearTimeout(timer);
          pending = null;
          finish = () => {};
          resolve();
        };
      });
      timer = setTimeout(() => finish(), RESET_WAIT_MS);
    },
    closed() {
      finish();
    },
  };
}
