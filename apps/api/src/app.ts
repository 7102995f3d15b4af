import { Hono } from "hono";
import { bodyLimit } from "hono/body-limit";
import { secureHeaders } from "hono/secure-headers";
import type { AppDeps, AppEnv } from "./deps.ts";
import { errorResponse, mapError } from "./http/errors.ts";
import { refuseUnstorableUrlText } from "./http/validate.ts";
import { apiCors } from "./middleware/cors.ts";
import { allowedMethodsIndex } from "./middleware/method-not-allowed.ts";
import { requestContext } from "./middleware/request-context.ts";
import { DEV_MODEL_PREFIX, devModelRoutes, isDevModelRequest } from "./routes/dev-model/index.ts";
import { healthRoutes } from "./routes/health/index.ts";
import { usageRoutes } from "./routes/usage/index.ts";
import { meRoutes } from "./routes/me/index.ts";
import { ticketRoutes, websocketRoute } from "./routes/realtime/index.ts";
import { sessionRoutes } from "./routes/sessions/index.ts";
import { createRealtimeRuntime, type RealtimeRuntime } from "./realtime/runtime.ts";
import type { StudentMessageGate } from "./services/modules/hooks.ts";
import { isThemeAssetUpload, themeRoutes } from "./routes/themes/index.ts";
import { isRosterBundleUpload } from "./routes/roster/bundle-body.ts";
import { rosterRoutes } from "./routes/roster/index.ts";
import { ABORT_RETRIES, isWebhookDelivery, webhookRoutes } from "./routes/webhooks/index.ts";
import { groupRoutes } from "./routes/groups/index.ts";
import { docsRoutes } from "./routes/docs/index.ts";
import { classRoutes } from "./routes/classes/index.ts";
import { toolRoutes } from "./routes/tools/index.ts";
import { alertRoutes } from "./routes/alerts/index.ts";
import { notificationRoutes } from "./routes/notifications/index.ts";
import { createAnswerHook, createModuleGate } from "./services/modules/index.ts";
import { assignmentRoutes } from "./routes/assignments/index.ts";
import { submissionRoutes } from "./routes/submissions/index.ts";
import { aiAdminRoutes } from "./routes/ai/index.ts";
import { auditRoutes } from "./routes/audit/index.ts";
import { privacyRoutes } from "./routes/privacy/index.ts";
import { transcriptRoutes } from "./routes/transcripts/index.ts";
import { runRoutes } from "./routes/runs/index.ts";
import { CONSOLE_PREFIX, consoleRoutes } from "./routes/console/index.ts";
import { devRoutes } from "./routes/dev/index.ts";
import { insightRoutes } from "./routes/insights/index.ts";
import { insightsConfigOf } from "./lib/insights-config.ts";
import { createAttentionTracker, observeClassEvents } from "./services/insights/attention-tracker.ts";
import { createCpuSlices } from "./lib/cpu-slices.ts";

export type { AppDeps, AppEnv } from "./deps.ts";

/**
 * Builds the API from injected dependencies. Web-standard only: it never starts a server and
 * never reads the environment (server.ts does both).
 */
export function createApp(baseDeps: AppDeps, options: { gate?: StudentMessageGate } = {}) {
  const app = new Hono<AppEnv>();
  // The attention list is recomputed on the class-room events that can change it, heard on the
  // way out of the bus; it publishes on the plain bus (its own event triggers nothing).
  const attention = createAttentionTracker(
    { db: baseDeps.db.db, bus: baseDeps.bus, kv: baseDeps.kv, logger: baseDeps.logger, clock: baseDeps.clock },
    insightsConfigOf(baseDeps.config),
  );
  const deps: AppDeps = { ...baseDeps, bus: observeClassEvents(baseDeps.bus, (classId) => attention.touch(classId)) };
  // Content modules are on by default; tests may pass their own gate.
  const gate = options.gate ?? createModuleGate({ moderation: deps.moderation, slices: createCpuSlices({ budgetMs: deps.config.live.turnSliceMs }) });
  // The system scope (row-level security): the hook runs for the runner, after the request.
  const onAnswerFinished = createAnswerHook({ db: deps.db.db, bus: deps.bus, logger: deps.logger, clock: deps.clock });
  const runtime = createRealtimeRuntime(deps, gate, { onAnswerFinished });
  const realtime: RealtimeRuntime = {
    ...runtime,
    async shutdown(graceMs?: number) {
      attention.stop();
      await runtime.shutdown(graceMs);
      await attention.settle();
    },
  };

  app.use("*", requestContext(deps, realtime.runner));
  app.use(
    "*",
    secureHeaders({
      // A handler that sets its own policy (served assets, the docs page) keeps it.
      overwrite: false,
      contentSecurityPolicy: { defaultSrc: ["'none'"], frameAncestors: ["'none'"] },
      crossOriginResourcePolicy: "same-site",
    }),
  );
  // CORS rewrites headers, which throws on a WebSocket upgrade response ("immutable headers"), so /ws is left out.
  app.use(
    "/api/*",
    apiCors({
      origins: deps.config.corsOrigins,
      allowHeaders: ["authorization", "content-type", "x-request-id"],
      exposeHeaders: ["x-request-id", "retry-after"],
      maxAgeSeconds: 600,
    }),
  );
  const jsonBodyLimit = bodyLimit({
    maxSize: deps.config.bodyLimitBytes,
    // Svix would retry an oversize delivery for days, and it can never fit: ask it to stop.
    onError: (c) =>
      errorResponse(
        c,
        413,
        "PAYLOAD_TOO_LARGE",
        `Request body exceeds ${deps.config.bodyLimitBytes} bytes`,
        undefined,
        isWebhookDelivery(c.req.path) ? ABORT_RETRIES : undefined,
      ),
  });
  // Theme asset uploads enforce their own uploadLimitBytes while streaming (routes/themes), roster
  // bundle uploads their own limit (routes/roster).
  // The embedded dev model caps its own (larger) chat bodies (routes/dev-model). A request without
  // a body (every GET, a ticket request) has nothing to limit: bodyLimit would pass it on too, from
  // an async frame of its own.
  app.use("*", (c, next) =>
    isThemeAssetUpload(c.req.method, c.req.path) || isRosterBundleUpload(c.req.method, c.req.path) || isDevModelRequest(deps.config, c.req.path) || !c.req.raw.body
      ? next()
      : jsonBodyLimit(c, next),
  );
  // Bodies are checked by each route's jsonBody; URLs here, once for every route.
  app.use("*", refuseUnstorableUrlText);

  app.route("/", healthRoutes());
  app.route("/api/me", meRoutes());
  // ROUTES: one app.route() line per resource, in this block.
  app.route("/api/sessions", sessionRoutes(realtime, gate));
  app.route("/api/realtime", ticketRoutes(realtime));
  app.route("/", websocketRoute(realtime));
  if (deps.config.devModel) app.route(DEV_MODEL_PREFIX, devModelRoutes(deps.config.devModel));
  app.route("/api/usage", usageRoutes());
  app.route("/api", themeRoutes());
  app.route("/api/webhooks", webhookRoutes({ concurrency: deps.config.clerkWebhookConcurrency }));
  app.route("/api/groups", groupRoutes());
  // The console's static pages are not API operations: they stay out of the document.
  const isConsole = (path: string) => path === CONSOLE_PREFIX || path.startsWith(`${CONSOLE_PREFIX}/`);
  app.route(
    "/",
    docsRoutes(() => app.routes.filter((r) => !isConsole(r.path))),
  );
  app.route("/api/classes", classRoutes());
  app.route("/api/tools", toolRoutes());
  app.route("/api/alerts", alertRoutes());
  app.route("/api/notifications", notificationRoutes());
  app.route("/api", assignmentRoutes());
  app.route("/api", submissionRoutes());
  app.route("/api", aiAdminRoutes());
  app.route("/api/audit", auditRoutes());
  app.route("/api/privacy", privacyRoutes());
  app.route("/api/transcripts", transcriptRoutes());
  app.route("/api/runs", runRoutes());
  app.route("/api", rosterRoutes());
  app.route("/api", insightRoutes());
  // Never with Clerk: dev sign-in mints tokens only the dev key verifies.
  const devSignIn = deps.devSignIn && deps.auth.mode === "dev" ? deps.devSignIn : undefined;
  if (devSignIn) app.route("/api/dev", devRoutes(devSignIn));
  if (deps.console) app.route(CONSOLE_PREFIX, consoleRoutes(deps.console, { devSignIn: devSignIn !== undefined }));

  const allowedMethods = allowedMethodsIndex(app);
  app.notFound((c) => {
    const allowed = allowedMethods(c.req.path);
    if (allowed.length > 0 && !allowed.includes(c.req.method)) {
      return errorResponse(
        c,
        405,
        "METHOD_NOT_ALLOWED",
        `${c.req.method} is not allowed here`,
        { allowed },
        {
          allow: allowed.join(", "),
        },
      );
    }
    return errorResponse(c, 404, "NOT_FOUND", `No route for ${c.req.method} ${c.req.path}`);
  });
  app.onError((err, c) => mapError(err, c));

  return Object.assign(app, { realtime, attention });
}

export type App = ReturnType<typeof createApp>;
