import {
  addGroupMemberBodySchema,
  groupMemberParamsSchema,
  groupMemberSchema,
  idParamSchema,
  pageOf,
  pageQuerySchema,
  updateGroupMemberBodySchema,
} from "@raptscallions/core";
import type { Hono } from "hono";
import { requireUser } from "../../auth/middleware.ts";
import type { AppEnv } from "../../deps.ts";
import { describeRoute, jsonBody, pathParams, queryParams } from "../../openapi/index.ts";
import { serviceContext } from "../../services/context.ts";
import { addGroupMember, listGroupMembers, removeGroupMember, updateGroupMemberRole } from "../../services/groups/members.ts";

const tags = ["groups"];
const access = "admins of the group (or above it)";

/** `/api/groups/:id/members…` */
export function registerGroupMemberRoutes(app: Hono<AppEnv>) {
  app.get(
    "/:id/members",
    describeRoute({ summary: "Members of a group", tags, access, responses: { 200: { description: "A page of members", schema: pageOf(groupMemberSchema) } } }),
    requireUser,
    pathParams(idParamSchema),
    queryParams(pageQuerySchema),
    async (c) => c.json(await listGroupMembers({ ctx: serviceContext(c), input: { ...c.req.valid("param"), ...c.req.valid("query") } }), 200),
  );

  app.post(
    "/:id/members",
    describeRoute({ summary: "Add a member to a group", tags, access, responses: { 201: { description: "The membership", schema: groupMemberSchema } }, errors: [409] }),
    requireUser,
    pathParams(idParamSchema),
    jsonBody(addGroupMemberBodySchema),
    async (c) => {
      const { id } = c.req.valid("param");
      return c.json(await addGroupMember({ ctx: serviceContext(c), input: { id, body: c.req.valid("json") } }), 201);
    },
  );

  app.patch(
    "/:id/members/:userId",
    describeRoute({ summary: "Change a member's role", tags, access, responses: { 200: { description: "The membership", schema: groupMemberSchema } } }),
    requireUser,
    pathParams(groupMemberParamsSchema),
    jsonBody(updateGroupMemberBodySchema),
    async (c) => {
      const params = c.req.valid("param");
      return c.json(await updateGroupMemberRole({ ctx: serviceContext(c), input: { ...params, role: c.req.valid("json").role } }), 200);
    },
  );

  app.delete(
    "/:id/members/:userId",
    describeRoute({ summary: "Remove a member from a group", tags, access, responses: { 204: { description: "Removed" } } }),
    requireUser,
    pathParams(groupMemberParamsSchema),
    async (c) => {
      await removeGroupMember({ ctx: serviceContext(c), input: c.req.valid("param") });
      return c.body(null, 204);
    },
  );
}
