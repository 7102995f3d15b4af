import {
  addClassMemberBodySchema,
  alertSchema,
  applyThemeTemplateSchema,
  assignmentSchema,
  classAttentionSchema,
  classMemberParamsSchema,
  classMemberSchema,
  classPresenceSchema,
  classSchema,
  groupSchema,
  idParamSchema,
  listAlertsQuerySchema,
  listClassesQuerySchema,
  listGroupsQuerySchema,
  listSessionsQuerySchema,
  listThemeAssetsQuerySchema,
  listToolsQuerySchema,
  meResponseSchema,
  messagePageSchema,
  pageOf,
  pageQuerySchema,
  resolvedThemeSchema,
  sendMessageBodySchema,
  sendMessageResponseSchema,
  sessionDtoSchema,
  sessionResponseSchema,
  sessionSnapshotResponseSchema,
  sessionSummaryListSchema,
  sessionSummarySchema,
  sessionWithRoomSchema,
  startSessionBodySchema,
  stopGenerationResponseSchema,
  startRunBodySchema,
  runResponseSchema,
  listRunsQuerySchema,
  runDtoSchema,
  stopRunResponseSchema,
  submitSessionResponseSchema,
  teacherMessageResponseSchema,
  themeAssetListResponseSchema,
  themePatchSchema,
  themeTemplatesResponseSchema,
  ticketResponseSchema,
  toolDetailSchema,
  toolSchema,
  usageSummaryQuerySchema,
  usageSummarySchema,
  listPrivacyStudentsQuerySchema,
  privacyStudentSummarySchema,
  privacyStudentSchema,
  erasureResultSchema,
} from "@raptscallions/core";
import { z } from "zod";

const page = pageQuerySchema.partial();
const byId = idParamSchema;

/**
 * Every REST operation the client calls, in one table: method, path template, success statuses
 * and the zod schemas from @raptscallions/core that the server validates with and documents in
 * /openapi.json. Types of inputs and results come from those schemas, so a changed schema breaks
 * the client at compile time; test/rest-table.test.ts checks each row against the OpenAPI
 * document (path, method, statuses, body and response schemas), so a row cannot drift from the
 * route it names.
 */
export const operations = {
  // Realtime and the live path.
  createTicket: { method: "POST", path: "/api/realtime/tickets", status: [201], response: ticketResponseSchema },
  startSession: { method: "POST", path: "/api/sessions", status: [201], body: startSessionBodySchema, response: sessionResponseSchema },
  listSessions: { method: "GET", path: "/api/sessions", query: listSessionsQuerySchema.partial(), status: [200], response: pageOf(sessionDtoSchema) },
  getSession: { method: "GET", path: "/api/sessions/:id", params: byId, status: [200], response: sessionWithRoomSchema },
  getSessionSnapshot: { method: "GET", path: "/api/sessions/:id/snapshot", params: byId, status: [200], response: sessionSnapshotResponseSchema },
  listMessages: { method: "GET", path: "/api/sessions/:id/messages", params: byId, query: page, status: [200], response: messagePageSchema },
  sendMessage: { method: "POST", path: "/api/sessions/:id/messages", params: byId, body: sendMessageBodySchema, status: [200, 201], response: sendMessageResponseSchema },
  postTeacherMessage: {
    method: "POST",
    path: "/api/sessions/:id/teacher-messages",
    params: byId,
    body: sendMessageBodySchema,
    status: [200, 201],
    response: teacherMessageResponseSchema,
  },
  stopGeneration: { method: "POST", path: "/api/sessions/:id/stop", params: byId, status: [202], response: stopGenerationResponseSchema },
  startRun: { method: "POST", path: "/api/runs", status: [201], body: startRunBodySchema, response: runResponseSchema },
  listRuns: { method: "GET", path: "/api/runs", query: listRunsQuerySchema.partial(), status: [200], response: pageOf(runDtoSchema) },
  getRun: { method: "GET", path: "/api/runs/:id", params: byId, status: [200], response: runResponseSchema },
  stopRun: { method: "POST", path: "/api/runs/:id/stop", params: byId, status: [202], response: stopRunResponseSchema },
  pauseSession: { method: "POST", path: "/api/sessions/:id/pause", params: byId, status: [200], response: sessionResponseSchema },
  resumeSession: { method: "POST", path: "/api/sessions/:id/resume", params: byId, status: [200], response: sessionResponseSchema },
  endSession: { method: "POST", path: "/api/sessions/:id/end", params: byId, status: [200], response: sessionResponseSchema },
  submitSession: { method: "POST", path: "/api/sessions/:id/submit", params: byId, status: [200], response: submitSessionResponseSchema },

  // Who am I, and the classroom around me.
  getMe: { method: "GET", path: "/api/me", status: [200], response: meResponseSchema },
  listClasses: { method: "GET", path: "/api/classes", query: listClassesQuerySchema.partial(), status: [200], response: pageOf(classSchema) },
  getClass: { method: "GET", path: "/api/classes/:id", params: byId, status: [200], response: classSchema },
  listClassMembers: { method: "GET", path: "/api/classes/:id/members", params: byId, query: page, status: [200], response: pageOf(classMemberSchema) },
  addClassMember: { method: "POST", path: "/api/classes/:id/members", params: byId, body: addClassMemberBodySchema, status: [201], response: classMemberSchema },
  removeClassMember: { method: "DELETE", path: "/api/classes/:id/members/:userId", params: classMemberParamsSchema, status: [204], response: z.null() },
  getClassPresence: { method: "GET", path: "/api/classes/:id/presence", params: byId, status: [200], response: classPresenceSchema },
  listClassAssignments: { method: "GET", path: "/api/classes/:id/assignments", params: byId, query: page, status: [200], response: pageOf(assignmentSchema) },
  getAssignment: { method: "GET", path: "/api/assignments/:id", params: byId, status: [200], response: assignmentSchema },
  listTools: { method: "GET", path: "/api/tools", query: listToolsQuerySchema.partial(), status: [200], response: pageOf(toolSchema) },
  getTool: { method: "GET", path: "/api/tools/:id", params: byId, status: [200], response: toolDetailSchema },

  // Alerts a teacher reviews.
  listAlerts: { method: "GET", path: "/api/alerts", query: listAlertsQuerySchema.partial(), status: [200], response: pageOf(alertSchema) },
  acknowledgeAlert: { method: "POST", path: "/api/alerts/:id/acknowledge", params: byId, status: [200], response: alertSchema },
  dismissAlert: { method: "POST", path: "/api/alerts/:id/dismiss", params: byId, status: [200], response: alertSchema },

  // Teacher insights: session summaries and who needs attention.
  listSessionSummaries: { method: "GET", path: "/api/sessions/:id/summaries", params: byId, status: [200], response: sessionSummaryListSchema },
  requestSessionSummary: { method: "POST", path: "/api/sessions/:id/summaries", params: byId, status: [200, 201], response: z.object({ summary: sessionSummarySchema }) },
  getClassAttention: { method: "GET", path: "/api/classes/:id/attention", params: byId, status: [200], response: classAttentionSchema },

  // The group tree, usage and themes (admins).
  listGroups: { method: "GET", path: "/api/groups", query: listGroupsQuerySchema.partial(), status: [200], response: pageOf(groupSchema) },
  getGroup: { method: "GET", path: "/api/groups/:id", params: byId, status: [200], response: groupSchema },
  listGroupChildren: { method: "GET", path: "/api/groups/:id/children", params: byId, query: page, status: [200], response: pageOf(groupSchema) },
  listGroupSubtree: { method: "GET", path: "/api/groups/:id/subtree", params: byId, query: page, status: [200], response: pageOf(groupSchema) },
  listGroupAncestors: { method: "GET", path: "/api/groups/:id/ancestors", params: byId, status: [200], response: pageOf(groupSchema) },
  usageSummary: { method: "GET", path: "/api/usage/summary", query: usageSummaryQuerySchema.partial(), status: [200], response: usageSummarySchema },
  getGroupTheme: { method: "GET", path: "/api/groups/:id/theme", params: byId, status: [200], response: resolvedThemeSchema },
  patchGroupTheme: { method: "PATCH", path: "/api/groups/:id/theme", params: byId, body: themePatchSchema, status: [200], response: resolvedThemeSchema },
  resetGroupTheme: { method: "DELETE", path: "/api/groups/:id/theme", params: byId, status: [200], response: resolvedThemeSchema },
  applyThemeTemplate: {
    method: "POST",
    path: "/api/groups/:id/theme/apply-template",
    params: byId,
    body: applyThemeTemplateSchema,
    status: [200],
    response: resolvedThemeSchema,
  },
  listPrivacyStudents: {
    method: "GET",
    path: "/api/privacy/students",
    query: listPrivacyStudentsQuerySchema.partial(),
    status: [200],
    response: pageOf(privacyStudentSummarySchema),
  },
  getPrivacyStudent: { method: "GET", path: "/api/privacy/students/:id", params: byId, status: [200], response: privacyStudentSchema },
  eraseStudent: { method: "POST", path: "/api/privacy/students/:id/erase", params: byId, status: [200], response: erasureResultSchema },
  listThemeTemplates: { method: "GET", path: "/api/themes/templates", status: [200], response: themeTemplatesResponseSchema },
  listThemeAssets: {
    method: "GET",
    path: "/api/groups/:id/theme/assets",
    params: byId,
    query: listThemeAssetsQuerySchema.partial(),
    status: [200],
    response: themeAssetListResponseSchema,
  },
} as const satisfies Record<string, Operation>;

interface Operation {
  method: "GET" | "POST" | "PATCH" | "PUT" | "DELETE";
  path: string;
  status: readonly number[];
  params?: z.ZodType<Record<string, string>>;
  query?: z.ZodType;
  body?: z.ZodType;
  response: z.ZodType;
}

export type Operations = typeof operations;
export type OperationName = keyof Operations;

type InputOf<O> = (O extends { params: z.ZodType } ? { params: z.input<O["params"]> } : { params?: undefined }) &
  (O extends { query: z.ZodType } ? { query?: z.input<O["query"]> } : { query?: undefined }) &
  (O extends { body: z.ZodType } ? { body: z.input<O["body"]> } : { body?: undefined });

/** The input of an operation: path params, query and body, each typed by its schema. */
export type RestInput<N extends OperationName> = InputOf<Operations[N]>;
/** The parsed result of an operation. */
export type RestResult<N extends OperationName> = z.output<Operations[N]["response"]>;

/** A REST call that did not succeed: the server's error envelope, or a network failure (`status` 0). */
export class RestError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly details?: unknown,
  ) {
    super(message);
    this.name = "RestError";
  }

  /** Worth retrying: network failures, rate limits and server-side trouble (a Redis outage, a restart). */
  get transient(): boolean {
    return this.status === 0 || this.status === 429 || this.status >= 500;
  }
}

const errorEnvelope = z.object({ error: z.object({ code: z.string(), message: z.string(), details: z.unknown().optional() }) });

export interface RestOptions {
  baseUrl: string;
  getToken: () => Promise<string | null> | string | null;
  fetch?: typeof fetch;
}

/** The one request helper: fills the path, sends JSON with the bearer token, parses the answer by schema. */
export function createRest(opts: RestOptions) {
  const doFetch = opts.fetch ?? ((input: RequestInfo | URL, init?: RequestInit) => fetch(input, init));
  return async function call<N extends OperationName>(name: N, input: RestInput<N>): Promise<RestResult<N>> {
    const op: Operation = operations[name];
    const path = op.path.replace(/:(\w+)/g, (_, key: string) => {
      const value = (input.params as Record<string, string> | undefined)?.[key];
      if (value === undefined) throw new TypeError(`${name}: missing path parameter ${key}`);
      return encodeURIComponent(value);
    });
    const url = new URL(path, opts.baseUrl);
    for (const [k, v] of Object.entries((input.query as Record<string, unknown> | undefined) ?? {})) {
      if (v !== undefined) url.searchParams.set(k, String(v));
    }
    const token = await opts.getToken();
    const headers: Record<string, string> = {};
    if (token) headers.authorization = `Bearer ${token}`;
    if (input.body !== undefined) headers["content-type"] = "application/json";
    let res: Response;
    try {
      res = await doFetch(url, {
        method: op.method,
        headers,
        body: input.body === undefined ? undefined : JSON.stringify(input.body),
      });
    } catch (err) {
      throw new RestError(0, "NETWORK", err instanceof Error ? err.message : "network error");
    }
    const json: unknown = await res.json().catch(() => null);
    if (!op.status.includes(res.status)) {
      const env = errorEnvelope.safeParse(json);
      if (env.success) throw new RestError(res.status, env.data.error.code, env.data.error.message, env.data.error.details);
      throw new RestError(res.status, "HTTP_ERROR", `${op.method} ${op.path}: HTTP ${res.status}`);
    }
    const parsed = op.response.safeParse(json);
    if (!parsed.success) throw new RestError(res.status, "BAD_RESPONSE", `${op.method} ${op.path}: unexpected response shape`, parsed.error.issues);
    return parsed.data as RestResult<N>;
  };
}

export type RestCall = ReturnType<typeof createRest>;

/** A file the API streams (a student's export): the bytes and the name the server suggests. */
export function createDownload(opts: RestOptions) {
  const doFetch = opts.fetch ?? ((input: RequestInfo | URL, init?: RequestInit) => fetch(input, init));
  return async function download(path: string): Promise<{ blob: Blob; fileName: string | null }> {
    const token = await opts.getToken();
    let res: Response;
    try {
      res = await doFetch(new URL(path, opts.baseUrl), { headers: token ? { authorization: `Bearer ${token}` } : {} });
    } catch (err) {
      throw new RestError(0, "NETWORK", err instanceof Error ? err.message : "network error");
    }
    if (!res.ok) {
      const env = errorEnvelope.safeParse(await res.json().catch(() => null));
      if (env.success) throw new RestError(res.status, env.data.error.code, env.data.error.message, env.data.error.details);
      throw new RestError(res.status, "HTTP_ERROR", `GET ${path}: HTTP ${res.status}`);
    }
    const fileName = /filename="([^"]+)"/.exec(res.headers.get("content-disposition") ?? "")?.[1] ?? null;
    return { blob: await res.blob(), fileName };
  };
}
