import type { MiddlewareHandler } from "hono";
import { cors } from "hono/cors";

export interface ApiCorsOptions {
  /** Origins allowed to read responses with credentials (exact matches). */
  origins: readonly string[];
  allowHeaders: string[];
  exposeHeaders: string[];
  maxAgeSeconds: number;
}

/**
 * CORS for the API: hono/cors answers the preflights (`OPTIONS`); every other request gets the same
 * headers hono/cors would give it (allowed origin, credentials, exposed headers, `Vary: Origin`),
 * set on the response once the handler — or the error handler — has made it.
 *
 * hono/cors sets them before the handler runs, through `c.res`: Hono then builds a placeholder
 * response for it, copies the handler's response (its body as a new stream, its headers) into
 * another to carry them over, and copies it once more for the `Vary` header appended afterwards.
 * That was three `Response`s, two streams and three header lists per API request, ticket requests
 * included (bench/README.md, idle-heap.bench.ts). Setting the headers afterwards on the one
 * response keeps a single one, and error responses (4xx from validation, auth, the body limit,
 * the not-found and error handlers) carry them as before.
 */
export function apiCors(opts: ApiCorsOptions): MiddlewareHandler {
  const preflight = cors({
    origin: [...opts.origins],
    credentials: true,
    allowHeaders: opts.allowHeaders,
    exposeHeaders: opts.exposeHeaders,
    maxAge: opts.maxAgeSeconds,
  });
  const allowed = new Set(opts.origins);
  const expose = opts.exposeHeaders.join(",");
  return async (c, next) => {
    if (c.req.method === "OPTIONS") return preflight(c, next);
    await next();
    const res = c.res;
    // A WebSocket upgrade hands back Bun's 101 response, whose headers are immutable.
    if (res.status === 101) return;
    const origin = c.req.header("origin");
    const headers = res.headers;
    if (origin && allowed.has(origin)) headers.set("access-control-allow-origin", origin);
    headers.set("access-control-allow-credentials", "true");
    if (expose) headers.set("access-control-expose-headers", expose);
    headers.append("vary", "Origin");
  };
}
