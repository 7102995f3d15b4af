import { AppError } from "@raptscallions/core";

/** The codes a {@link GatewayError} can carry. */
export type GatewayErrorCode = "UPSTREAM_ERROR" | "UPSTREAM_TIMEOUT" | "RATE_LIMITED" | "MODEL_UNAVAILABLE";

/** One upstream attempt, as recorded in `GatewayError.details.attempts` and `ChatStream.attempts`. */
export interface AttemptRecord {
  model: string;
  /** HTTP status of the upstream answer, when one arrived. */
  status: number | null;
  /** `null` for the attempt that succeeded (or was aborted by the caller). */
  code: GatewayErrorCode | null;
  message: string | null;
  /** What the client did next: retried the same model, fell back to the next, or stopped. */
  next: "retry" | "fallback" | "stop";
}

/**
 * Failure of a streamed chat completion. `afterFirstToken` tells the caller whether part of an
 * answer was already delivered (then the text so far is in `ChatStream.text`).
 */
export class GatewayError extends AppError {
  readonly gatewayCode: GatewayErrorCode;
  readonly model: string | null;
  readonly upstreamStatus: number | null;
  readonly afterFirstToken: boolean;
  constructor(
    code: GatewayErrorCode,
    message: string,
    opts: {
      model: string | null;
      upstreamStatus?: number | null;
      afterFirstToken?: boolean;
      retryAfterSeconds?: number;
      details?: unknown;
      cause?: unknown;
    },
  ) {
    super(code, message, {
      details: opts.details,
      retryAfterSeconds: opts.retryAfterSeconds,
      cause: opts.cause,
    });
    this.gatewayCode = code;
    this.model = opts.model;
    this.upstreamStatus = opts.upstreamStatus ?? null;
    this.afterFirstToken = opts.afterFirstToken ?? false;
  }
}

/** True for the reason an aborted `fetch`/`AbortSignal` rejects with by default. */
export function isAbortError(err: unknown): boolean {
  return err instanceof Error && (err.name === "AbortError" || err.name === "TimeoutError");
}
