import type { MiddlewareHandler } from "hono";
import { routePath } from "hono/route";
import type { AppDeps, AppEnv } from "../deps.ts";
import type { AnswerRunner } from "../lib/ai-service.ts";

const INCOMING_ID = /^[A-Za-z0-9._:-]{8,128}$/;

/**
 * Request id (a well-formed incoming `x-request-id` is kept so traces join up across services),
 * echoed as a header; then one JSON log line and the route metrics per request.
 */
export function requestContext(deps: AppDeps, runner: AnswerRunner): MiddlewareHandler<AppEnv> {
  return async (c, next) => {
    const started = performance.now();
    const incoming = c.req.header("x-request-id");
    const requestId = incoming && INCOMING_ID.test(incoming) ? incoming : deps.ids.uuid();
    c.set("requestId", requestId);
    c.set("deps", deps);
    c.set("runner", runner);
    await next();
    // WebSocket upgrades hand back Bun's 101 response whose headers are immutable.
    if (c.res.status !== 101) c.res.headers.set("x-request-id", requestId);
    const status = c.res.status;
    const seconds = (performance.now() - started) / 1000;
    const route = matchedRoute(c);
    deps.metrics.httpRequests.inc({ method: c.req.method, route, status: String(status) });
    deps.metrics.httpDuration.observe({ method: c.req.method, route, status: String(status) }, seconds);
    deps.logger.info("request", {
      requestId,
      method: c.req.method,
      path: c.req.path,
      route,
      status,
      ms: Math.round(seconds * 10_000) / 10,
    });
  };
}

function matchedRoute(c: Parameters<MiddlewareHandler<AppEnv>>[0]): string {
  // Label by pattern, never by raw path, so ids do not explode metric cardinality.
  try {
    const pattern = routePath(c, -1);
    return pattern === "*" || pattern === "/*" ? "unmatched" : pattern;
  } catch {
    return "unmatched";
  }
}
