import { describe, expect, test } from "bun:test";
import { makeSchoolScene } from "@raptscallions/db/testing";
import { createGatewayClient, MemoryLimitStore, type GatewayClient } from "@raptscallions/gateway";
import type { App } from "../src/app.ts";
import { buildGatewayClient, createAiService, embeddedGatewayUrl } from "../src/services/ai/index.ts";
import { drain, generationRequest, rejection, usageRowsFor } from "./ai-fixtures.ts";
import { pinDevModel } from "./helpers/ai.ts";
import { useHarness } from "./helpers/harness.ts";

const h = useHarness();

/** The per-process key server.ts gives the dev model and its own gateway client. */
const DEV_MODEL_KEY = "test-dev-model-key";

/** An app as server.ts builds it without AI_GATEWAY_URL: /v1 mounted, the AI service calling it. */
async function embeddedApp(client: (app: () => App) => GatewayClient) {
  let built: App | null = null;
  const current = () => {
    if (!built) throw new Error("app not built yet");
    return built;
  };
  const { app, deps } = await h.withApp({
    deps: (base) => ({
      config: { ...base.config, devModel: { tokensPerSecond: 0, apiKey: DEV_MODEL_KEY } },
      ai: createAiService({
        db: h.db.db,
        client: client(current),
        limits: new MemoryLimitStore(),
        defaultModel: "dev-tutor",
        clock: base.clock,
        logger: base.logger,
        metrics: base.metrics,
      }),
    }),
  });
  built = app;
  return { app, deps };
}

/** A conversation bigger than the JSON API's 64 kB body limit in tests. */
const longConversation = Array.from({ length: 40 }, (_, i) => ({
  role: i % 2 === 0 ? ("user" as const) : ("assistant" as const),
  content: `Turn ${i}: ${"fractions are parts of a whole. ".repeat(80)}`,
}));

describe("the embedded dev model at /v1", () => {
  test("is served to its key's holder when configured, and absent otherwise (a remote gateway)", async () => {
    const { app } = await embeddedApp(() =>
      createGatewayClient({ baseUrl: "http://unused/v1", firstTokenTimeoutMs: 1000, idleTimeoutMs: 1000, maxRetries: 0, retryBaseMs: 1 }),
    );
    const models = await app.request("/v1/models", { headers: { authorization: `Bearer ${DEV_MODEL_KEY}` } });
    expect(models.status).toBe(200);
    expect(((await models.json()) as { data: { id: string }[] }).data.map((m) => m.id)).toContain("dev-tutor");

    const { app: production } = await h.withApp();
    expect((await production.request("/v1/models")).status).toBe(404);
    const chat = await production.request("/v1/chat/completions", {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ model: "dev-tutor", messages: [{ role: "user", content: "hi" }] }),
    });
    expect(chat.status).toBe(404);
  });

  test("without its key (none, wrong, another scheme) /v1 answers 401 and streams nothing", async () => {
    const { app } = await embeddedApp(() =>
      createGatewayClient({ baseUrl: "http://unused/v1", firstTokenTimeoutMs: 1000, idleTimeoutMs: 1000, maxRetries: 0, retryBaseMs: 1 }),
    );
    const body = JSON.stringify({ model: "dev-tutor@0tps", stream: true, messages: [{ role: "user", content: "hi" }] });
    for (const authorization of [undefined, "Bearer wrong-key", `Basic ${DEV_MODEL_KEY}`, `Bearer ${DEV_MODEL_KEY}x`]) {
      const headers: Record<string, string> = { "content-type": "application/json", ...(authorization ? { authorization } : {}) };
      const res = await app.request("/v1/chat/completions", { method: "POST", headers, body });
      expect(res.status).toBe(401);
      expect(((await res.json()) as { error: { code: string } }).error.code).toBe("invalid_api_key");
      expect((await app.request("/v1/models", { headers })).status).toBe(401);
    }
  });

  test("a generation goes through the app's own /v1 (app.request), past the JSON body limit", async () => {
    const scene = await makeSchoolScene(h.db.db);
    await pinDevModel(h.db.db, scene.district.id, { model: { contextWindow: 128_000 } });
    const { app, deps } = await embeddedApp((current) =>
      createGatewayClient({
        baseUrl: "http://localhost/v1",
        apiKey: DEV_MODEL_KEY,
        fetch: (url, init) => Promise.resolve(current().request(url, init)),
        firstTokenTimeoutMs: 10_000,
        idleTimeoutMs: 10_000,
        maxRetries: 0,
        retryBaseMs: 1,
      }),
    );
    const body = JSON.stringify({ messages: longConversation });
    expect(body.length).toBeGreaterThan(deps.config.bodyLimitBytes);

    const gen = await deps.ai.start(generationRequest(scene, { messages: [...longConversation, { role: "user", content: "So what is 1/2 + 1/3?" }] }));
    const { text, error } = await drain(gen);
    expect(error).toBeUndefined();
    expect(text.length).toBeGreaterThan(20);
    expect((await gen.finish("complete", text)).estimated).toBe(false);

    // The exemption is for /v1 only: the JSON API still refuses bodies over its limit.
    const big = await app.request("/api/usage/summary", {
      method: "POST",
      headers: { "content-type": "application/json" },
      body,
    });
    expect(big.status).toBe(413);
  });

  test("over a real socket (Bun.serve on port 0): streaming, stop, and the server's security headers", async () => {
    const scene = await makeSchoolScene(h.db.db);
    await pinDevModel(h.db.db, scene.district.id, { model: { tokensPerSecond: 40 } });
    let port = 0;
    const { app, deps } = await embeddedApp(() =>
      buildGatewayClient({ apiKey: DEV_MODEL_KEY, firstTokenTimeoutMs: 10_000, idleTimeoutMs: 10_000, maxRetries: 0 }, () => embeddedGatewayUrl("0.0.0.0", port)),
    );
    const server = Bun.serve({ port: 0, hostname: "127.0.0.1", fetch: app.fetch });
    port = server.port ?? 0;
    try {
      const direct = await fetch(`http://127.0.0.1:${port}/v1/chat/completions`, {
        method: "POST",
        headers: { "content-type": "application/json", authorization: `Bearer ${DEV_MODEL_KEY}` },
        body: JSON.stringify({ model: "dev-tutor@0tps", stream: true, messages: [{ role: "user", content: "hi" }] }),
      });
      expect(direct.headers.get("content-type")).toContain("text/event-stream");
      expect(direct.headers.get("content-security-policy")).toContain("default-src 'none'");
      expect(await direct.text()).toContain("data: [DONE]");

      const done = await deps.ai.start(generationRequest(scene));
      const complete = await drain(done);
      expect(complete.error).toBeUndefined();
      await done.finish("complete", complete.text);

      const controller = new AbortController();
      const stopped = await deps.ai.start(generationRequest(scene, { signal: controller.signal }));
      let text = "";
      const thrown = await rejection(
        (async () => {
          for await (const ev of stopped.events) {
            if (ev.type !== "delta") continue;
            text += ev.text;
            if (text && text.split(" ").length > 4) controller.abort();
          }
        })(),
      );
      expect(thrown.name).toBe("AbortError");
      const result = await stopped.finish("stopped", text);
      expect(result.estimated).toBe(true);
      const rows = await usageRowsFor(h.db.db, scene.student.id);
      expect(rows.map((r) => r.status).sort()).toEqual(["complete", "stopped"]);
    } finally {
      await server.stop(true);
    }
  });

  test("embeddedGatewayUrl reaches a wildcard bind on loopback and a specific address on itself", () => {
    expect(embeddedGatewayUrl("0.0.0.0", 3000)).toBe("http://127.0.0.1:3000/v1");
    expect(embeddedGatewayUrl("::", 3000)).toBe("http://127.0.0.1:3000/v1");
    expect(embeddedGatewayUrl("10.1.2.3", 8080)).toBe("http://10.1.2.3:8080/v1");
    expect(embeddedGatewayUrl("::1", 8080)).toBe("http://[::1]:8080/v1");
  });
});
