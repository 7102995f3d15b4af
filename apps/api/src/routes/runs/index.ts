import { idParamSchema, listRunsQuerySchema, pageOf, runDtoSchema, runResponseSchema, startRunBodySchema, stopRunResponseSchema } from "@raptscallions/core";
import { Hono } from "hono";
import { requireUser } from "../../auth/middleware.ts";
import type { AppEnv } from "../../deps.ts";
import { describeRoute, jsonBody, pathParams, queryParams } from "../../openapi/index.ts";
import { serviceContext } from "../../services/context.ts";
import { getRun, listRuns } from "../../services/runs/read.ts";
import { startRun } from "../../services/runs/start.ts";
import { stopRun } from "../../services/runs/stop.ts";

const tags = ["runs"];
const viewers = "whoever started the run, teachers of its class and admins over its group";

/** Runs of product tools. Mounted at `/api/runs`. */
export function runRoutes() {
  const app = new Hono<AppEnv>();
  app.post(
    "/",
    describeRoute({
      summary: "Run a product tool with its form's inputs; the output streams into the run's room",
      description:
        "Pinned to the tool's latest version. Inputs are checked against its form (422 with a detail per field). Limits and budgets apply as for chat (429 with Retry-After, nothing streamed).",
      tags,
      access: "anyone who may use the tool (and, with `classId`, a member of the class)",
      responses: { 201: { description: "The run, streaming; subscribe to `room.name` from `(epoch, offset)`", schema: runResponseSchema } },
      errors: [409, 429, 503],
    }),
    requireUser,
    jsonBody(startRunBodySchema),
    async (c) => c.json(await startRun({ ctx: serviceContext(c), input: c.req.valid("json") }), 201),
  );
  app.get(
    "/",
    describeRoute({
      summary: "Runs, newest first: the caller's own, or with `classId` a class's",
      tags,
      access: "anyone (their own runs); teachers and admins (a class's runs)",
      responses: { 200: { description: "A page of runs", schema: pageOf(runDtoSchema) } },
    }),
    requireUser,
    queryParams(listRunsQuerySchema),
    async (c) => c.json(await listRuns({ ctx: serviceContext(c), input: c.req.valid("query") }), 200),
  );
  app.get(
    "/:id",
    describeRoute({
      summary: "A run (its output so far) and where its room stands",
      tags,
      access: viewers,
      responses: { 200: { description: "The run and its room position", schema: runResponseSchema } },
    }),
    requireUser,
    pathParams(idParamSchema),
    async (c) => c.json(await getRun({ ctx: serviceContext(c), input: { runId: c.req.valid("param").id } }), 200),
  );
  app.post(
    "/:id/stop",
    describeRoute({
      summary: "Stop a running run",
      description: "Accepted: the upstream call is aborted and the run ends `stopped` (watch its room for `run.completed`).",
      tags,
      access: viewers,
      responses: { 202: { description: "Whether a running run is being stopped", schema: stopRunResponseSchema } },
    }),
    requireUser,
    pathParams(idParamSchema),
    async (c) => c.json(await stopRun({ ctx: serviceContext(c), input: { runId: c.req.valid("param").id } }), 202),
  );
  return app;
}
