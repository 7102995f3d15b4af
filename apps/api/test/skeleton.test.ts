import { describe, expect, test } from "bun:test";
import { z } from "zod";
import { jsonBody } from "../src/http/validate.ts";
import { type DepsOverrides, useHarness } from "./helpers/harness.ts";

const h = useHarness();

async function appWithEcho(overrides: DepsOverrides = {}) {
  const { app, deps } = await h.withApp({ deps: overrides });
  // A JSON route exercising the shared validation path every real route uses.
  app.post("/api/_echo", jsonBody(z.object({ name: z.string().min(1) })), (c) => c.json(c.req.valid("json"), 200));
  return { app, deps };
}

async function expectError(res: Response, status: number, code: string) {
  expect(res.status).toBe(status);
  expect(res.headers.get("content-type")).toContain("application/json");
  const body = (await res.json()) as { error: { code: string; message: string; requestId: string } };
  expect(body.error.code).toBe(code);
  expect(body.error.requestId).toBe(res.headers.get("x-request-id") ?? "missing");
  expect(typeof body.error.message).toBe("string");
  return body;
}

describe("health and readiness", () => {
  test("GET /health is 200", async () => {
    const { app } = await appWithEcho();
    const res = await app.request("/health");
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ status: "ok" });
  });

  test("GET /ready checks the database and reports each check", async () => {
    const { app } = await appWithEcho();
    const res = await app.request("/ready");
    expect(res.status).toBe(200);
    const body = (await res.json()) as { checks: Record<string, { ok: boolean }> };
    expect(body.checks.database?.ok).toBe(true);
  });

  test("GET /ready is 503 with per-check detail when a dependency is down", async () => {
    const { app } = await appWithEcho({
      readiness: [{ name: "redis", check: () => Promise.reject(new Error("connect ECONNREFUSED redis://secret@host")) }],
    });
    const res = await app.request("/ready");
    expect(res.status).toBe(503);
    const body = (await res.json()) as { checks: Record<string, { ok: boolean; error?: string }> };
    expect(body.checks.database?.ok).toBe(true);
    expect(body.checks.redis?.ok).toBe(false);
    expect(body.checks.redis?.error).not.toContain("secret");
  });

  test("GET /metrics exposes request counts by route pattern", async () => {
    const { app } = await appWithEcho();
    await app.request("/health");
    const res = await app.request("/metrics");
    expect(res.status).toBe(200);
    const text = await res.text();
    expect(text).toContain('http_requests_total{method="GET",route="/health",status="200"} 1');
    expect(text).toContain("http_request_duration_seconds_bucket");
  });

  test("GET /metrics requires the bearer token when one is configured", async () => {
    const { app } = await h.withApp({ deps: (base) => ({ config: { ...base.config, metricsToken: "s3cret" } }) });
    await expectError(await app.request("/metrics"), 401, "UNAUTHENTICATED");
    const ok = await app.request("/metrics", { headers: { authorization: "Bearer s3cret" } });
    expect(ok.status).toBe(200);
  });
});

describe("malformed requests get the error shape", () => {
  test("unknown route → 404 NOT_FOUND", async () => {
    const { app } = await appWithEcho();
    await expectError(await app.request("/no/such/route"), 404, "NOT_FOUND");
  });

  test("wrong method on a known route → 405 with Allow", async () => {
    const { app } = await appWithEcho();
    const res = await app.request("/health", { method: "DELETE" });
    await expectError(res, 405, "METHOD_NOT_ALLOWED");
    expect(res.headers.get("allow")).toBe("GET");
  });

  test("bad JSON → 400 INVALID_JSON", async () => {
    const { app } = await appWithEcho();
    const res = await app.request("/api/_echo", {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: '{"name": "x",',
    });
    await expectError(res, 400, "INVALID_JSON");
  });

  test("wrong content type → 415", async () => {
    const { app } = await appWithEcho();
    const res = await app.request("/api/_echo", {
      method: "POST",
      headers: { "content-type": "text/plain" },
      body: '{"name":"x"}',
    });
    await expectError(res, 415, "UNSUPPORTED_MEDIA_TYPE");
  });

  test("valid JSON of the wrong shape → 422 with issues", async () => {
    const { app } = await appWithEcho();
    const res = await app.request("/api/_echo", {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: '{"name": 5}',
    });
    const body = await expectError(res, 422, "VALIDATION_FAILED");
    expect(JSON.stringify(body)).toContain("name");
  });

  test("oversized body → 413", async () => {
    const { app } = await appWithEcho();
    const res = await app.request("/api/_echo", {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ name: "x".repeat(70 * 1024) }),
    });
    await expectError(res, 413, "PAYLOAD_TOO_LARGE");
  });

  test("oversized streamed body without Content-Length → 413", async () => {
    const { app } = await appWithEcho();
    const chunk = new TextEncoder().encode("x".repeat(16 * 1024));
    let sent = 0;
    const body = new ReadableStream<Uint8Array>({
      pull(controller) {
        if (sent >= 10) return controller.close();
        sent += 1;
        controller.enqueue(chunk);
      },
    });
    const res = await app.request("/api/_echo", {
      method: "POST",
      headers: { "content-type": "application/json" },
      body,
      // @ts-expect-error Bun's RequestInit accepts duplex for streamed bodies
      duplex: "half",
    });
    await expectError(res, 413, "PAYLOAD_TOO_LARGE");
  });

  test("a thrown internal error → 500 without the internal message, logged with the request id", async () => {
    const { app, deps } = await appWithEcho();
    app.get("/api/_boom", () => {
      throw new Error("database password is hunter2");
    });
    const res = await app.request("/api/_boom");
    const body = await expectError(res, 500, "INTERNAL");
    expect(JSON.stringify(body)).not.toContain("hunter2");
    expect(deps.logger.lines.some((l) => l.msg === "request failed" && l.requestId === body.error.requestId)).toBe(true);
  });

  test("a well-formed incoming x-request-id is echoed; a malformed one is replaced", async () => {
    const { app } = await appWithEcho();
    const kept = await app.request("/health", { headers: { "x-request-id": "trace-abc-12345" } });
    expect(kept.headers.get("x-request-id")).toBe("trace-abc-12345");
    const replaced = await app.request("/health", { headers: { "x-request-id": "<script>" } });
    expect(replaced.headers.get("x-request-id")).not.toBe("<script>");
  });

  test("every request logs one structured line", async () => {
    const { app, deps } = await appWithEcho();
    await app.request("/health");
    const lines = deps.logger.lines.filter((l) => l.msg === "request");
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatchObject({ method: "GET", path: "/health", status: 200, route: "/health" });
  });

  test("CORS answers preflight for configured origins only", async () => {
    const { app } = await appWithEcho();
    const ok = await app.request("/api/_echo", {
      method: "OPTIONS",
      headers: { origin: "https://app.example.test", "access-control-request-method": "POST" },
    });
    expect(ok.headers.get("access-control-allow-origin")).toBe("https://app.example.test");
    const other = await app.request("/api/_echo", {
      method: "OPTIONS",
      headers: { origin: "https://evil.example", "access-control-request-method": "POST" },
    });
    expect(other.headers.get("access-control-allow-origin")).toBeNull();
  });
});
