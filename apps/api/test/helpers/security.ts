import { describe, expect, test } from "bun:test";
import { authHeader, tokenFor } from "./auth.ts";

/** Anything `app.request` can be called on (the app under test). */
export interface RequestTarget {
  request(path: string, init?: RequestInit): Response | Promise<Response>;
}
/** A user row (or anything with a Clerk id) to sign a token for. */
export interface Caller {
  clerkUserId: string | null;
}
export type Method = "GET" | "POST" | "PATCH" | "PUT" | "DELETE";

export interface CallResult<T = unknown> {
  status: number;
  body: T;
  headers: Headers;
}

/** Calls the app as `as` (or anonymously) with an optional JSON body; parses JSON responses. */
export async function call<T = Record<string, unknown>>(
  app: RequestTarget,
  method: Method,
  path: string,
  opts: { as?: Caller; body?: unknown; headers?: Record<string, string> } = {},
): Promise<CallResult<T>> {
  const headers: Record<string, string> = { ...opts.headers };
  if (opts.as) Object.assign(headers, await authHeader(opts.as));
  const init: RequestInit = { method, headers };
  if (opts.body !== undefined) {
    headers["content-type"] = "application/json";
    init.body = JSON.stringify(opts.body);
  }
  const res = await app.request(path, init);
  const text = await res.text();
  const isJson = (res.headers.get("content-type") ?? "").includes("json") && text.length > 0;
  return { status: res.status, body: (isJson ? JSON.parse(text) : text) as T, headers: res.headers };
}

/** The error code of an error response (undefined when the body is not the error envelope). */
export function errorCode(body: unknown): string | undefined {
  if (typeof body !== "object" || body === null || !("error" in body)) return undefined;
  const err = (body as { error: unknown }).error;
  return typeof err === "object" && err !== null && "code" in err ? String((err as { code: unknown }).code) : undefined;
}

/** One route as the security cases see it; everything lazy, because scene rows exist only at run time. */
export interface SecuredRoute {
  method: Method;
  /** Label for test names, e.g. `/api/groups/:id`. */
  route: string;
  path: () => string;
  body?: () => unknown;
  /**
   * Signed-in callers who must not reach this resource: 404 when they may not even see it (no
   * existence leak), 403 when they see it but may not do this.
   */
  denied?: () => { who: Caller; status: 403 | 404; as?: string }[];
}

export interface SecurityCase {
  name: string;
  run: (app: RequestTarget) => Promise<void>;
}

async function expectUnauthenticated(app: RequestTarget, r: SecuredRoute, headers: Record<string, string>) {
  const res = await call(app, r.method, r.path(), { body: r.body?.(), headers });
  expect(res.status).toBe(401);
  expect(errorCode(res.body)).toBe("UNAUTHENTICATED");
}

/**
 * The security cases every route must pass, as named runnable cases: no token, a malformed
 * token, an expired token, a wrong scheme, and each denied caller.
 */
export function securityCases(r: SecuredRoute): SecurityCase[] {
  const cases: SecurityCase[] = [
    { name: "no token → 401", run: (app) => expectUnauthenticated(app, r, {}) },
    { name: "malformed token → 401", run: (app) => expectUnauthenticated(app, r, { authorization: "Bearer not.a.jwt" }) },
    {
      name: "expired token → 401",
      run: async (app) => {
        const token = await tokenFor("user_security_expired", { issuedAt: Math.floor(Date.now() / 1000) - 7200, expiresInSeconds: 60 });
        await expectUnauthenticated(app, r, { authorization: `Bearer ${token}` });
      },
    },
    { name: "non-bearer scheme → 401", run: (app) => expectUnauthenticated(app, r, { authorization: "Basic dXNlcjpwYXNz" }) },
  ];
  const denied = r.denied;
  if (denied) {
    cases.push({
      name: "callers who may not reach it → 404/403",
      run: async (app) => {
        const list = denied();
        expect(list.length).toBeGreaterThan(0);
        for (const d of list) {
          const res = await call(app, r.method, r.path(), { as: d.who, body: r.body?.() });
          const label = `${r.method} ${r.route} as ${d.as ?? d.who.clerkUserId}`;
          expect({ label, status: res.status }).toEqual({ label, status: d.status });
          expect(errorCode(res.body)).toBe(d.status === 404 ? "NOT_FOUND" : "FORBIDDEN");
        }
      },
    });
  }
  return cases;
}

/** Registers every security case of every route as its own test. */
export function securityTests(title: string, app: () => RequestTarget, routes: SecuredRoute[]): void {
  describe(`${title}: security`, () => {
    for (const r of routes) {
      for (const c of securityCases(r)) {
        test(`${r.method} ${r.route}: ${c.name}`, () => c.run(app()));
      }
    }
  });
}
