import type { App } from "./app.ts";
import type { AppDeps } from "./deps.ts";
import { bunWebSocket } from "./realtime/bun.ts";

/**
 * Bun's own request-body ceiling. Bun answers a body past `maxRequestBodySize` itself, with an
 * empty 413 that skips the error envelope, before the app sees the request. Every route bounds
 * its own body and refuses by Content-Length before reading (the JSON body limit, the streamed
 * theme upload, the dev model's cap), so Bun's ceiling is set where it never answers first.
 */
export const BUN_MAX_REQUEST_BODY_BYTES = Number.MAX_SAFE_INTEGER;

/** What `Bun.serve` needs besides where to listen; server.ts and the real-socket tests share it. */
export function bunServeOptions(app: App, deps: AppDeps) {
  return {
    fetch: app.fetch,
    websocket: bunWebSocket(app.realtime, deps),
    maxRequestBodySize: BUN_MAX_REQUEST_BODY_BYTES,
  };
}
