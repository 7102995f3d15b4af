import {
  createRosterConnectionBodySchema,
  idParamSchema,
  listRosterRunsQuerySchema,
  rosterConnectionListSchema,
  rosterConnectionSchema,
  rosterRunListSchema,
  rosterRunLogSchema,
  rosterRunParamsSchema,
  rosterRunSchema,
  triggerRosterRunBodySchema,
  updateRosterConnectionBodySchema,
} from "@raptscallions/core";
import { type Context, Hono } from "hono";
import { requireUser } from "../../auth/middleware.ts";
import type { AppEnv } from "../../deps.ts";
import { describeRoute, jsonBody, pathParams, queryParams } from "../../openapi/index.ts";
import { serviceContext } from "../../services/context.ts";
import {
  createRosterConnection,
  deleteRosterConnection,
  getRosterConnection,
  getRosterRun,
  listRosterConnections,
  listRosterRuns,
  updateRosterConnection,
} from "../../services/roster/connections.ts";
import { rosterConfigOf } from "../../services/roster/settings.ts";
import { triggerRosterRun, uploadRosterBundle } from "../../services/roster/trigger.ts";
import { readBundleBody } from "./bundle-body.ts";

const tags = ["roster"];
const admins = "administrators of the connection's group (or above it)";
const rosterContext = (c: Context<AppEnv>) => ({ ...serviceContext(c), roster: rosterConfigOf(c.var.deps.config) });

/** Roster connections (OneRoster REST or CSV bundles), their runs and logs. Paths are relative to `/api`. */
export function rosterRoutes() {
  const app = new Hono<AppEnv>();

  app.post(
    "/groups/:id/roster-connections",
    describeRoute({
      summary: "Connect a group to its student information system",
      description: "`oneroster_rest` with the server's URLs and client credentials (the secret is stored encrypted and never returned), or `csv` for uploaded bundles.",
      tags,
      access: "administrators of the group (or above it)",
      responses: { 201: { description: "The connection", schema: rosterConnectionSchema } },
    }),
    requireUser,
    pathParams(idParamSchema),
    jsonBody(createRosterConnectionBodySchema),
    async (c) => c.json(await createRosterConnection({ ctx: rosterContext(c), input: { groupId: c.req.valid("param").id, body: c.req.valid("json") } }), 201),
  );

  app.get(
    "/groups/:id/roster-connections",
    describeRoute({
      summary: "A group's roster connections",
      tags,
      access: "administrators of the group (or above it)",
      responses: { 200: { description: "The connections, each with its last run", schema: rosterConnectionListSchema } },
    }),
    requireUser,
    pathParams(idParamSchema),
    async (c) => c.json(await listRosterConnections({ ctx: serviceContext(c), input: { groupId: c.req.valid("param").id } }), 200),
  );

  app.get(
    "/roster-connections/:id",
    describeRoute({ summary: "A roster connection", tags, access: admins, responses: { 200: { description: "The connection", schema: rosterConnectionSchema } } }),
    requireUser,
    pathParams(idParamSchema),
    async (c) => c.json(await getRosterConnection({ ctx: serviceContext(c), input: c.req.valid("param") }), 200),
  );

  app.patch(
    "/roster-connections/:id",
    describeRoute({
      summary: "Change a roster connection",
      description: "`clientSecret` replaces the stored secret.",
      tags,
      access: admins,
      responses: { 200: { description: "The connection", schema: rosterConnectionSchema } },
    }),
    requireUser,
    pathParams(idParamSchema),
    jsonBody(updateRosterConnectionBodySchema),
    async (c) => c.json(await updateRosterConnection({ ctx: rosterContext(c), input: { id: c.req.valid("param").id, body: c.req.valid("json") } }), 200),
  );

  app.delete(
    "/roster-connections/:id",
    describeRoute({
      summary: "Delete a roster connection",
      description: "Its runs and links go; what it synced stays, as ordinary classes and enrolments.",
      tags,
      access: admins,
      responses: { 204: { description: "Deleted" } },
    }),
    requireUser,
    pathParams(idParamSchema),
    async (c) => {
      await deleteRosterConnection({ ctx: serviceContext(c), input: c.req.valid("param") });
      return c.body(null, 204);
    },
  );

  app.post(
    "/roster-connections/:id/runs",
    describeRoute({
      summary: "Sync a REST connection now",
      description: "202 with the run, queued; 409 while another run of the connection is going.",
      tags,
      access: admins,
      responses: { 202: { description: "The run", schema: rosterRunSchema } },
      errors: [409],
    }),
    requireUser,
    pathParams(idParamSchema),
    jsonBody(triggerRosterRunBodySchema),
    async (c) => c.json(await triggerRosterRun({ ctx: rosterContext(c), input: { id: c.req.valid("param").id, mode: c.req.valid("json").mode } }), 202),
  );

  app.post(
    "/roster-connections/:id/bundles",
    describeRoute({
      summary: "Upload a OneRoster 1.2 CSV bundle and sync from it",
      description:
        "The zip as the request body (`Content-Type: application/zip`), at most ROSTER_UPLOAD_LIMIT_BYTES. 202 with the run, queued; 415 when the body is not a zip, 422 when the zip is not a bundle, 409 while another run is going.",
      tags,
      access: admins,
      responses: { 202: { description: "The run", schema: rosterRunSchema } },
      errors: [409, 413, 415],
    }),
    requireUser,
    pathParams(idParamSchema),
    async (c) => {
      const roster = rosterConfigOf(c.var.deps.config);
      const bytes = await readBundleBody(c.req.raw, roster.uploadLimitBytes);
      return c.json(await uploadRosterBundle({ ctx: rosterContext(c), input: { id: c.req.valid("param").id, bytes } }), 202);
    },
  );

  app.get(
    "/roster-connections/:id/runs",
    describeRoute({
      summary: "A connection's latest runs",
      tags,
      access: admins,
      responses: { 200: { description: "Runs, newest first", schema: rosterRunListSchema } },
    }),
    requireUser,
    pathParams(idParamSchema),
    queryParams(listRosterRunsQuerySchema),
    async (c) => c.json(await listRosterRuns({ ctx: serviceContext(c), input: { ...c.req.valid("param"), ...c.req.valid("query") } }), 200),
  );

  app.get(
    "/roster-connections/:id/runs/:runId",
    describeRoute({
      summary: "A run and its log",
      description: "Counts per entity (created, updated, removed, skipped, unchanged) and the records it refused, with their line or sourcedId and the reason.",
      tags,
      access: admins,
      responses: { 200: { description: "The run", schema: rosterRunLogSchema } },
    }),
    requireUser,
    pathParams(rosterRunParamsSchema),
    async (c) => c.json(await getRosterRun({ ctx: serviceContext(c), input: c.req.valid("param") }), 200),
  );

  return app;
}
