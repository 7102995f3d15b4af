import { Hono } from "hono";
import { bodyLimit } from "hono/body-limit";
import { cors } from "hono/cors";
import { secureHeaders } from "hono/secure-headers";
import type { AppDeps, AppEnv } from "./deps.ts";
import { errorResponse, mapError } from "./http/errors.ts";
import { allowedMethodsIndex } from "./middleware/method-not-allowed.ts";
import { requestContext } from "./middleware/request-context.ts";
import { healthRoutes } from "./routes/health/index.ts";
import { meRoutes } from "./routes/me/index.ts";

export type { AppDeps, AppEnv } from "./deps.ts";

/**
 * Builds the API from injected dependencies. Web-standard only: it never starts a server and
 * never reads the environment (server.ts does both).
 */
export function createApp(deps: AppDeps) {
  const app = new Hono<AppEnv>();

  app.use("*", requestContext(deps));
  app.use(
    "*",
    secureHeaders({
      contentSecurityPolicy: { defaultSrc: ["'none'"], frameAncestors: ["'none'"] },
      crossOriginResourcePolicy: "same-site",
    }),
  );
  // CORS rewrites headers, which throws on a WebSocket upgrade response (GOTCHAS.md), so /ws is left out.
  const corsMiddleware = cors({
    origin: deps.config.corsOrigins,
    credentials: true,
    allowHeaders: ["authorization", "content-type", "x-request-id"],
    exposeHeaders: ["x-request-id", "retry-after"],
    maxAge: 600,
  });
  app.use("/api/*", corsMiddleware);
  app.use(
    "*",
    bodyLimit({
      maxSize: deps.config.bodyLimitBytes,
      onError: (c) =>
        errorResponse(c, 413, "PAYLOAD_TOO_LARGE", `Request body exceeds ${deps.config.bodyLimitBytes} bytes`),
    }),
  );

  app.route("/", healthRoutes());
  app.route("/api/me", meRoutes());
  // ROUTES: one app.route() line per resource, in this block.

  const allowedMethods = allowedMethodsIndex(app);
  app.notFound((c) => {
    const allowed = allowedMethods(c.req.path);
    if (allowed.length > 0 && !allowed.includes(c.req.method)) {
      return errorResponse(c, 405, "METHOD_NOT_ALLOWED", `${c.req.method} is not allowed here`, { allowed }, {
        allow: allowed.join(", "),
      });
    }
    return errorResponse(c, 404, "NOT_FOUND", `No route for ${c.req.method} ${c.req.path}`);
  });
  app.onError((err, c) => mapError(err, c));

  return app;
}

export type App = ReturnType<typeof createApp>;
