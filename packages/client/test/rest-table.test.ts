import { beforeAll, describe, expect, test } from "bun:test";
import { z } from "zod";
import { toOpenApiPath } from "../../../apps/api/src/openapi/index.ts";
import { useHarness } from "../../../apps/api/test/helpers/harness.ts";
import { operations } from "../src/rest.ts";

/**
 * The client's REST table is typed from the core zod schemas; the server documents its routes from
 * the same schemas. Each row must name a route the server has, with the success statuses it
 * documents and the very body and response schemas it documents — so the table cannot drift.
 */
type Op = {
  requestBody?: { content: { "application/json": { schema: unknown } } };
  responses: Record<string, { content?: { "application/json"?: { schema: unknown } } }>;
  parameters?: { name: string; in: string }[];
};
const h = useHarness();
let doc: { paths: Record<string, Record<string, Op>> };

beforeAll(async () => {
  doc = (await (await h.app.request("/openapi.json")).json()) as typeof doc;
}, 120_000);

const json = (schema: z.ZodType, io: "input" | "output") => {
  const { $schema: _drop, ...rest } = z.toJSONSchema(schema, { io, unrepresentable: "any", target: "draft-2020-12" }) as Record<string, unknown>;
  return rest;
};

describe("the client's REST table against /openapi.json", () => {
  test("every row is a documented operation with the same statuses, body and response schemas", () => {
    const problems: string[] = [];
    for (const [name, row] of Object.entries(operations)) {
      const op = doc.paths[toOpenApiPath(row.path)]?.[row.method.toLowerCase()];
      if (!op) {
        problems.push(`${name}: ${row.method} ${row.path} is not an operation of the API`);
        continue;
      }
      const documented = Object.keys(op.responses)
        .filter((s) => s.startsWith("2"))
        .map(Number)
        .sort();
      if (JSON.stringify([...row.status].sort()) !== JSON.stringify(documented)) problems.push(`${name}: statuses ${row.status} vs documented ${documented}`);
      const body = "body" in row ? row.body : undefined;
      const docBody = op.requestBody?.content["application/json"].schema;
      if (Boolean(body) !== Boolean(docBody)) problems.push(`${name}: body ${body ? "sent" : "not sent"}, ${docBody ? "documented" : "not documented"}`);
      else if (body && JSON.stringify(json(body, "input")) !== JSON.stringify(docBody)) problems.push(`${name}: body schema differs from the documented one`);
      for (const status of row.status) {
        const docResponse = op.responses[String(status)]?.content?.["application/json"]?.schema;
        if (status === 204) continue;
        if (JSON.stringify(json(row.response, "output")) !== JSON.stringify(docResponse))
          problems.push(`${name}: ${status} response schema differs from the documented one`);
      }
      const params = (op.parameters ?? []).filter((p) => p.in === "path").map((p) => p.name);
      const rowParams = [...row.path.matchAll(/:(\w+)/g)].map((m) => m[1]);
      if (JSON.stringify(params) !== JSON.stringify(rowParams)) problems.push(`${name}: path parameters ${rowParams} vs ${params}`);
    }
    expect(problems).toEqual([]);
  });

  test("it covers what the console needs: sessions, classes, alerts, presence, groups, usage, themes, me", () => {
    const paths = new Set(Object.values(operations).map((o) => `${o.method} ${o.path}`));
    for (const needed of [
      "GET /api/me",
      "GET /api/groups/:id/subtree",
      "GET /api/classes/:id/members",
      "GET /api/classes/:id/assignments",
      "GET /api/tools",
      "GET /api/sessions/:id/snapshot",
      "POST /api/sessions/:id/teacher-messages",
      "POST /api/sessions/:id/pause",
      "POST /api/sessions/:id/end",
      "POST /api/alerts/:id/acknowledge",
      "GET /api/classes/:id/presence",
      "GET /api/usage/summary",
      "PATCH /api/groups/:id/theme",
      "GET /api/groups/:id/theme/assets",
    ]) {
      expect({ needed, present: paths.has(needed) }).toEqual({ needed, present: true });
    }
  });
});
