import { createGroupBodySchema, groupSchema, idParamSchema, listGroupsQuerySchema, pageOf, pageQuerySchema, updateGroupBodySchema } from "@raptscallions/core";
import { Hono } from "hono";
import { requireUser } from "../../auth/middleware.ts";
import type { AppEnv } from "../../deps.ts";
import { describeRoute, jsonBody, pathParams, queryParams } from "../../openapi/index.ts";
import { serviceContext } from "../../services/context.ts";
import { getGroup, listGroupAncestors, listGroupChildren, listGroups, listGroupSubtree } from "../../services/groups/list.ts";
import { createGroup, updateGroup } from "../../services/groups/write.ts";
import { registerGroupMemberRoutes } from "./members.ts";

const groupPage = pageOf(groupSchema);
const tags = ["groups"];

/** Districts, schools and departments: the group tree. Mounted at `/api/groups`. */
export function groupRoutes() {
  const app = new Hono<AppEnv>();

  app.get(
    "/",
    describeRoute({
      summary: "Groups the caller can see",
      tags,
      access: "signed-in users (their groups, those groups' ancestors, subtrees they administer)",
      responses: { 200: { description: "A page of groups", schema: groupPage } },
    }),
    requireUser,
    queryParams(listGroupsQuerySchema),
    async (c) => c.json(await listGroups({ ctx: serviceContext(c), input: c.req.valid("query") }), 200),
  );

  app.post(
    "/",
    describeRoute({
      summary: "Create a group",
      tags,
      access: "admins of the parent group; system admins for a root",
      responses: { 201: { description: "The new group", schema: groupSchema } },
      errors: [409],
    }),
    requireUser,
    jsonBody(createGroupBodySchema),
    async (c) => c.json(await createGroup({ ctx: serviceContext(c), input: c.req.valid("json") }), 201),
  );

  app.get(
    "/:id",
    describeRoute({ summary: "A group", tags, access: "anyone who can see the group", responses: { 200: { description: "The group", schema: groupSchema } } }),
    requireUser,
    pathParams(idParamSchema),
    async (c) => c.json(await getGroup({ ctx: serviceContext(c), input: c.req.valid("param") }), 200),
  );

  app.patch(
    "/:id",
    describeRoute({
      summary: "Update a group's name, slug or settings",
      tags,
      access: "admins of the group (or above it)",
      responses: { 200: { description: "The updated group", schema: groupSchema } },
      errors: [409],
    }),
    requireUser,
    pathParams(idParamSchema),
    jsonBody(updateGroupBodySchema),
    async (c) => {
      const { id } = c.req.valid("param");
      return c.json(await updateGroup({ ctx: serviceContext(c), input: { id, body: c.req.valid("json") } }), 200);
    },
  );

  app.get(
    "/:id/children",
    describeRoute({
      summary: "Direct children of a group",
      tags,
      access: "anyone who can see the group (children they can see)",
      responses: { 200: { description: "A page of groups", schema: groupPage } },
    }),
    requireUser,
    pathParams(idParamSchema),
    queryParams(pageQuerySchema),
    async (c) => c.json(await listGroupChildren({ ctx: serviceContext(c), input: { ...c.req.valid("param"), ...c.req.valid("query") } }), 200),
  );

  app.get(
    "/:id/ancestors",
    describeRoute({
      summary: "Ancestors of a group, root first",
      tags,
      access: "anyone who can see the group",
      responses: { 200: { description: "All ancestors in one page (nextCursor is null)", schema: groupPage } },
    }),
    requireUser,
    pathParams(idParamSchema),
    async (c) => c.json(await listGroupAncestors({ ctx: serviceContext(c), input: c.req.valid("param") }), 200),
  );

  app.get(
    "/:id/subtree",
    describeRoute({
      summary: "A group and its descendants, in tree order",
      tags,
      access: "anyone who can see the group (descendants they can see)",
      responses: { 200: { description: "A page of groups", schema: groupPage } },
    }),
    requireUser,
    pathParams(idParamSchema),
    queryParams(pageQuerySchema),
    async (c) => c.json(await listGroupSubtree({ ctx: serviceContext(c), input: { ...c.req.valid("param"), ...c.req.valid("query") } }), 200),
  );

  registerGroupMemberRoutes(app);
  return app;
}
