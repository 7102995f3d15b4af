import { assignmentSchema, createAssignmentBodySchema, idParamSchema, listAssignmentsQuerySchema, pageOf, updateAssignmentBodySchema } from "@raptscallions/core";
import { Hono } from "hono";
import { requireUser } from "../../auth/middleware.ts";
import type { AppEnv } from "../../deps.ts";
import { describeRoute, jsonBody, pathParams, queryParams } from "../../openapi/index.ts";
import { getAssignment, listAssignments } from "../../services/assignments/list.ts";
import { createAssignment, deleteAssignment, updateAssignment } from "../../services/assignments/write.ts";
import { serviceContext } from "../../services/context.ts";

const tags = ["assignments"];
const manage = "the class's teachers and admins over its group";

/**
 * Assignments, mounted at `/api`: `/classes/:id/assignments` (list, create) and
 * `/assignments/:id`. Middleware is per route: nothing here applies to other `/api` routes.
 */
export function assignmentRoutes() {
  const app = new Hono<AppEnv>();

  app.get(
    "/classes/:id/assignments",
    describeRoute({
      summary: "A class's assignments",
      description: "Students see only assignments that are available.",
      tags,
      access: "the class's members and admins over its group",
      responses: { 200: { description: "A page of assignments", schema: pageOf(assignmentSchema) } },
    }),
    requireUser,
    pathParams(idParamSchema),
    queryParams(listAssignmentsQuerySchema),
    async (c) => {
      const { id } = c.req.valid("param");
      return c.json(await listAssignments({ ctx: serviceContext(c), input: { classId: id, ...c.req.valid("query") } }), 200);
    },
  );

  app.post(
    "/classes/:id/assignments",
    describeRoute({
      summary: "Create an assignment pinned to a tool version",
      description: "`toolVersion` defaults to the tool's latest version; the tool must belong to the class's group or one above it.",
      tags,
      access: manage,
      responses: { 201: { description: "The assignment", schema: assignmentSchema } },
      errors: [409],
    }),
    requireUser,
    pathParams(idParamSchema),
    jsonBody(createAssignmentBodySchema),
    async (c) => {
      const { id } = c.req.valid("param");
      return c.json(await createAssignment({ ctx: serviceContext(c), input: { classId: id, body: c.req.valid("json") } }), 201);
    },
  );

  app.get(
    "/assignments/:id",
    describeRoute({
      summary: "An assignment",
      tags,
      access: "the class's staff; its students once it is available",
      responses: { 200: { description: "The assignment", schema: assignmentSchema } },
    }),
    requireUser,
    pathParams(idParamSchema),
    async (c) => c.json(await getAssignment({ ctx: serviceContext(c), input: c.req.valid("param") }), 200),
  );

  app.patch(
    "/assignments/:id",
    describeRoute({
      summary: "Update an assignment",
      description: "`toolVersion` re-pins to another version of the same tool, explicitly.",
      tags,
      access: manage,
      responses: { 200: { description: "The assignment", schema: assignmentSchema } },
    }),
    requireUser,
    pathParams(idParamSchema),
    jsonBody(updateAssignmentBodySchema),
    async (c) => {
      const { id } = c.req.valid("param");
      return c.json(await updateAssignment({ ctx: serviceContext(c), input: { id, body: c.req.valid("json") } }), 200);
    },
  );

  app.delete(
    "/assignments/:id",
    describeRoute({ summary: "Delete an assignment without submissions", tags, access: manage, responses: { 204: { description: "Deleted" } }, errors: [409] }),
    requireUser,
    pathParams(idParamSchema),
    async (c) => {
      await deleteAssignment({ ctx: serviceContext(c), input: c.req.valid("param") });
      return c.body(null, 204);
    },
  );

  return app;
}
