import { auditEntrySchema, listAuditQuerySchema, pageOf } from "@raptscallions/core";
import { Hono } from "hono";
import { requireUser } from "../../auth/middleware.ts";
import type { AppEnv } from "../../deps.ts";
import { describeRoute, queryParams } from "../../openapi/index.ts";
import { listAudit } from "../../services/audit/list.ts";
import { serviceContext } from "../../services/context.ts";

/** The audit trail. Mounted at `/api/audit`. */
export function auditRoutes() {
  const app = new Hono<AppEnv>();
  app.get(
    "/",
    describeRoute({
      summary: "Audit log, newest first",
      description: "Filter by `targetType`/`targetId`, `groupId` (that group and below), `actorId` or `action`.",
      tags: ["audit"],
      access: "system admins (everything); group admins (entries of their subtrees)",
      responses: { 200: { description: "A page of entries", schema: pageOf(auditEntrySchema) } },
    }),
    requireUser,
    queryParams(listAuditQuerySchema),
    async (c) => c.json(await listAudit({ ctx: serviceContext(c), input: c.req.valid("query") }), 200),
  );
  return app;
}
