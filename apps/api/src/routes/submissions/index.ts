import { gradeSubmissionBodySchema, idParamSchema, listSubmissionsQuerySchema, pageOf, submissionSchema } from "@raptscallions/core";
import { Hono } from "hono";
import { requireUser } from "../../auth/middleware.ts";
import type { AppEnv } from "../../deps.ts";
import { describeRoute, jsonBody, pathParams, queryParams } from "../../openapi/index.ts";
import { serviceContext } from "../../services/context.ts";
import { gradeSubmission } from "../../services/submissions/grade.ts";
import { getSubmission, listSubmissions } from "../../services/submissions/list.ts";

const tags = ["submissions"];

/**
 * Submissions, mounted at `/api`: `/assignments/:id/submissions` and `/submissions/:id`.
 * Attempts are created by the live-sessions routes (services/submissions/create-attempt.ts).
 */
export function submissionRoutes() {
  const app = new Hono<AppEnv>();

  app.get(
    "/assignments/:id/submissions",
    describeRoute({
      summary: "Submissions for an assignment",
      description: "Staff see every student's (filter with `studentId`); a student only their own.",
      tags,
      access: "the class's teachers and admins; its students (own only)",
      responses: { 200: { description: "A page of submissions", schema: pageOf(submissionSchema) } },
    }),
    requireUser,
    pathParams(idParamSchema),
    queryParams(listSubmissionsQuerySchema),
    async (c) => {
      const { id } = c.req.valid("param");
      return c.json(await listSubmissions({ ctx: serviceContext(c), input: { assignmentId: id, ...c.req.valid("query") } }), 200);
    },
  );

  app.get(
    "/submissions/:id",
    describeRoute({
      summary: "A submission",
      tags,
      access: "its student, the class's teachers and admins over its group",
      responses: { 200: { description: "The submission", schema: submissionSchema } },
    }),
    requireUser,
    pathParams(idParamSchema),
    async (c) => c.json(await getSubmission({ ctx: serviceContext(c), input: c.req.valid("param") }), 200),
  );

  app.patch(
    "/submissions/:id",
    describeRoute({
      summary: "Grade a submission or give feedback",
      description: "A grade needs a submitted attempt (409 otherwise) and marks it graded; a null grade reverts to submitted.",
      tags,
      access: "the class's teachers and admins over its group",
      responses: { 200: { description: "The submission", schema: submissionSchema } },
      errors: [409],
    }),
    requireUser,
    pathParams(idParamSchema),
    jsonBody(gradeSubmissionBodySchema),
    async (c) => {
      const { id } = c.req.valid("param");
      return c.json(await gradeSubmission({ ctx: serviceContext(c), input: { id, body: c.req.valid("json") } }), 200);
    },
  );

  return app;
}
