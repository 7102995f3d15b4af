import type { Context } from "hono";
import type { AppEnv } from "../../deps.ts";
import { serviceContext } from "../../services/context.ts";
import type { ThemeServiceContext } from "../../services/themes/context.ts";
import { themeCache } from "../../services/themes/theme-cache.ts";

/** The service context of an authenticated theme request. */
export function themeContext(c: Context<AppEnv>): ThemeServiceContext {
  const { kv, blob, logger } = c.var.deps;
  return { ...serviceContext(c), cache: themeCache(kv, logger), blob };
}
