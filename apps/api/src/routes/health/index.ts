import { UnauthenticatedError } from "@raptscallions/core";
import { Hono } from "hono";
import { z } from "zod";
import type { AppEnv } from "../../deps.ts";
import { describeRoute } from "../../openapi/index.ts";

const tags = ["health"];
const readySchema = z.object({
  status: z.enum(["ready", "unavailable"]),
  checks: z.record(z.string(), z.object({ ok: z.boolean(), ms: z.number(), error: z.string().optional() })),
});

/** Liveness, readiness and metrics: what load balancers and Prometheus poll. */
export function healthRoutes() {
  const app = new Hono<AppEnv>();

  app.get(
    "/health",
    describeRoute({
      summary: "Liveness: the process answers",
      tags,
      access: "public (load balancers)",
      responses: { 200: { description: "Alive", schema: z.object({ status: z.literal("ok") }) } },
    }),
    (c) => c.json({ status: "ok" }, 200),
  );

  app.get(
    "/ready",
    describeRoute({
      summary: "Readiness: the database and every configured backing service answer within 2 s",
      tags,
      access: "public (load balancers)",
      responses: { 200: { description: "Ready", schema: readySchema } },
      errors: [503],
    }),
    async (c) => {
      const { db, readiness } = c.var.deps;
      const all = [{ name: "database", check: () => db.ping() }, ...readiness];
      const results = await Promise.all(
        all.map(async ({ name, check }) => {
          const started = performance.now();
          try {
            await withTimeout(check(), 2000);
            return { name, ok: true, ms: Math.round(performance.now() - started) };
          } catch (err) {
            return { name, ok: false, ms: Math.round(performance.now() - started), error: errorMessage(err) };
          }
        }),
      );
      const ok = results.every((r) => r.ok);
      const checks = Object.fromEntries(results.map(({ name, ...rest }) => [name, rest]));
      return c.json({ status: ok ? "ready" : "unavailable", checks }, ok ? 200 : 503);
    },
  );

  app.get(
    "/metrics",
    describeRoute({
      summary: "Prometheus metrics (text exposition format)",
      tags,
      access: "public, or the bearer METRICS_TOKEN when one is set",
      responses: { 200: { description: "Metrics" } },
      errors: [401],
    }),
    async (c) => {
      const { metrics, config } = c.var.deps;
      if (config.metricsToken && c.req.header("authorization") !== `Bearer ${config.metricsToken}`) {
        throw new UnauthenticatedError("Metrics require a bearer token");
      }
      // Rooms this instance holds a fan-out subscription for, read at scrape time.
      metrics.wsRooms.set(c.var.deps.bus.subscribedRooms().length);
      return c.body(await metrics.registry.metrics(), 200, { "content-type": metrics.registry.contentType });
    },
  );

  return app;
}

function withTimeout<T>(p: Promise<T>, ms: number): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const t = setTimeout(() => reject(new Error(`timed out after ${ms} ms`)), ms);
    p.then(
      (v) => {
        clearTimeout(t);
        resolve(v);
      },
      (e) => {
        clearTimeout(t);
        reject(e);
      },
    );
  });
}

function errorMessage(err: unknown): string {
  // Readiness detail is for operators; keep it short and free of connection strings.
  const msg = err instanceof Error ? err.message : String(err);
  return msg.replace(/\w+:\/\/[^\s]+/g, "<url>").slice(0, 200);
}
