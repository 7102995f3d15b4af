import { createDevModelApp } from "@raptscallions/gateway";
import { Hono } from "hono";
import { bodyLimit } from "hono/body-limit";
import { timingSafeEqual } from "hono/utils/buffer";
import { describeRoute } from "../../openapi/index.ts";

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
 * set (never in production: server.ts refuses to start without a gateway there). The gateway
 * client reaches it over HTTP like any remote gateway, with a key only this process knows: a
 * caller going straight to `/v1` would skip the AI service's limits, budgets and usage records.
 */
export function devModelRoutes(opts: { tokensPerSecond: number; apiKey: string }) {
  const app = new Hono();
  app.use("*", async (c, next) => {
    const header = c.req.header("authorization") ?? "";
    const presented = /^Bearer (\S+)$/i.exec(header)?.[1];
    if (!presented || !(await timingSafeEqual(presented, opts.apiKey))) {
      return c.json(openAIError("The dev model is for this server's own AI service; it needs the key it was started with", "invalid_api_key"), 401);
    }
    await next();
  });
  app.use(
    "*",
    bodyLimit({
      maxSize: DEV_MODEL_BODY_LIMIT_BYTES,
      onError: (c) => c.json(openAIError("Request body too large", null), 413),
    }),
  );
  // Each operation is declared here (described like every other route) and answered by the model
  // app, which lives in the gateway package and knows nothing of the API's route descriptions.
  const model = new Hono().route(DEV_MODEL_PREFIX, createDevModelApp({ tokensPerSecond: opts.tokensPerSecond }));
  const forward = (c: { req: { raw: Request } }) => model.fetch(c.req.raw);
  const tags = ["dev-model"];
  const access = "dev only: this server's own AI service, with the key it was started with (Bearer)";
  app.get("/models", describeRoute({ summary: "The dev models (OpenAI-compatible)", tags, access, responses: { 200: { description: "OpenAI model list" } } }), forward);
  app.post(
    "/chat/completions",
    describeRoute({
      summary: "A chat completion from the dev model (OpenAI-compatible, streams with `stream: true`)",
      tags,
      access,
      responses: { 200: { description: "OpenAI chat completion or SSE stream" } },
    }),
    forward,
  );
  app.post(
    "/moderations",
    describeRoute({ summary: "Moderation by the dev model (OpenAI-compatible)", tags, access, responses: { 200: { description: "OpenAI moderation result" } } }),
    forward,
  );
  return app;
}

// OpenAI's error shape, since the callers of these routes are OpenAI clients.
function openAIError(message: string, code: string | null) {
  return { error: { message, type: "invalid_request_error", param: null, code } };
}
