import {
  addClassMemberBodySchema,
  classPresenceSchema,
  classMemberParamsSchema,
  classMemberSchema,
  classSchema,
  createClassBodySchema,
  idParamSchema,
  listClassesQuerySchema,
  pageOf,
  pageQuerySchema,
  updateClassBodySchema,
} from "@raptscallions/core";
import { Hono } from "hono";
import { requireUser } from "../../auth/middleware.ts";
import type { AppEnv } from "../../deps.ts";
import { describeRoute, jsonBody, pathParams, queryParams } from "../../openapi/index.ts";
import { getClass, listClasses } from "../../services/classes/list.ts";
import { addClassMember, listClassMembers, removeClassMember } from "../../services/classes/members.ts";
import { listClassPresence } from "../../services/classes/presence.ts";
import { archiveClass, createClass, updateClass } from "../../services/classes/write.ts";
import { serviceContext } from "../../services/context.ts";

const tags = ["classes"];
const manage = "the class's teachers and admins over its group";

/** Classes and their rosters. Mounted at `/api/classes`. */
export function classRoutes() {
  const app = new Hono<AppEnv>();

  app.get(
    "/",
    describeRoute({
      summary: "Classes the caller can see",
      description: "`groupId` narrows to classes in that group or below it.",
      tags,
      access: "signed-in users: admins see classes in their subtrees, teachers and students their own",
      responses: { 200: { description: "A page of classes", schema: pageOf(classSchema) } },
    }),
    requireUser,
    queryParams(listClassesQuerySchema),
    async (c) => c.json(await listClasses({ ctx: serviceContext(c), input: c.req.valid("query") }), 200),
  );

  app.post(
    "/",
    describeRoute({
      summary: "Create a class",
      description: "A teacher who creates a class becomes its teacher.",
      tags,
      access: "admins over the group, teachers of the group",
      responses: { 201: { description: "The class", schema: classSchema } },
    }),
    requireUser,
    jsonBody(createClassBodySchema),
    async (c) => c.json(await createClass({ ctx: serviceContext(c), input: c.req.valid("json") }), 201),
  );

  app.get(
    "/:id",
    describeRoute({ summary: "A class", tags, access: "its members and admins over its group", responses: { 200: { description: "The class", schema: classSchema } } }),
    requireUser,
    pathParams(idParamSchema),
    async (c) => c.json(await getClass({ ctx: serviceContext(c), input: c.req.valid("param") }), 200),
  );

  app.patch(
    "/:id",
    describeRoute({ summary: "Rename a class or change its term", tags, access: manage, responses: { 200: { description: "The class", schema: classSchema } } }),
    requireUser,
    pathParams(idParamSchema),
    jsonBody(updateClassBodySchema),
    async (c) => {
      const { id } = c.req.valid("param");
      return c.json(await updateClass({ ctx: serviceContext(c), input: { id, body: c.req.valid("json") } }), 200);
    },
  );

  app.post(
    "/:id/archive",
    describeRoute({ summary: "Archive a class (idempotent)", tags, access: manage, responses: { 200: { description: "The archived class", schema: classSchema } } }),
    requireUser,
    pathParams(idParamSchema),
    async (c) => c.json(await archiveClass({ ctx: serviceContext(c), input: c.req.valid("param") }), 200),
  );

  app.get(
    "/:id/members",
    describeRoute({ summary: "The class roster", tags, access: manage, responses: { 200: { description: "A page of members", schema: pageOf(classMemberSchema) } } }),
    requireUser,
    pathParams(idParamSchema),
    queryParams(pageQuerySchema),
    async (c) => c.json(await listClassMembers({ ctx: serviceContext(c), input: { ...c.req.valid("param"), ...c.req.valid("query") } }), 200),
  );

  app.get(
    "/:id/presence",
    describeRoute({
      summary: "Who is in the class room now",
      description:
        "Students with a session of the class open and staff watching it. Live changes arrive as `presence.changed` events in `class:<id>`; load this after a `reset`.",
      tags,
      access: manage,
      responses: { 200: { description: "Everyone online, once per user", schema: classPresenceSchema } },
    }),
    requireUser,
    pathParams(idParamSchema),
    async (c) => c.json(await listClassPresence({ ctx: { ...serviceContext(c), presence: c.var.deps.presence }, input: c.req.valid("param") }), 200),
  );

  app.post(
    "/:id/members",
    describeRoute({
      summary: "Add a teacher or student to a class",
      tags,
      access: manage,
      responses: { 201: { description: "The membership", schema: classMemberSchema } },
      errors: [409],
    }),
    requireUser,
    pathParams(idParamSchema),
    jsonBody(addClassMemberBodySchema),
    async (c) => {
      const { id } = c.req.valid("param");
      return c.json(await addClassMember({ ctx: serviceContext(c), input: { id, body: c.req.valid("json") } }), 201);
    },
  );

  app.delete(
    "/:id/members/:userId",
    describeRoute({ summary: "Remove someone from a class", tags, access: manage, responses: { 204: { description: "Removed" } } }),
    requireUser,
    pathParams(classMemberParamsSchema),
    async (c) => {
      await removeClassMember({ ctx: serviceContext(c), input: c.req.valid("param") });
      return c.body(null, 204);
    },
  );

  return app;
}
