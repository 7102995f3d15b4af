import type { GatewayClient } from "@raptscallions/gateway";

/**
 * A gateway client built on first use. The embedded dev model is served by this same server, whose
 * port is only known after `Bun.serve` (PORT=0 picks one), while the app and its AI service are
 * built before it: the real client is created when the first generation starts.
 */
export function lazyGatewayClient(build: () => GatewayClient): GatewayClient {
  let client: GatewayClient | null = null;
  return {
    streamChat(request) {
      client ??= build();
      return client.streamChat(request);
    },
  };
}
