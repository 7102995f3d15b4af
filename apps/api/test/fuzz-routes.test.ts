import { beforeAll, describe, expect, test } from "bun:test";
import { makeUser } from "@raptscallions/db/testing";
import { authHeader } from "./helpers/auth.ts";
import { useHarness } from "./helpers/harness.ts";

/**
 * Every operation in the OpenAPI document, called with malformed path parameters, query strings
 * and bodies by a system admin (who gets past every permission check into validation): no
 * answer may be a 5xx, and every error must be the JSON envelope.
 */
const h = useHarness();
let headers: Record<string, string>;
let operations: { method: string; path: string }[] = [];

beforeAll(async () => {
  headers = await authHeader(await makeUser(h.db.db, { isSystemAdmin: true }));
  const doc = (await (await h.app.request("/openapi.json")).json()) as { paths: Record<string, Record<string, unknown>> };
  operations = Object.entries(doc.paths).flatMap(([path, ops]) => Object.keys(ops).map((method) => ({ method: method.toUpperCase(), path })));
}, 120_000);

const PARAM_VALUES = ["x", "00000000-0000-0000-0000-000000000000", crypto.randomUUID(), "%27%3B%20drop%20table%20users%3B--", "9".repeat(400)];
const QUERY = "?limit=-1&cursor=%21%21&from=notadate&to=2026-13-45&groupId=zzz&classId=1&includeInactive=maybe&state=%00&groupBy=nope";
const BODIES: { type?: string; body?: BodyInit }[] = [
  {},
  { type: "application/json", body: "{" },
  { type: "application/json", body: "[]" },
  { type: "application/json", body: "null" },
  { type: "application/json", body: JSON.stringify({ name: 5, settings: "x", definition: [], content: { a: 1 }, clientMessageId: "../..", toolId: "no", limit: 1e308 }) },
  { type: "application/json", body: `${"[".repeat(5000)}${"]".repeat(5000)}` },
  { type: "text/plain", body: "hello" },
  { type: "multipart/form-data; boundary=zzz", body: '--zzz\r\nContent-Disposition: form-data; name="file"; filename="../../x.png"\r\n\r\nnot an image\r\n--zzz--\r\n' },
];

describe("no client mistake reaches a 5xx", () => {
  test("every operation × malformed params, query and bodies", async () => {
    expect(operations.length).toBeGreaterThan(40);
    const failures: string[] = [];
    let calls = 0;
    for (const op of operations) {
      for (const value of PARAM_VALUES) {
        const path = op.path.replace(/\{[^}]+\}/g, value) + QUERY;
        const variants = op.method === "GET" || op.method === "DELETE" ? [{}] : BODIES;
        for (const v of variants) {
          const sent: Record<string, string> = { ...headers };
          if (v.type) sent["content-type"] = v.type;
          const res = await h.app.request(path, { method: op.method, headers: sent, body: v.body });
          calls += 1;
          const text = await res.text();
          const label = `${op.method} ${op.path} [${value.slice(0, 12)}] ${v.type ?? "no body"} → ${res.status}`;
          if (res.status >= 500) failures.push(`${label} ${text.slice(0, 200)}`);
          else if (res.status >= 400) {
            try {
              const body = JSON.parse(text) as { error?: { code?: string; requestId?: string } };
              if (!body.error?.code || !body.error.requestId) failures.push(`${label}: not the error envelope`);
            } catch {
              failures.push(`${label}: non-JSON error body`);
            }
          }
        }
      }
    }
    expect(calls).toBeGreaterThan(500);
    expect(failures).toEqual([]);
  }, 300_000);
});
