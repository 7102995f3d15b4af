/**
 * The dev model in its own process (BENCH_LIVE_DEV_MODEL=external): the same `createDevModelApp`
 * the API embeds at /v1, served apart so the API instances' CPU is the app's alone — as with a
 * remote gateway in production.
 *
 *   DEV_MODEL_PORT=… DEV_MODEL_TPS=50 bun bench/live/dev-model.ts
 */
import { createDevModelApp } from "../../packages/gateway/src/index.ts";

const app = createDevModelApp({ tokensPerSecond: Number(process.env.DEV_MODEL_TPS ?? 40) });
const server = Bun.serve({
  port: Number(process.env.DEV_MODEL_PORT ?? 0),
  hostname: "127.0.0.1",
  idleTimeout: 120,
  fetch(req) {
    const url = new URL(req.url);
    if (url.pathname === "/health") return new Response("ok");
    // The app's routes are relative; the gateway client calls <base>/chat/completions with base …/v1.
    url.pathname = url.pathname.replace(/^\/v1(?=\/|$)/, "") || "/";
    return app.fetch(new Request(url, req));
  },
});
console.log(JSON.stringify({ devModel: "listening", port: server.port }));
