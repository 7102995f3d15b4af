import { describe, expect, test } from "bun:test";
import { buildConsole } from "@raptscallions/web";
import type { ConsoleBundle } from "../src/deps.ts";
import { clerkFrontendApi } from "../src/routes/console/index.ts";
import { useHarness } from "./helpers/harness.ts";

/** The web console under /app: lazy loading, caching headers, SPA fallback, 404s in the envelope. */
const h = useHarness();

const fakeBundle = (): ConsoleBundle => ({
  indexHtml: '<!doctype html><html><head><script type="module" src="/app/assets/main-abc123.js"></script></head><body><div id="root"></div></body></html>',
  assets: new Map([["main-abc123.js", { body: new TextEncoder().encode("console.log(1)"), contentType: "text/javascript; charset=utf-8" }]]),
});

async function appWith(load: () => Promise<ConsoleBundle>, clerkPublishableKey?: string) {
  return (await h.withApp({ deps: { console: { load, clerkPublishableKey } } })).app;
}

async function errorCode(res: Response): Promise<string | undefined> {
  const body = (await res.json()) as { error?: { code?: string; requestId?: string } };
  expect(typeof body.error?.requestId).toBe("string");
  return body.error?.code;
}

describe("/app serving", () => {
  test("nothing is loaded until the first request; then once, however many follow", async () => {
    let loads = 0;
    const app = await appWith(async () => {
      loads += 1;
      return fakeBundle();
    });
    expect((await app.request("/health")).status).toBe(200);
    expect(loads).toBe(0);
    await Promise.all([app.request("/app"), app.request("/app/"), app.request("/app/assets/main-abc123.js")]);
    await app.request("/app/sessions/123");
    expect(loads).toBe(1);
  });

  test("index.html for /app and every client route, never cached, with the console's CSP", async () => {
    const app = await appWith(async () => fakeBundle());
    for (const path of ["/app", "/app/", "/app/sessions/7b5b2d0e-0000-4000-8000-000000000001", "/app/classes/x", "/app/admin"]) {
      const res = await app.request(path);
      expect({ path, status: res.status }).toEqual({ path, status: 200 });
      expect(res.headers.get("content-type")).toContain("text/html");
      expect(res.headers.get("cache-control")).toBe("no-cache");
      const csp = res.headers.get("content-security-policy") ?? "";
      expect(csp).toContain("script-src 'self'");
      expect(csp).toContain("connect-src 'self' ws: wss:");
      expect(csp).toContain("frame-ancestors 'none'");
      expect(await res.text()).toContain('<div id="root">');
    }
  });

  test("hashed assets are immutable for a year; a missing one is a 404 in the envelope, never index.html", async () => {
    const app = await appWith(async () => fakeBundle());
    const res = await app.request("/app/assets/main-abc123.js");
    expect(res.status).toBe(200);
    expect(res.headers.get("cache-control")).toBe("public, max-age=31536000, immutable");
    expect(res.headers.get("content-type")).toBe("text/javascript; charset=utf-8");
    expect(res.headers.get("x-content-type-options")).toBe("nosniff");
    expect(await res.text()).toBe("console.log(1)");
    for (const path of ["/app/assets/main-old999.js", "/app/assets/nested/main-abc123.js", "/app/assets/"]) {
      const missing = await app.request(path);
      expect({ path, status: missing.status }).toEqual({ path, status: 404 });
      expect(await errorCode(missing)).toBe("NOT_FOUND");
    }
  });

  test("other methods are 405; hostile paths are 4xx in the envelope", async () => {
    const app = await appWith(async () => fakeBundle());
    const post = await app.request("/app/sessions/x", { method: "POST" });
    expect(post.status).toBe(405);
    expect(await errorCode(post)).toBe("METHOD_NOT_ALLOWED");
    // Text no row could hold names nothing (404); in a query it is malformed input (400).
    for (const [path, status, code] of [
      ["/app/%00", 404, "NOT_FOUND"],
      ["/app/assets/%ED%A0%80.js", 404, "NOT_FOUND"],
      ["/app/assets/main-abc123.js%00", 404, "NOT_FOUND"],
      ["/app/x?q=%00", 400, "BAD_REQUEST"],
    ] as const) {
      const res = await app.request(path);
      expect({ path, status: res.status }).toEqual({ path, status });
      expect(await errorCode(res)).toBe(code);
    }
  });

  test("a failed build answers 503 SERVICE_UNAVAILABLE (logged) and is retried on the next request", async () => {
    let calls = 0;
    const { app, deps } = await h.withApp({
      deps: {
        console: {
          load: async () => {
            calls += 1;
            if (calls === 1) throw new Error("syntax error in main.tsx");
            return fakeBundle();
          },
        },
      },
    });
    const first = await app.request("/app/");
    expect(first.status).toBe(503);
    expect(await errorCode(first)).toBe("SERVICE_UNAVAILABLE");
    expect(deps.logger.lines.some((l) => l.msg === "the web console could not be built")).toBe(true);
    expect((await app.request("/app/")).status).toBe(200);
    expect(calls).toBe(2);
  });

  test("config.json: dev sign-in on dev auth; Clerk's key and frontend API host (also in the CSP) with Clerk", async () => {
    const dev = await appWith(async () => fakeBundle());
    expect(await (await dev.request("/app/config.json")).json()).toEqual({ auth: "dev", devSignIn: true, clerk: null });

    const pk = `pk_test_${btoa("fine-cat-12.clerk.accounts.dev$")}`;
    expect(clerkFrontendApi(pk)).toBe("fine-cat-12.clerk.accounts.dev");
    expect(clerkFrontendApi("pk_test_!!")).toBeNull();
    expect(clerkFrontendApi(`pk_test_${btoa("evil.example/x$")}`)).toBeNull();
    const { app: clerk } = await h.withApp({
      deps: (deps) => ({ auth: { ...deps.auth, mode: "clerk" }, console: { load: async () => fakeBundle(), clerkPublishableKey: pk } }),
    });
    expect(await (await clerk.request("/app/config.json")).json()).toEqual({
      auth: "clerk",
      devSignIn: false,
      clerk: { publishableKey: pk, frontendApi: "fine-cat-12.clerk.accounts.dev" },
    });
    const csp = (await clerk.request("/app/")).headers.get("content-security-policy") ?? "";
    expect(csp).toContain("script-src 'self' https://fine-cat-12.clerk.accounts.dev");
  });

  test("without a console dependency /app does not exist", async () => {
    const { app } = await h.withApp();
    const res = await app.request("/app/");
    expect(res.status).toBe(404);
    expect(await errorCode(res)).toBe("NOT_FOUND");
  });
});

describe("route listing", () => {
  // Routes outside /api are not REST operations, so neither the OpenAPI document nor the hostile
  // REST sweep lists them; each is named here with why, and a new one must be added on purpose.
  const NON_API: Record<string, string> = {
    "GET /health": "liveness probe (skeleton.test.ts)",
    "GET /ready": "readiness probe (skeleton.test.ts)",
    "GET /metrics": "Prometheus text (skeleton.test.ts)",
    "GET /ws": "WebSocket upgrade (hostile-input-ws.test.ts)",
    "GET /openapi.json": "the document itself (openapi.test.ts)",
    "GET /docs": "the reference page (openapi.test.ts)",
    "POST /v1/chat/completions": "built-in dev model, served only to this process's gateway client (ai-embedded.test.ts)",
    "POST /v1/moderations": "built-in dev model's moderation endpoint (modules-moderation.test.ts)",
    "GET /v1/models": "built-in dev model's model list (ai-embedded.test.ts)",
    "GET /app/config.json": "static console config (this file)",
    "GET /app/assets/:file": "static console assets, hostile paths above (this file)",
    "GET /app/assets/*": "404 for anything else under assets (this file)",
    "GET /app": "console index.html (this file)",
    "GET /app/*": "console index.html for client routes (this file)",
  };

  test("every mounted route is in the OpenAPI document or listed here with a reason", async () => {
    const { app } = await h.withApp({
      deps: (deps) => ({ console: { load: async () => fakeBundle() }, config: { ...deps.config, devModel: { tokensPerSecond: 1000, apiKey: "k" } } }),
    });
    const doc = (await (await app.request("/openapi.json")).json()) as { paths: Record<string, Record<string, unknown>> };
    const documented = new Set(Object.entries(doc.paths).flatMap(([path, ops]) => Object.keys(ops).map((m) => `${m.toUpperCase()} ${path}`)));
    const toDoc = (path: string) => path.replace(/:([A-Za-z0-9_]+)(\{[^}]*\})?\??/g, "{$1}");
    const mounted = [...new Set(app.routes.filter((r) => r.method !== "ALL").map((r) => `${r.method} ${r.path}`))];
    expect(mounted.filter((route) => !documented.has(toDoc(route)) && !(route in NON_API))).toEqual([]);
    // And the list names only routes that exist (no stale excuses).
    expect(Object.keys(NON_API).filter((route) => !mounted.includes(route))).toEqual([]);
    // The console's static pages are not operations: none of them is in the document.
    expect([...documented].filter((route) => route.split(" ")[1]?.startsWith("/app"))).toEqual([]);
  });
});

describe("the real build (Bun.build)", () => {
  test("index.html names content-hashed, minified assets that are served", async () => {
    const app = await appWith(buildConsole);
    const index = await (await app.request("/app/")).text();
    const scripts = [...index.matchAll(/src="\/app\/assets\/([^"]+)"/g)].map((m) => m[1] ?? "");
    const styles = [...index.matchAll(/href="\/app\/assets\/([^"]+)"/g)].map((m) => m[1] ?? "");
    expect(scripts).toHaveLength(1);
    expect(styles).toHaveLength(1);
    for (const name of [...scripts, ...styles]) {
      expect(name).toMatch(/^main-[a-z0-9]{6,}\.(js|css)$/);
      const res = await app.request(`/app/assets/${name}`);
      expect(res.status).toBe(200);
      expect(res.headers.get("cache-control")).toBe("public, max-age=31536000, immutable");
    }
    const js = await (await app.request(`/app/assets/${scripts[0]}`)).text();
    // Minified (local names are gone); the data-testids the browser tests rely on survive.
    expect(js).not.toContain("renderMarkdown");
    expect(js).not.toContain("themeVariables");
    for (const id of ["chat-input", "chat-send", "chat-stop", "connection-state", "class-live", "student-row"]) expect(js).toContain(id);
  }, 60_000);
});
