import { AppError, NotFoundError } from "@raptscallions/core";
import type { Context } from "hono";
import { Hono } from "hono";
import type { AppEnv, ConsoleBundle, ConsoleConfig } from "../../deps.ts";

export const CONSOLE_PREFIX = "/app";
const IMMUTABLE = "public, max-age=31536000, immutable";

/**
 * `pk_test_` / `pk_live_` + base64(`<frontend api host>$`): the host Clerk serves clerk-js and its
 * API from. Null when the key does not have that shape.
 */
export function clerkFrontendApi(publishableKey: string): string | null {
  const match = /^pk_(?:test|live)_([A-Za-z0-9+/=_-]+)$/.exec(publishableKey);
  if (!match?.[1]) return null;
  let decoded: string;
  try {
    decoded = atob(match[1].replaceAll("-", "+").replaceAll("_", "/"));
  } catch {
    return null;
  }
  const host = decoded.endsWith("$") ? decoded.slice(0, -1) : "";
  return /^[a-z0-9.-]+(?::\d+)?$/i.test(host) ? host : null;
}

/** The page's policy: our own origin only, plus Clerk's host when Clerk signs people in. */
function contentSecurityPolicy(clerkHost: string | null): string {
  const clerk = clerkHost ? ` https://${clerkHost}` : "";
  return [
    "default-src 'self'",
    `script-src 'self'${clerk}`,
    // Clerk's components inject their own styles; without Clerk no inline style is needed.
    `style-src 'self'${clerkHost ? " 'unsafe-inline'" : ""}`,
    `img-src 'self' data:${clerkHost ? " https://img.clerk.com" : ""}`,
    "font-src 'self' data:",
    `connect-src 'self' ws: wss:${clerk}`,
    `frame-src ${clerkHost ? `https://${clerkHost}` : "'none'"}`,
    "worker-src 'self' blob:",
    "object-src 'none'",
    "base-uri 'none'",
    "form-action 'self'",
    "frame-ancestors 'none'",
  ].join("; ");
}

/**
 * The web console (apps/web) under `/app`: `config.json` (how to sign in), content-hashed assets
 * cached for a year, and `index.html` (never cached) for every other path so client-side routes
 * survive a reload. The bundle is loaded on the first request, so apps and tests that never open
 * `/app` never build it.
 */
export function consoleRoutes(config: ConsoleConfig, opts: { devSignIn: boolean }) {
  const app = new Hono<AppEnv>();
  let bundle: Promise<ConsoleBundle> | null = null;
  const load = () => {
    bundle ??= config.load().catch((err: unknown) => {
      bundle = null; // a failed build is retried on the next request
      throw err;
    });
    return bundle;
  };
  const clerkHost = config.clerkPublishableKey ? clerkFrontendApi(config.clerkPublishableKey) : null;
  const csp = contentSecurityPolicy(clerkHost);

  async function loaded(c: Context<AppEnv>): Promise<ConsoleBundle> {
    try {
      return await load();
    } catch (err) {
      c.var.deps.logger.error("the web console could not be built", { err });
      throw new AppError("SERVICE_UNAVAILABLE", "The web console could not be built; see the server log", { retryAfterSeconds: 5 });
    }
  }

  app.get("/config.json", (c) => {
    c.header("cache-control", "no-cache");
    return c.json(
      {
        auth: config.clerkPublishableKey ? "clerk" : "dev",
        devSignIn: opts.devSignIn,
        clerk: config.clerkPublishableKey && clerkHost ? { publishableKey: config.clerkPublishableKey, frontendApi: clerkHost } : null,
      },
      200,
    );
  });

  app.get("/assets/:file", async (c) => {
    const { assets } = await loaded(c);
    const asset = assets.get(c.req.param("file"));
    if (!asset) throw new NotFoundError("Console asset");
    return c.body(asset.body as Uint8Array<ArrayBuffer>, 200, { "content-type": asset.contentType, "cache-control": IMMUTABLE });
  });

  app.get("/assets/*", () => {
    throw new NotFoundError("Console asset");
  });

  const index = async (c: Context<AppEnv>) => {
    const { indexHtml } = await loaded(c);
    return c.html(indexHtml, 200, { "cache-control": "no-cache", "content-security-policy": csp });
  };
  app.get("/", index);
  app.get("/*", index);
  return app;
}
