import { eventually } from "@raptscallions/core/testing";
import { beforeAll, describe, expect, test } from "bun:test";
import { databaseErrorFrom, type DbHandle } from "@raptscallions/db";
import { createLimitedTestDb, makeSchoolScene, type SchoolScene } from "@raptscallions/db/testing";
import { sql } from "drizzle-orm";
import { type TestApp, useHarness } from "./helpers/harness.ts";
import { call } from "./helpers/security.ts";

/*
 * One database connection held by a statement that never finishes — PGlite in its own process as
 * the server runs it, or a one-connection Postgres pool — must cost only the requests that need
 * that connection, each a 503 in the envelope, while /health answers and /ready says why.
 */

// Longer than /ready's 2 s per-check limit, so readiness sees the connection stuck on both drivers.
const STATEMENT_LIMIT_MS = 3000;
// Generous ceiling for "it answered at all": a wedged event loop never answers.
const ANSWER_WITHIN_MS = 30_000;

const h = useHarness();
let limited: DbHandle;
let s: SchoolScene;
let app: TestApp;

beforeAll(async () => {
  s = await makeSchoolScene(h.db.db);
  limited = await createLimitedTestDb(h.db, { statementTimeoutMs: STATEMENT_LIMIT_MS });
  ({ app } = await h.withApp({ db: limited }));
}, 180_000);
h.beforeClose(() => limited.close());

function answered<T>(p: T | Promise<T>, what: string): Promise<T> {
  return Promise.race([Promise.resolve(p), Bun.sleep(ANSWER_WITHIN_MS).then(() => Promise.reject(new Error(`${what} did not answer`)))]);
}

async function untilReady() {
  await eventually(async () => (await app.request("/ready")).status === 200, "the database to come back (/ready 200)", 60_000, 250);
}

describe("a statement that never finishes", () => {
  test("fails with DATABASE_TIMEOUT; /health answers and /ready is 503 meanwhile; the database comes back", async () => {
    const stuck = limited.db.execute(sql`select pg_sleep(600)`).then(
      () => undefined,
      (err: unknown) => err,
    );
    await Bun.sleep(100);

    const health = await answered(app.request("/health"), "/health");
    expect(health.status).toBe(200);

    const ready = await answered(app.request("/ready"), "/ready");
    expect(ready.status).toBe(503);
    const body = (await ready.json()) as { status: string; checks: { database: { ok: boolean; error?: string } } };
    expect(body.status).toBe("unavailable");
    expect(body.checks.database.ok).toBe(false);
    expect(body.checks.database.error).toBeString();

    const err = await answered(stuck, "the stuck statement");
    expect(databaseErrorFrom(err)?.code).toBe("DATABASE_TIMEOUT");

    await untilReady();
    const after = await call(app, "PATCH", `/api/groups/${s.school.id}`, { as: s.schoolAdmin, body: { name: "Renamed after the stall" } });
    expect(after.status).toBe(200);
  }, 120_000);

  test("a request queued behind it gets a 503 in the envelope, never a hang, a 404 or a 500", async () => {
    const stuck = limited.db.execute(sql`select pg_sleep(600)`).catch(() => undefined);
    await Bun.sleep(100);
    const res = await answered(
      call<{ error: { code: string; message: string } }>(app, "PATCH", `/api/groups/${s.school.id}`, { as: s.schoolAdmin, body: { name: "Renamed during the stall" } }),
      "PATCH",
    );
    await stuck;
    if (limited.driver === "postgres") {
      // A Postgres connection is free again once the stuck statement is cancelled.
      expect(res.status).toBe(200);
    } else {
      // The embedded database is restarted after its watchdog fires; whatever waited for it fails.
      expect(res.status).toBe(503);
      expect(["DATABASE_TIMEOUT", "DATABASE_UNAVAILABLE"]).toContain(res.body.error.code);
      expect(res.body.error.message).not.toContain("pg_sleep");
    }
    await untilReady();
  }, 120_000);
});

describe.skipIf(!process.env.TEST_DATABASE_URL)("Postgres time limits reach the client as 503s", () => {
  test("an UPDATE waiting on a row lock past lock_timeout is 503 DATABASE_TIMEOUT with Retry-After", async () => {
    const locking = await createLimitedTestDb(h.db, { statementTimeoutMs: 10_000, lockTimeoutMs: 300 });
    const { app: lockedApp } = await h.withApp({ db: locking });
    try {
      let release = () => {};
      const held = new Promise<void>((r) => (release = r));
      const holder = h.db.db.transaction(async (tx) => {
        await tx.execute(sql`select 1 from groups where id = ${s.department.id} for update`);
        await held;
      });
      await Bun.sleep(100);
      const res = await call<{ error: { code: string; message: string } }>(lockedApp, "PATCH", `/api/groups/${s.department.id}`, {
        as: s.schoolAdmin,
        body: { name: "Blocked by a lock" },
      });
      release();
      await holder;
      expect(res.status).toBe(503);
      expect(res.body.error.code).toBe("DATABASE_TIMEOUT");
      expect(res.headers.get("retry-after")).toBe("2");
    } finally {
      await locking.close();
    }
  }, 60_000);

  test("statement_timeout is set on every pooled connection", async () => {
    const rows = await limited.db.execute(sql`select current_setting('statement_timeout') as st, current_setting('lock_timeout') as lt`);
    expect(Array.from(rows as Iterable<Record<string, string>>)[0]).toEqual({ st: "3s", lt: "0" });
  });
});
