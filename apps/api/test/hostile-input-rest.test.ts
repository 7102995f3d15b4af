import { beforeAll, describe, expect, test } from "bun:test";
import { useHarness } from "./helpers/harness.ts";
import { BAD_STRINGS, type BodyVariant, bodyVariants, IMPOSSIBLE_CURSORS, IMPOSSIBLE_DATES, IMPOSSIBLE_INSTANTS } from "./helpers/hostile.ts";
import { type Actor, type Fixture, fixtureBody, makeRestFixtures, pathOf, upload } from "./helpers/rest-fixtures.ts";

/**
 * Every REST operation of the OpenAPI document, called by a user who can reach it (so hostile
 * input gets past authentication and, were it not refused, into the service) with each hostile
 * class: NUL and unpaired surrogates in every path parameter, query parameter, body string and
 * object key; 50,000-deep nesting at every body leaf and as the body; impossible dates, integers
 * and cursors. Every answer must be a 4xx in the envelope with the code the input rules name —
 * never a 5xx. Each fixture is then sent as it is, to prove the caller reaches the operation.
 */
const WEBHOOK = "POST /api/webhooks/clerk"; // signed by Svix, not by a user: swept in the webhook tests

// The production body limit, so 50,000-deep bodies reach the parser instead of the 413.
const h = useHarness({ deps: (base) => ({ config: { ...base.config, bodyLimitBytes: 1024 * 1024 } }) });
let operations: string[] = [];
let fixtures: Record<string, Fixture> = {};
let headersOf: Record<Actor, Record<string, string>> = { admin: {}, teacher: {}, student: {} };

beforeAll(async () => {
  const doc = (await (await h.app.request("/openapi.json")).json()) as { paths: Record<string, Record<string, unknown>> };
  // The REST API; health, docs, the socket and the dev model have their own tests.
  operations = Object.entries(doc.paths)
    .filter(([path]) => path.startsWith("/api/"))
    .flatMap(([path, ops]) => Object.keys(ops).map((m) => `${m.toUpperCase()} ${path}`));

  ({ fixtures, headersOf } = await makeRestFixtures(h.db, h.app));
}, 120_000);

interface Sent {
  label: string;
  expect: string[];
  res: Response;
  /** Input that is hostile only to some operations (a cursor of another list's shape) may succeed. */
  mayPass?: boolean;
}

const failures: string[] = [];
const refusedCursors = new Set<string>();
let requests = 0;
let serverErrors = 0;

async function send(op: string, fx: Fixture, path: string, body?: { text: string | Uint8Array; type: string }): Promise<Response> {
  const headers: Record<string, string> = { ...headersOf[fx.as] };
  if (body) headers["content-type"] = body.type;
  requests += 1;
  return h.app.request(path, { method: op.split(" ")[0], headers, body: body?.text as BodyInit | undefined });
}

async function judge({ label, expect: codes, res, mayPass }: Sent): Promise<number> {
  const text = await res.text();
  if (res.status >= 500) serverErrors += 1;
  let code: string | undefined;
  try {
    const parsed = JSON.parse(text) as { error?: { code?: string; requestId?: string } };
    code = parsed.error?.requestId ? parsed.error.code : undefined;
  } catch {
    code = undefined;
  }
  if (mayPass && res.status < 300) return res.status;
  if (res.status < 400 || res.status >= 500 || code === undefined || !codes.includes(code)) {
    failures.push(`${label} → ${res.status} ${code ?? text.slice(0, 120)} (wanted ${codes.join("/")})`);
  }
  return res.status;
}

const validBody = (fx: Fixture) => (fx.body ? { text: JSON.stringify(fx.body), type: "application/json" } : undefined);

describe("hostile input never reaches a 5xx (every REST operation)", () => {
  test("every operation has a fixture with a caller who can reach it", () => {
    expect(operations.length).toBeGreaterThan(60);
    const missing = operations.filter((op) => op !== WEBHOOK && !fixtures[op]);
    expect(missing).toEqual([]);
    expect(Object.keys(fixtures).filter((op) => !operations.includes(op))).toEqual([]);
  });

  test("NUL, unpaired surrogates, deep nesting, impossible dates, integers and cursors → 4xx in the envelope", async () => {
    for (const op of operations) {
      const fx = fixtures[op];
      if (!fx) continue;
      const body = validBody(fx);
      // Path parameters: nothing is named with text the database cannot store.
      for (const name of Object.keys(fx.params)) {
        for (const bad of [`${fx.params[name]}%00`, "%00", "%ED%A0%80", "-".repeat(36), "a%00%ED%A0%80"]) {
          const res = await send(op, fx, pathOf(op, { ...fx.params, [name]: bad }, fx.query), body);
          await judge({ label: `${op} ${name}=${bad.slice(-12)}`, expect: ["NOT_FOUND"], res });
        }
      }
      // Query parameters, declared or not.
      for (const key of [...Object.keys(fx.query ?? {}), "undeclared"]) {
        for (const [name, bad] of BAD_STRINGS.slice(0, 1).concat([["NUL alone", "\u0000"]])) {
          const res = await send(op, fx, pathOf(op, fx.params, { ...fx.query, [key]: bad }), body);
          await judge({ label: `${op} ?${key}=${name}`, expect: ["BAD_REQUEST"], res });
        }
      }
      const nulKey = `${new URLSearchParams(fx.query ?? {}).toString()}&k%00=1`;
      await judge({ label: `${op} NUL in a query key`, expect: ["BAD_REQUEST"], res: await send(op, fx, pathOf(op, fx.params, nulKey), body) });
      if (fx.query && "limit" in fx.query) {
        // Each list has its own cursor shape: a cursor is impossible for the lists of its shape.
        for (const [name, cursor] of IMPOSSIBLE_CURSORS) {
          const res = await send(op, fx, pathOf(op, fx.params, { ...fx.query, cursor }), body);
          if ((await judge({ label: `${op} cursor ${name}`, expect: ["BAD_REQUEST"], res, mayPass: true })) === 400) refusedCursors.add(name);
        }
      }
      for (const key of ["from", "to"].filter((k) => fx.query && k in fx.query)) {
        for (const bad of [...IMPOSSIBLE_DATES, ...IMPOSSIBLE_INSTANTS]) {
          const res = await send(op, fx, pathOf(op, fx.params, { ...fx.query, [key]: bad }), body);
          await judge({ label: `${op} ${key}=${bad}`, expect: ["BAD_REQUEST"], res });
        }
      }
      if (fx.body) {
        const variants: BodyVariant[] = bodyVariants(fx.body as never);
        for (const v of variants) {
          const res = await send(op, fx, pathOf(op, fx.params, fx.query), { text: v.text, type: "application/json" });
          await judge({ label: `${op} ${v.label}`, expect: v.expect, res });
        }
      }
      if (fx.multipart) {
        for (const [name, fileName] of [
          ["NUL byte in filename", '="a\u0000b.png"'],
          ["encoded NUL in filename*", "*=UTF-8''a%00b.png"],
          // Decoded as UTF-8, an encoded surrogate becomes U+FFFD: storable, so it may be accepted.
          ["encoded lone surrogate in filename*", "*=UTF-8''%ED%A0%80.png"],
        ] as const) {
          const form = upload(fileName);
          const res = await send(op, fx, pathOf(op, fx.params), { text: form.body, type: form.contentType });
          await judge({ label: `${op} ${name}`, expect: ["VALIDATION_FAILED", "BAD_REQUEST"], res, mayPass: name.includes("surrogate") });
        }
      }
    }
    console.log(`hostile REST sweep: ${operations.length - 1} operations, ${requests} requests, ${serverErrors} answered 5xx`);
    expect(failures).toEqual([]);
    expect(serverErrors).toBe(0);
    expect(IMPOSSIBLE_CURSORS.map(([name]) => name).filter((name) => !refusedCursors.has(name))).toEqual([]);
    expect(requests).toBeGreaterThan(1000);
  }, 600_000);

  test("each fixture as it is reaches its operation (reads first, then writes, deletes last)", async () => {
    const order = (op: string) => (op.startsWith("GET") ? 0 : op.startsWith("DELETE") ? 2 : 1);
    const refused: string[] = [];
    for (const op of [...operations].sort((a, b) => order(a) - order(b))) {
      const fx = fixtures[op];
      if (!fx || fx.baseline === false) continue;
      const body = fixtureBody(fx);
      const res = await send(op, fx, pathOf(op, fx.params, fx.query), body);
      const text = await res.text();
      // 409 is a business rule (already archived, already submitted): the caller got that far.
      if (res.status >= 300 && res.status !== 409) refused.push(`${op} → ${res.status} ${text.slice(0, 160)}`);
    }
    expect(refused).toEqual([]);
  }, 120_000);
});
