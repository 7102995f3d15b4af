import { RosterSourceError } from "../source.ts";

export type FetchLike = (input: string, init: RequestInit) => Promise<Response>;

export interface RetryPolicy {
  /** Attempts after the first for 429, 5xx, network errors and time-outs. Default 3. */
  retries: number;
  /** First back-off; doubled each attempt, with jitter. Default 250 ms. */
  baseDelayMs: number;
  /** Longest wait, also for a server's `Retry-After`. Default 10 s. */
  maxDelayMs: number;
  /** Per request. Default 30 s. */
  timeoutMs: number;
  sleep: (ms: number, signal?: AbortSignal) => Promise<void>;
}

export const DEFAULT_RETRY: RetryPolicy = {
  retries: 3,
  baseDelayMs: 250,
  maxDelayMs: 10_000,
  timeoutMs: 30_000,
  sleep: (ms, signal) =>
    new Promise((resolve, reject) => {
      if (signal?.aborted) return reject(signal.reason);
      const timer = setTimeout(resolve, ms);
      signal?.addEventListener(
        "abort",
        () => {
          clearTimeout(timer);
          reject(signal.reason);
        },
        { once: true },
      );
    }),
};

const retryable = (status: number) => status === 429 || status >= 500;

/**
 * One HTTP exchange with bounded retries. Answers that are not worth retrying (2xx, 4xx other than
 * 429) come back as they are; a server that keeps failing or cannot be reached becomes
 * `RosterSourceError("unreachable")`. An abort from the caller's own signal is rethrown as is.
 */
export async function fetchWithRetry(fetchImpl: FetchLike, url: string, init: RequestInit, policy: RetryPolicy, signal: AbortSignal | undefined): Promise<Response> {
  let lastProblem = "";
  for (let attempt = 0; ; attempt += 1) {
    let response: Response | null = null;
    const timeout = AbortSignal.timeout(policy.timeoutMs);
    try {
      response = await fetchImpl(url, { ...init, signal: signal ? AbortSignal.any([signal, timeout]) : timeout });
      if (response.ok) {
        // The body is read inside the attempt: a connection that drops or stalls mid-body is
        // retried like one that never answered, not mistaken for a malformed page.
        const body = await response.arrayBuffer();
        return new Response(body, { status: response.status, headers: response.headers });
      }
    } catch (error) {
      response = null;
      if (signal?.aborted) throw signal.reason;
      lastProblem = timeout.aborted ? `no answer within ${policy.timeoutMs} ms` : describeNetworkError(error);
    }
    if (response && !retryable(response.status)) return response;
    if (response) {
      lastProblem = `HTTP ${response.status}`;
      await response.body?.cancel().catch(() => undefined);
    }
    if (attempt >= policy.retries) {
      throw new RosterSourceError("unreachable", `${redact(url)}: ${lastProblem} after ${attempt + 1} attempts`);
    }
    const backoff = Math.min(policy.maxDelayMs, policy.baseDelayMs * 2 ** attempt * (0.5 + Math.random() / 2));
    const retryAfter = response ? retryAfterMs(response.headers.get("retry-after")) : null;
    await policy.sleep(Math.min(policy.maxDelayMs, retryAfter ?? backoff), signal);
  }
}

function retryAfterMs(header: string | null): number | null {
  if (header === null) return null;
  const seconds = Number(header);
  if (Number.isFinite(seconds) && seconds >= 0) return seconds * 1000;
  const date = Date.parse(header);
  return Number.isNaN(date) ? null : Math.max(0, date - Date.now());
}

function describeNetworkError(error: unknown): string {
  return error instanceof Error ? error.message : "network error";
}

/** Query strings are kept out of error messages: they are logged in run reports. */
function redact(url: string): string {
  const query = url.indexOf("?");
  return query === -1 ? url : url.slice(0, query);
}
