import { type MessageDto, seededRandom } from "@raptscallions/core";
import { type ClientOptions, createClient, type RealtimeClient } from "../src/index.ts";
import { tokenFor } from "../../../apps/api/test/helpers/auth.ts";
import type { Deployment } from "../../../apps/api/test/helpers/deployment.ts";
import { eventually as pollUntil } from "@raptscallions/core/testing";
import type { Instance } from "../../../apps/api/test/helpers/live.ts";

/** A deterministic PRNG, so a failing run of the random cuts can be replayed by seed. */
export const seeded = seededRandom;

/** The API tests' `eventually`, with the client suites' longer default (reconnects under load take seconds). */
export function eventually<T>(check: () => T | undefined | null | false | Promise<T | undefined | null | false>, what: string, timeoutMs = 15_000): Promise<T> {
  return pollUntil(check, what, timeoutMs);
}

/**
 * Routes the client to whichever instance is `alive()` — what a load balancer does — so a test
 * can stop an instance and watch the client land on another. Rewrites REST and socket URLs.
 */
export function routed(alive: () => Instance) {
  const origin = "http://api.invalid";
  const doFetch = ((input: RequestInfo | URL, init?: RequestInit) => fetch(String(input).replace(origin, alive().baseUrl), init)) as typeof fetch;
  return { baseUrl: origin, fetch: doFetch, rewriteWs: (url: string) => url.replace("ws://api.invalid", alive().wsUrl) };
}

/** Hooks into every socket the client opens: count cuts, close on a condition. */
export interface SocketTap {
  sockets: WebSocket[];
  /** "swallow": the client never sees this frame (as if the connection died while it was in flight). */
  // biome-ignore lint/suspicious/noConfusingVoidType: a tap that returns nothing lets the frame through
  onMessage?: (ws: WebSocket, data: string) => void | "swallow";
  onSend?: (ws: WebSocket, data: string) => "pass" | "drop" | "pass-then-close";
}

export function tappedWebSocket(tap: SocketTap, rewrite: (url: string) => string = (u) => u) {
  return class TappedWebSocket extends WebSocket {
    constructor(url: string) {
      super(rewrite(url));
      tap.sockets.push(this);
      // Registered before the client's own listener, so it can hide a frame from it.
      this.addEventListener("message", (ev) => {
        if (tap.onMessage?.(this, String(ev.data)) === "swallow") ev.stopImmediatePropagation();
      });
    }

    override send(data: string | ArrayBufferLike | Blob | ArrayBufferView) {
      const verdict = tap.onSend?.(this, String(data)) ?? "pass";
      if (verdict === "drop") return;
      super.send(data);
      if (verdict === "pass-then-close") this.close();
    }
  };
}

/**
 * Returns `track(client)`: the clients it is given are disconnected before the deployment's
 * instances stop, so no client is left reconnecting to a stopped instance.
 */
export function trackClients(d: Deployment): (client: RealtimeClient) => RealtimeClient {
  const clients: RealtimeClient[] = [];
  d.beforeStop(() => {
    for (const c of clients) c.disconnect();
  });
  return (client) => {
    clients.push(client);
    return client;
  };
}

export function clientFor(user: { clerkUserId: string | null }, options: Partial<ClientOptions> & { baseUrl: string }): RealtimeClient {
  return createClient({
    getToken: () => tokenFor(user),
    backoff: { initialMs: 20, maxMs: 200 },
    ...options,
  });
}

export function onlyOnce(messages: MessageDto[], id: string): MessageDto {
  const found = messages.filter((m) => m.id === id);
  if (found.length !== 1) throw new Error(`message ${id} held ${found.length} times`);
  return found[0] as MessageDto;
}
