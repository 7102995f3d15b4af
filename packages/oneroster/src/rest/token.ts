import { RosterSourceError } from "../source.ts";
import { type FetchLike, fetchWithRetry, type RetryPolicy } from "./http.ts";

export interface ClientCredentials {
  tokenUrl: string;
  clientId: string;
  clientSecret: string;
  /** Sent when not empty. */
  scope: string;
}

/**
 * OAuth 2 client-credentials tokens, cached until shortly before they expire. Concurrent readers
 * share one token request; a token the server refused is dropped so the next caller gets a new one.
 */
export class TokenCache {
  private token: { value: string; expiresAt: number } | null = null;
  private pending: Promise<string> | null = null;

  constructor(
    private readonly credentials: ClientCredentials,
    private readonly fetchImpl: FetchLike,
    private readonly policy: RetryPolicy,
    private readonly now: () => number,
  ) {}

  async get(signal?: AbortSignal): Promise<string> {
    if (this.token && this.now() < this.token.expiresAt) return this.token.value;
    this.pending ??= this.request(signal).finally(() => {
      this.pending = null;
    });
    return this.pending;
  }

  /** The server answered 401 to `value`: forget it (unless a newer one replaced it already). */
  refused(value: string): void {
    if (this.token?.value === value) this.token = null;
  }

  private async request(signal?: AbortSignal): Promise<string> {
    const { tokenUrl, clientId, clientSecret, scope } = this.credentials;
    const body = new URLSearchParams({ grant_type: "client_credentials" });
    if (scope !== "") body.set("scope", scope);
    const response = await fetchWithRetry(
      this.fetchImpl,
      tokenUrl,
      {
        method: "POST",
        headers: {
          // RFC 6749 §2.3.1: the client id and secret are form-encoded before Basic encoding.
          authorization: `Basic ${btoa(`${encodeURIComponent(clientId)}:${encodeURIComponent(clientSecret)}`)}`,
          "content-type": "application/x-www-form-urlencoded",
          accept: "application/json",
        },
        body,
      },
      this.policy,
      signal,
    );
    const payload: unknown = await response.json().catch(() => null);
    const fields = typeof payload === "object" && payload !== null ? (payload as Record<string, unknown>) : {};
    if (!response.ok) {
      const oauthError = typeof fields.error === "string" ? ` (${fields.error})` : "";
      const failure = [400, 401, 403].includes(response.status) ? "unauthorized" : "bad_response";
      throw new RosterSourceError(failure, `the token endpoint refused the client credentials: HTTP ${response.status}${oauthError}`);
    }
    if (typeof fields.access_token !== "string" || fields.access_token === "") {
      throw new RosterSourceError("bad_response", "the token endpoint answered without an access_token");
    }
    const lifetime = typeof fields.expires_in === "number" && fields.expires_in > 0 ? fields.expires_in : 3600;
    // Renew a little early so a token does not expire between our check and the server's.
    const margin = Math.min(60, lifetime / 10);
    this.token = { value: fields.access_token, expiresAt: this.now() + (lifetime - margin) * 1000 };
    return fields.access_token;
  }
}
