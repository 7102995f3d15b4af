import { describe, expect, test } from "bun:test";
import { makeSchoolScene } from "@raptscallions/db/testing";
import { z } from "zod";
import { jsonBody } from "../src/http/validate.ts";
import { authHeader } from "./helpers/auth.ts";
import { type TestApp, useHarness } from "./helpers/harness.ts";

// The CORS headers are set on the response the handler (or the error handler) made, after it ran
// (middleware/cors.ts): every kind of response under /api must carry them, errors included.
const h = useHarness();
const ALLOWED = "https://app.example.test";

let probes: Promise<TestApp> | null = null;
/** The app with routes that answer, fail validation, throw and stream, beside the real ones. */
function probeApp(): Promise<TestApp> {
  probes ??= h.withApp({ deps: (base) => ({ config: { ...base.config, bodyLimitBytes: 64 } }) }).then(({ app }) => {
    app.post("/api/_cors/echo", jsonBody(z.object({ name: z.string().min(1) })), (c) => c.json(c.req.valid("json"), 201));
    app.get("/api/_cors/boom", () => {
      throw new Error("boom");
    });
    app.get("/api/_cors/vary", (c) => c.text("ok", 200, { vary: "Accept-Language" }));
    app.get("/api/_cors/stream", (c) => c.body(new Blob(["a", "b"]).stream(), 200, { "content-type": "text/plain" }));
    return app;
  });
  return probes;
}

function expectCors(res: Response, origin: string | null) {
  expect(res.headers.get("access-control-allow-origin")).toBe(origin);
  expect(res.headers.get("access-control-allow-credentials")).toBe("true");
  expect(res.headers.get("access-control-expose-headers")).toBe("x-request-id,retry-after");
  expect(res.headers.get("vary") ?? "").toContain("Origin");
  // The outer middlewares still run after it.
  expect(res.headers.get("x-request-id")).toBeTruthy();
  expect(res.headers.get("x-content-type-options")).toBe("nosniff");
}

describe("CORS on API responses", () => {
  test("a successful ticket request carries the CORS headers for an allowed origin", async () => {
    const scene = await makeSchoolScene(h.db.db);
    const res = await h.app.request("/api/realtime/tickets", { method: "POST", headers: { origin: ALLOWED, ...(await authHeader(scene.student)) } });
    expect(res.status).toBe(201);
    expectCors(res, ALLOWED);
    expect(((await res.json()) as { ticket: string }).ticket).toBeString();
  });

  test("a refused origin gets no allow-origin header, and the request is still answered as before", async () => {
    const scene = await makeSchoolScene(h.db.db);
    const res = await h.app.request("/api/realtime/tickets", { method: "POST", headers: { origin: "https://evil.example", ...(await authHeader(scene.student)) } });
    expect(res.status).toBe(201);
    expectCors(res, null);
  });

  test("error responses keep them: no token (401), invalid body (422), not found (404), wrong method (405)", async () => {
    const app = await probeApp();
    const noToken = await app.request("/api/realtime/tickets", { method: "POST", headers: { origin: ALLOWED } });
    expect(noToken.status).toBe(401);
    expectCors(noToken, ALLOWED);
    const invalid = await app.request("/api/_cors/echo", { method: "POST", headers: { origin: ALLOWED, "content-type": "application/json" }, body: '{"name":""}' });
    expect(invalid.status).toBe(422);
    expectCors(invalid, ALLOWED);
    const missing = await app.request("/api/no-such-thing", { headers: { origin: ALLOWED } });
    expect(missing.status).toBe(404);
    expectCors(missing, ALLOWED);
    const method = await app.request("/api/realtime/tickets", { method: "DELETE", headers: { origin: ALLOWED } });
    expect(method.status).toBe(405);
    expectCors(method, ALLOWED);
  });

  test("the body limit's 413 and the error handler's 500 keep them", async () => {
    const app = await probeApp();
    const big = await app.request("/api/_cors/echo", {
      method: "POST",
      headers: { origin: ALLOWED, "content-type": "application/json" },
      body: JSON.stringify({ name: "x".repeat(200) }),
    });
    expect(big.status).toBe(413);
    expectCors(big, ALLOWED);
    const boom = await app.request("/api/_cors/boom", { headers: { origin: ALLOWED } });
    expect(boom.status).toBe(500);
    expectCors(boom, ALLOWED);
    expect(JSON.stringify(await boom.json())).not.toContain("boom");
  });

  test("a handler's own Vary is kept beside Origin, and a streamed body arrives whole", async () => {
    const app = await probeApp();
    const vary = await app.request("/api/_cors/vary", { headers: { origin: ALLOWED } });
    expectCors(vary, ALLOWED);
    expect(vary.headers.get("vary")).toBe("Accept-Language, Origin");
    const stream = await app.request("/api/_cors/stream", { headers: { origin: ALLOWED } });
    expectCors(stream, ALLOWED);
    expect(await stream.text()).toBe("ab");
  });

  test("preflights: an allowed origin gets methods, headers and max-age; a refused one no allow-origin", async () => {
    const app = await probeApp();
    const ok = await app.request("/api/_cors/echo", { method: "OPTIONS", headers: { origin: ALLOWED, "access-control-request-method": "POST" } });
    expect(ok.status).toBe(204);
    expect(ok.headers.get("access-control-allow-origin")).toBe(ALLOWED);
    expect(ok.headers.get("access-control-allow-credentials")).toBe("true");
    expect(ok.headers.get("access-control-allow-headers")).toBe("authorization,content-type,x-request-id");
    expect(ok.headers.get("access-control-allow-methods")).toContain("POST");
    expect(ok.headers.get("access-control-max-age")).toBe("600");
    const other = await app.request("/api/_cors/echo", { method: "OPTIONS", headers: { origin: "https://evil.example", "access-control-request-method": "POST" } });
    expect(other.headers.get("access-control-allow-origin")).toBeNull();
  });

  test("the ticket route answers with one Response: the handler's, not copies of it", async () => {
    // hono/cors touched `c.res` before the handler, so Hono built a placeholder and copied the
    // handler's response into a new one (and again for its Vary): the body was re-wrapped as a
    // stream. With the headers set afterwards the handler's JSON body is returned as it was made.
    const scene = await makeSchoolScene(h.db.db);
    const made: Response[] = [];
    const { app } = await h.withApp();
    app.post("/api/_cors/same", (c) => {
      const res = c.json({ ok: true }, 201);
      made.push(res);
      return res;
    });
    const res = await app.request("/api/_cors/same", { method: "POST", headers: { origin: ALLOWED, ...(await authHeader(scene.student)) } });
    expect(res.status).toBe(201);
    expect(made).toHaveLength(1);
    expect(res).toBe(made[0] as Response);
    expectCors(res, ALLOWED);
  });
});
