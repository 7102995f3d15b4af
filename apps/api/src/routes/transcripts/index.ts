import { idParamSchema, transcriptQuerySchema, transcriptSchema } from "@raptscallions/core";
import { Hono } from "hono";
import { requireUser } from "../../auth/middleware.ts";
import type { AppEnv } from "../../deps.ts";
import { describeRoute, pathParams, queryParams } from "../../openapi/index.ts";
import { serviceContext } from "../../services/context.ts";
import { exportTranscript } from "../../services/transcripts/export.ts";
import type { TranscriptKind } from "../../services/transcripts/scope.ts";

const SCOPES: { kind: TranscriptKind; path: string; summary: string; access: string }[] = [
  {
    kind: "session",
    path: "/sessions/:id",
    summary: "Export one session's transcript",
    access: "the student, teachers of the session's class and admins over its group",
  },
  { kind: "class", path: "/classes/:id", summary: "Export every session of a class", access: "teachers of the class and admins over its group" },
  {
    kind: "assignment",
    path: "/assignments/:id",
    summary: "Export every session on an assignment",
    access: "teachers of the assignment's class and admins over its group",
  },
];

/** Transcript exports, streamed as JSON or CSV. Mounted at `/api/transcripts`. */
export function transcriptRoutes() {
  const app = new Hono<AppEnv>();
  for (const scope of SCOPES) {
    app.get(
      scope.path,
      describeRoute({
        summary: scope.summary,
        description:
          "Streamed: sessions oldest first, messages in seq order; `?format=csv` gives one row per message. The student's personal details are redacted unless the caller is the student or an admin over the session's group. Audited (`transcript.export`, and `session.view` per session).",
        tags: ["transcripts"],
        access: scope.access,
        responses: { 200: { description: "The transcript (JSON shown; CSV with `format=csv`)", schema: transcriptSchema } },
      }),
      requireUser,
      pathParams(idParamSchema),
      queryParams(transcriptQuerySchema),
      async (c) => {
        const input = { kind: scope.kind, id: c.req.valid("param").id, ...c.req.valid("query") };
        const out = await exportTranscript({ ctx: serviceContext(c), input });
        return c.body(out.body, 200, {
          "content-type": out.contentType,
          "content-disposition": `attachment; filename="${out.fileName}"`,
          "cache-control": "no-store",
        });
      },
    );
  }
  return app;
}
