import {
  applyThemeTemplateSchema,
  idParamSchema,
  resolvedThemeSchema,
  THEME_TEMPLATES,
  themePatchSchema,
  type ThemeTemplatesResponse,
  themeTemplatesResponseSchema,
} from "@raptscallions/core";
import type { Hono } from "hono";
import { requireUser } from "../../auth/middleware.ts";
import type { AppEnv } from "../../deps.ts";
import { describeRoute, jsonBody, pathParams } from "../../openapi/index.ts";
import { getGroupTheme } from "../../services/themes/get-theme.ts";
import { applyThemeTemplate, resetGroupTheme, updateGroupTheme } from "../../services/themes/update-theme.ts";
import { serviceContext } from "../../services/context.ts";

const tags = ["themes"];
const admins = "administrators of the group (or above it)";
const resolved = { 200: { description: "The group's resolved theme", schema: resolvedThemeSchema } };

/** Resolved theme, own overrides and templates. Paths are relative to `/api`. */
export function registerThemeRoutes(app: Hono<AppEnv>): void {
  app.get(
    "/themes/templates",
    describeRoute({
      summary: "Built-in theme presets",
      tags,
      access: "any signed-in user",
      responses: { 200: { description: "The templates", schema: themeTemplatesResponseSchema } },
    }),
    requireUser,
    (c) => {
      const body: ThemeTemplatesResponse = { items: THEME_TEMPLATES.map((t) => ({ ...t })) };
      return c.json(body, 200);
    },
  );

  app.get(
    "/groups/:id/theme",
    describeRoute({
      summary: "A group's resolved theme",
      description:
        "System default, then each group from the root down, later overriding earlier per field; `sources` names the group each field came from (null: the default).",
      tags,
      access: "anyone who can see the group",
      responses: resolved,
    }),
    requireUser,
    pathParams(idParamSchema),
    async (c) => {
      const { id } = c.req.valid("param");
      const body = await getGroupTheme({ ctx: serviceContext(c), input: { groupId: id } });
      // Per-user visibility is checked on every request, so shared caches must not keep it.
      c.header("cache-control", "private, no-cache");
      return c.json(body, 200);
    },
  );

  app.patch(
    "/groups/:id/theme",
    describeRoute({
      summary: "Change a group's own theme",
      description: "JSON merge patch of the group's own overrides: a value sets, null removes (inherit again), absent leaves alone.",
      tags,
      access: admins,
      responses: resolved,
    }),
    requireUser,
    pathParams(idParamSchema),
    jsonBody(themePatchSchema),
    async (c) => {
      const { id } = c.req.valid("param");
      const body = await updateGroupTheme({ ctx: serviceContext(c), input: { groupId: id, patch: c.req.valid("json") } });
      return c.json(body, 200);
    },
  );

  app.delete(
    "/groups/:id/theme",
    describeRoute({
      summary: "Drop a group's own theme (inherit everything)",
      tags,
      access: admins,
      responses: resolved,
    }),
    requireUser,
    pathParams(idParamSchema),
    async (c) => {
      const { id } = c.req.valid("param");
      const body = await resetGroupTheme({ ctx: serviceContext(c), input: { groupId: id } });
      return c.json(body, 200);
    },
  );

  app.post(
    "/groups/:id/theme/apply-template",
    describeRoute({
      summary: "Apply a built-in template",
      description: "The template's colours, font and layout replace the group's own; its asset overrides stay.",
      tags,
      access: admins,
      responses: resolved,
    }),
    requireUser,
    pathParams(idParamSchema),
    jsonBody(applyThemeTemplateSchema),
    async (c) => {
      const { id } = c.req.valid("param");
      const body = await applyThemeTemplate({ ctx: serviceContext(c), input: { groupId: id, ...c.req.valid("json") } });
      return c.json(body, 200);
    },
  );
}
