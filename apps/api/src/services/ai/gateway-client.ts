import { createGatewayClient, createModerationClient, type GatewayClient, type ModerationClient } from "@raptscallions/gateway";
import { lazyGatewayClient } from "./lazy-client.ts";

/** Gateway settings from the environment (AI_GATEWAY_URL, AI_API_KEY, AI_*_TIMEOUT_MS, AI_MAX_RETRIES). */
export interface GatewayConfig {
  /** A remote OpenAI-compatible gateway; absent = the dev model this server embeds at `/v1`. */
  gatewayUrl?: string | undefined;
  /** The remote gateway's key, or the embedded dev model's per-process key. */
  apiKey?: string | undefined;
  firstTokenTimeoutMs: number;
  idleTimeoutMs: number;
  maxRetries: number;
}

/**
 * The gateway client: the remote gateway when configured, else this server's own `/v1` over HTTP,
 * exactly as a remote gateway is reached (same client, same parsing, same time-outs). The
 * embedded URL is asked for on first use, after the server is listening.
 */
export function buildGatewayClient(config: GatewayConfig, embeddedBaseUrl: () => string): GatewayClient {
  const common = {
    firstTokenTimeoutMs: config.firstTokenTimeoutMs,
    idleTimeoutMs: config.idleTimeoutMs,
    maxRetries: config.maxRetries,
    retryBaseMs: 250,
  };
  if (config.gatewayUrl) {
    const baseUrl = config.gatewayUrl;
    // OpenRouter's attribution headers; other gateways ignore them.
    return createGatewayClient({ ...common, baseUrl, apiKey: config.apiKey, headers: { "X-Title": "raptscallions" } });
  }
  return lazyGatewayClient(() => createGatewayClient({ ...common, baseUrl: embeddedBaseUrl(), apiKey: config.apiKey }));
}

/**
 * The moderation client on the same gateway as the chat client: the remote gateway when
 * configured, else this server's own `/v1` (the dev model's deterministic test double).
 */
export function buildModerationClient(config: GatewayConfig, embeddedBaseUrl: () => string): ModerationClient {
  if (config.gatewayUrl) {
    return createModerationClient({ baseUrl: config.gatewayUrl, apiKey: config.apiKey, headers: { "X-Title": "raptscallions" } });
  }
  let client: ModerationClient | null = null;
  return {
    moderate(request) {
      // Built on first use: the embedded URL is known only once the server listens.
      client ??= createModerationClient({ baseUrl: embeddedBaseUrl(), apiKey: config.apiKey });
      return client.moderate(request);
    },
  };
}

/**
 * Base URL of the dev model embedded in a server listening on `host:port`. A wildcard bind
 * (0.0.0.0, ::) is reached on loopback; a specific address on itself.
 */
export function embeddedGatewayUrl(host: string, port: number): string {
  const wildcard = host === "" || host === "0.0.0.0" || host === "::" || host === "[::]";
  const address = wildcard ? "127.0.0.1" : host.includes(":") && !host.startsWith("[") ? `[${host}]` : host;
  return `http://${address}:${port}/v1`;
}
