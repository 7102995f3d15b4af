import {
  createToolBodySchema,
  createToolVersionBodySchema,
  idParamSchema,
  listToolsQuerySchema,
  pageOf,
  pageQuerySchema,
  toolDetailSchema,
  toolSchema,
  toolVersionParamsSchema,
  toolVersionSchema,
} from "@raptscallions/core";
import { Hono } from "hono";
import { requireUser } from "../../auth/middleware.ts";
import type { AppEnv } from "../../deps.ts";
import { describeRoute, jsonBody, pathParams, queryParams } from "../../openapi/index.ts";
import { serviceContext } from "../../services/context.ts";
import { getTool, getToolVersion, listTools, listToolVersions } from "../../services/tools/list.ts";
import { archiveTool, createTool, createToolVersion } from "../../services/tools/write.ts";

const tags = ["tools"];
const users = "anyone in the tool's group or below it, and admins over it";
const staff = "staff who may use the tool (admins, its author, teachers in its subtree); not students";
const managers = "the tool's author and admins over its group";

/** AI tutors and their immutable versions. Mounted at `/api/tools`. */
export function toolRoutes() {
  const app = new Hono<AppEnv>();

  app.get(
    "/",
    describeRoute({
      summary: "Tools the caller can use",
      tags,
      access: "signed-in users: tools of the groups on their ancestor chain (admins: also their subtrees)",
      responses: { 200: { description: "A page of tools", schema: pageOf(toolSchema) } },
    }),
    requireUser,
    queryParams(listToolsQuerySchema),
    async (c) => c.json(await listTools({ ctx: serviceContext(c), input: c.req.valid("query") }), 200),
  );

  app.post(
    "/",
    describeRoute({
      summary: "Create a tool (version 1)",
      tags,
      access: "admins over the group, teachers of the group",
      responses: { 201: { description: "The tool with version 1", schema: toolDetailSchema } },
    }),
    requireUser,
    jsonBody(createToolBodySchema),
    async (c) => c.json(await createTool({ ctx: serviceContext(c), input: c.req.valid("json") }), 201),
  );

  app.get(
    "/:id",
    describeRoute({
      summary: "A tool with its latest version",
      description: "`latest.definition` is null for callers who may use but not read the tool (students).",
      tags,
      access: users,
      responses: { 200: { description: "The tool", schema: toolDetailSchema } },
    }),
    requireUser,
    pathParams(idParamSchema),
    async (c) => c.json(await getTool({ ctx: serviceContext(c), input: c.req.valid("param") }), 200),
  );

  app.post(
    "/:id/versions",
    describeRoute({
      summary: "Publish a new immutable version",
      description: "Assignments and sessions stay pinned to the version they were created with.",
      tags,
      access: managers,
      responses: { 201: { description: "The tool with its new latest version", schema: toolDetailSchema } },
      errors: [409],
    }),
    requireUser,
    pathParams(idParamSchema),
    jsonBody(createToolVersionBodySchema),
    async (c) => {
      const { id } = c.req.valid("param");
      return c.json(await createToolVersion({ ctx: serviceContext(c), input: { id, body: c.req.valid("json") } }), 201);
    },
  );

  app.get(
    "/:id/versions",
    describeRoute({
      summary: "Versions of a tool, newest first",
      tags,
      access: staff,
      responses: { 200: { description: "A page of versions", schema: pageOf(toolVersionSchema) } },
    }),
    requireUser,
    pathParams(idParamSchema),
    queryParams(pageQuerySchema),
    async (c) => c.json(await listToolVersions({ ctx: serviceContext(c), input: { ...c.req.valid("param"), ...c.req.valid("query") } }), 200),
  );

  app.get(
    "/:id/versions/:version",
    describeRoute({ summary: "One version of a tool", tags, access: staff, responses: { 200: { description: "The version", schema: toolVersionSchema } } }),
    requireUser,
    pathParams(toolVersionParamsSchema),
    async (c) => c.json(await getToolVersion({ ctx: serviceContext(c), input: c.req.valid("param") }), 200),
  );

  app.post(
    "/:id/archive",
    describeRoute({ summary: "Archive a tool (idempotent)", tags, access: managers, responses: { 200: { description: "The archived tool", schema: toolSchema } } }),
    requireUser,
    pathParams(idParamSchema),
    async (c) => c.json(await archiveTool({ ctx: serviceContext(c), input: c.req.valid("param") }), 200),
  );

  return app;
}
