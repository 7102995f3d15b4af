import {
  aiModelParamsSchema,
  aiModelSchema,
  aiSettingsBodySchema,
  aiSettingsSchema,
  createAiModelBodySchema,
  idParamSchema,
  listAiModelsQuerySchema,
  pageOf,
  updateAiModelBodySchema,
} from "@raptscallions/core";
import { Hono } from "hono";
import { requireUser } from "../../auth/middleware.ts";
import type { AppEnv } from "../../deps.ts";
import { describeRoute, jsonBody, pathParams, queryParams } from "../../openapi/index.ts";
import { createAiModel, listAiModels, updateAiModel } from "../../services/ai/admin-models.ts";
import { deleteGroupAiSettings, getGroupAiSettings, getSystemAiSettings, putGroupAiSettings, putSystemAiSettings } from "../../services/ai/admin-settings.ts";
import { serviceContext } from "../../services/context.ts";

const tags = ["ai"];
const sysadmin = "system admins";
const groupAdmins = "admins of the group (or above it)";

/**
 * AI models and limits, mounted at `/api`: `/ai/models…`, `/ai/settings/system` and
 * `/groups/:id/ai-settings`. Middleware is per route.
 */
export function aiAdminRoutes() {
  const app = new Hono<AppEnv>();

  app.get(
    "/ai/models",
    describeRoute({
      summary: "AI models",
      description: "Active models for everyone; `includeInactive=true` adds the rest for system admins.",
      tags,
      access: "any signed-in user",
      responses: { 200: { description: "A page of models", schema: pageOf(aiModelSchema) } },
    }),
    requireUser,
    queryParams(listAiModelsQuerySchema),
    async (c) => c.json(await listAiModels({ ctx: serviceContext(c), input: c.req.valid("query") }), 200),
  );

  app.post(
    "/ai/models",
    describeRoute({ summary: "Register a model", tags, access: sysadmin, responses: { 201: { description: "The model", schema: aiModelSchema } }, errors: [409] }),
    requireUser,
    jsonBody(createAiModelBodySchema),
    async (c) => c.json(await createAiModel({ ctx: serviceContext(c), input: c.req.valid("json") }), 201),
  );

  // Model ids contain slashes (`openai/gpt-4o-mini`): the id is the rest of the path.
  app.patch(
    "/ai/models/:id{.+}",
    describeRoute({
      summary: "Update a model (prices, limits, active)",
      tags,
      access: sysadmin,
      responses: { 200: { description: "The model", schema: aiModelSchema } },
    }),
    requireUser,
    pathParams(aiModelParamsSchema),
    jsonBody(updateAiModelBodySchema),
    async (c) => {
      const { id } = c.req.valid("param");
      return c.json(await updateAiModel({ ctx: serviceContext(c), input: { id, body: c.req.valid("json") } }), 200);
    },
  );

  app.get(
    "/ai/settings/system",
    describeRoute({ summary: "System-wide AI settings", tags, access: sysadmin, responses: { 200: { description: "The settings", schema: aiSettingsSchema } } }),
    requireUser,
    async (c) => c.json(await getSystemAiSettings({ ctx: serviceContext(c) }), 200),
  );

  app.put(
    "/ai/settings/system",
    describeRoute({
      summary: "Replace the system-wide AI settings",
      tags,
      access: sysadmin,
      responses: { 200: { description: "The settings", schema: aiSettingsSchema } },
    }),
    requireUser,
    jsonBody(aiSettingsBodySchema),
    async (c) => c.json(await putSystemAiSettings({ ctx: serviceContext(c), input: c.req.valid("json") }), 200),
  );

  app.get(
    "/groups/:id/ai-settings",
    describeRoute({
      summary: "A group's own AI settings",
      description: "`configured: false` when the group inherits everything.",
      tags,
      access: groupAdmins,
      responses: { 200: { description: "The settings", schema: aiSettingsSchema } },
    }),
    requireUser,
    pathParams(idParamSchema),
    async (c) => c.json(await getGroupAiSettings({ ctx: serviceContext(c), input: c.req.valid("param") }), 200),
  );

  app.put(
    "/groups/:id/ai-settings",
    describeRoute({ summary: "Replace a group's AI settings", tags, access: groupAdmins, responses: { 200: { description: "The settings", schema: aiSettingsSchema } } }),
    requireUser,
    pathParams(idParamSchema),
    jsonBody(aiSettingsBodySchema),
    async (c) => {
      const { id } = c.req.valid("param");
      return c.json(await putGroupAiSettings({ ctx: serviceContext(c), input: { id, body: c.req.valid("json") } }), 200);
    },
  );

  app.delete(
    "/groups/:id/ai-settings",
    describeRoute({ summary: "Remove a group's AI settings (inherit again)", tags, access: groupAdmins, responses: { 204: { description: "Removed (idempotent)" } } }),
    requireUser,
    pathParams(idParamSchema),
    async (c) => {
      await deleteGroupAiSettings({ ctx: serviceContext(c), input: c.req.valid("param") });
      return c.body(null, 204);
    },
  );

  return app;
}
