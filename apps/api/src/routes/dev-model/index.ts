import { createDevModelApp } from "@raptscallions/gateway";
import { Hono } from "hono";
import { bodyLimit } from "hono/body-limit";

/** Where the dev model is mounted; requests under it skip the JSON API's body limit. */
export const DEV_MODEL_PREFIX = "/v1";

/**
 * A chat request carries the whole conversation, which can outgrow the API's JSON body limit long
 * before the model's context window (16k tokens ≈ 64 kB of text). The dev model gets its own cap.
 */
export const DEV_MODEL_BODY_LIMIT_BYTES = 4 * 1024 * 1024;

/** True for requests the embedded dev model answers (only when it is mounted). */
export function isDevModelRequest(config: { devModel?: unknown }, path: string): boolean {
  return config.devModel !== undefined && (path === DEV_MODEL_PREFIX || path.startsWith(`${DEV_MODEL_PREFIX}/`));
}

/**
 * The built-in OpenAI-compatible dev model, served by the API itself when no AI_GATEWAY_URL is
 * set. No auth: it answers canned tutor replies and costs nothing; production (a remote gateway)
 * never mounts it. The gateway client reaches it over HTTP like any remote gateway.
 */
export function devModelRoutes(opts: { tokensPerSecond: number }) {
  const app = new Hono();
  app.use(
    "*",
    bodyLimit({
      maxSize: DEV_MODEL_BODY_LIMIT_BYTES,
      // OpenAI's error shape, since the callers of these routes are OpenAI clients.
      onError: (c) =>
        c.json({ error: { message: "Request body too large", type: "invalid_request_error", param: null, code: null } }, 413),
    }),
  );
  app.route("/", createDevModelApp({ tokensPerSecond: opts.tokensPerSecond }));
  return app;
}
