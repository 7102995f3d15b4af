import {
  alertSchema,
  assignmentSchema,
  classMemberSchema,
  classSchema,
  groupSchema,
  idParamSchema,
  listAlertsQuerySchema,
  listClassesQuerySchema,
  listGroupsQuerySchema,
  listSessionsQuerySchema,
  listToolsQuerySchema,
  meResponseSchema,
  messagePageSchema,
  pageOf,
  pageQuerySchema,
  sendMessageBodySchema,
  sendMessageResponseSchema,
  sessionWithRoomSchema,
  startSessionBodySchema,
  resolvedThemeSchema,
  sessionDtoSchema,
  stopGenerationResponseSchema,
  themePatchSchema,
  themeTemplatesResponseSchema,
  ticketResponseSchema,
  toolSchema,
  usageSummaryQuerySchema,
  usageSummarySchema,
} from "@raptscallions/core";
import { z } from "zod";

/**
 * Every REST operation the client calls, in one table: method, path template and the zod schemas
 * from @raptscallions/core that the server validates with. Types of inputs and results come from
 * those schemas, so a changed schema breaks the client at compile time, not at run time.
 */
export const operations = {
  createTicket: { method: "POST", path: "/api/realtime/tickets", status: [201], response: ticketResponseSchema },
  startSession: {
    method: "POST",
    path: "/api/sessions",
    status: [201],
    body: startSessionBodySchema,
    response: z.object({ session: sessionWithRoomSchema.shape.session }),
  },
  getSession: { method: "GET", path: "/api/sessions/:id", params: idParamSchema, status: [200], response: sessionWithRoomSchema },
  listMessages: {
    method: "GET",
    path: "/api/sessions/:id/messages",
    params: idParamSchema,
    query: pageQuerySchema.partial(),
    status: [200],
    response: messagePageSchema,
  },
  sendMessage: {
    method: "POST",
    path: "/api/sessions/:id/messages",
    params: idParamSchema,
    body: sendMessageBodySchema,
    status: [200, 201],
    response: sendMessageResponseSchema,
  },
  stopGeneration: {
    method: "POST",
    path: "/api/sessions/:id/stop",
    params: idParamSchema,
    status: [202],
    response: stopGenerationResponseSchema,
  },
  // What a console needs beyond the live path: who am I, my classes and tools, a class's roster,
  // sessions and alerts, teacher actions, the group tree, usage and themes.
  getMe: { method: "GET", path: "/api/me", status: [200], response: meResponseSchema },
  listClasses: { method: "GET", path: "/api/classes", query: listClassesQuerySchema.partial(), status: [200], response: pageOf(classSchema) },
  getClass: { method: "GET", path: "/api/classes/:id", params: idParamSchema, status: [200], response: classSchema },
  listClassMembers: {
    method: "GET",
    path: "/api/classes/:id/members",
    params: idParamSchema,
    query: pageQuerySchema.partial(),
    status: [200],
    response: pageOf(classMemberSchema),
  },
  listClassAssignments: {
    method: "GET",
    path: "/api/classes/:id/assignments",
    params: idParamSchema,
    query: pageQuerySchema.partial(),
    status: [200],
    response: pageOf(assignmentSchema),
  },
  listTools: { method: "GET", path: "/api/tools", query: listToolsQuerySchema.partial(), status: [200], response: pageOf(toolSchema) },
  listSessions: { method: "GET", path: "/api/sessions", query: listSessionsQuerySchema.partial(), status: [200], response: pageOf(sessionDtoSchema) },
  pauseSession: { method: "POST", path: "/api/sessions/:id/pause", params: idParamSchema, status: [200], response: z.object({ session: sessionDtoSchema }) },
  resumeSession: { method: "POST", path: "/api/sessions/:id/resume", params: idParamSchema, status: [200], response: z.object({ session: sessionDtoSchema }) },
  endSession: { method: "POST", path: "/api/sessions/:id/end", params: idParamSchema, status: [200], response: z.object({ session: sessionDtoSchema }) },
  listAlerts: { method: "GET", path: "/api/alerts", query: listAlertsQuerySchema.partial(), status: [200], response: pageOf(alertSchema) },
  acknowledgeAlert: { method: "POST", path: "/api/alerts/:id/acknowledge", params: idParamSchema, status: [200], response: alertSchema },
  dismissAlert: { method: "POST", path: "/api/alerts/:id/dismiss", params: idParamSchema, status: [200], response: alertSchema },
  listGroups: { method: "GET", path: "/api/groups", query: listGroupsQuerySchema.partial(), status: [200], response: pageOf(groupSchema) },
  getGroupTheme: { method: "GET", path: "/api/groups/:id/theme", params: idParamSchema, status: [200], response: resolvedThemeSchema },
  patchGroupTheme: {
    method: "PATCH",
    path: "/api/groups/:id/theme",
    params: idParamSchema,
    body: themePatchSchema,
    status: [200],
    response: resolvedThemeSchema,
  },
  listThemeTemplates: { method: "GET", path: "/api/themes/templates", status: [200], response: themeTemplatesResponseSchema },
  usageSummary: { method: "GET", path: "/api/usage/summary", query: usageSummaryQuerySchema, status: [200], response: usageSummarySchema },
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
