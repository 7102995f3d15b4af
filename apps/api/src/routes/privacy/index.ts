import { erasureResultSchema, idParamSchema, listPrivacyStudentsQuerySchema, pageOf, privacyStudentSchema, privacyStudentSummarySchema } from "@raptscallions/core";
import { Hono } from "hono";
import { requireUser } from "../../auth/middleware.ts";
import type { AppEnv } from "../../deps.ts";
import { describeRoute, pathParams, queryParams } from "../../openapi/index.ts";
import { serviceContext } from "../../services/context.ts";
import { eraseStudent } from "../../services/privacy/erase.ts";
import { exportStudent } from "../../services/privacy/export.ts";
import { getPrivacyStudent, listPrivacyStudents } from "../../services/privacy/students.ts";

const tags = ["privacy"];
const access = "admins whose groups the student has data in (district, school or system admins); never teachers";

/** A student's data rights: find, export, erase (docs/privacy.md). Mounted at `/api/privacy`. */
export function privacyRoutes() {
  const app = new Hono<AppEnv>();

  app.get(
    "/students",
    describeRoute({
      summary: "Find students by name or email",
      tags,
      access: "group admins (students of their subtrees) and system admins",
      responses: { 200: { description: "A page of students", schema: pageOf(privacyStudentSummarySchema) } },
    }),
    requireUser,
    queryParams(listPrivacyStudentsQuerySchema),
    async (c) => c.json(await listPrivacyStudents({ ctx: serviceContext(c), input: c.req.valid("query") }), 200),
  );

  app.get(
    "/students/:id",
    describeRoute({
      summary: "A student's groups, classes, under-13 flag and the erasure policy that applies",
      tags,
      access,
      responses: { 200: { description: "The student", schema: privacyStudentSchema } },
      errors: [409],
    }),
    requireUser,
    pathParams(idParamSchema),
    async (c) => c.json(await getPrivacyStudent({ ctx: serviceContext(c), input: c.req.valid("param") }), 200),
  );

  app.get(
    "/students/:id/export",
    describeRoute({
      summary: "Everything held about a student, as a zip archive (streamed)",
      description:
        "One JSON file per table (profile, memberships, sessions, messages, runs, submissions, findings, notifications, AI usage, audit entries, roster links) and a README.txt. Audited.",
      tags,
      access,
      responses: { 200: { description: "The archive", mediaType: "application/zip" } },
      errors: [409],
    }),
    requireUser,
    pathParams(idParamSchema),
    async (c) => {
      const out = await exportStudent({ ctx: serviceContext(c), input: { userId: c.req.valid("param").id } });
      return c.body(out.body, 200, {
        "content-type": "application/zip",
        "content-disposition": `attachment; filename="${out.fileName}"`,
        "cache-control": "no-store",
      });
    },
  );

  app.post(
    "/students/:id/erase",
    describeRoute({
      summary: "Erase a student per the groups' privacy policy (anonymise or delete)",
      description: "Ends the student's live sessions first. Idempotent: erasing again answers `alreadyErased: true`.",
      tags,
      access: "admins over every group the student has data in; system admins",
      responses: { 200: { description: "What was erased", schema: erasureResultSchema } },
      errors: [409],
    }),
    requireUser,
    pathParams(idParamSchema),
    async (c) => c.json(await eraseStudent({ ctx: serviceContext(c), input: { userId: c.req.valid("param").id } }), 200),
  );
  return app;
}
