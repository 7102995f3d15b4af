import { Hono } from "hono";
import type { AppEnv } from "../../deps.ts";
import { registerThemeAssetRoutes } from "./assets.ts";
import { registerThemeRoutes } from "./theme.ts";

/**
 * Group themes, mounted at `/api`: `/groups/:id/theme…` (next to the groups routes, which are
 * a separate sub-app on `/api/groups`: Hono merges both into one router), `/themes/templates`
 * and the public `/theme-assets/:assetId`. No `use("*")` here: middleware is per route, so
 * nothing leaks onto other `/api` routes.
 */
export function themeRoutes() {
  const app = new Hono<AppEnv>();
  registerThemeRoutes(app);
  registerThemeAssetRoutes(app);
  return app;
}

const UPLOAD_PATH = /^\/api\/groups\/[^/]+\/theme\/assets$/;

/**
 * The one request the global JSON body limit must not apply to: an asset upload, which has its
 * own (larger) limit enforced while it streams. Anything not matching exactly keeps the global limit.
 */
export function isThemeAssetUpload(method: string, path: string): boolean {
  return method === "POST" && UPLOAD_PATH.test(path);
}
